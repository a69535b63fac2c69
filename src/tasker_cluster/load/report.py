"""`LoadReport`: everything a load run measured and checked, and its JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tasker_cluster.load.invariants import Violation
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.stats import LatencySummary

MAX_EXAMPLES = 10


@dataclass(frozen=True)
class OrchestrationStats:
    instance_id: str
    url: str
    requests_served: int
    tasks_created: int
    tasks_finalized: int


@dataclass(frozen=True)
class WorkerStats:
    worker_id: str
    steps_run: int


@dataclass(frozen=True)
class InvariantResult:
    name: str
    description: str
    violations: int
    examples: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return self.violations == 0


@dataclass(frozen=True)
class FaultRecord:
    """One injected fault; offsets are seconds since the run started."""

    offset_s: float
    action: str
    service: str
    instance_id: str
    restored_offset_s: float | None
    error: str | None = None


@dataclass(frozen=True)
class Cost:
    requests: int
    seconds: float


@dataclass(frozen=True)
class LoadReport:
    spec: LoadSpec
    target: str
    started_at: str
    elapsed_s: float
    timed_out: bool
    tasks_created: int
    create_errors: int
    create_error_examples: tuple[str, ...]
    tasks_completed: int
    tasks_failed: int
    tasks_unfinished: int
    steps_completed: int
    tasks_per_s: float
    steps_per_s: float
    latency: LatencySummary | None
    orchestration: tuple[OrchestrationStats, ...]
    workers: tuple[WorkerStats, ...]
    invariants: tuple[InvariantResult, ...]
    faults: tuple[FaultRecord, ...]
    follow_cost: Cost
    verify_cost: Cost

    @property
    def broken_invariants(self) -> list[str]:
        return [result.name for result in self.invariants if not result.ok]

    @property
    def ok(self) -> bool:
        return not self.broken_invariants and self.create_errors == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spec"] = self.spec.to_dict()
        data["latency"] = None if self.latency is None else self.latency.to_dict()
        data["ok"] = self.ok
        data["broken_invariants"] = self.broken_invariants
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadReport:
        return cls(
            spec=LoadSpec.from_dict(data["spec"]),
            target=str(data["target"]),
            started_at=str(data["started_at"]),
            elapsed_s=float(data["elapsed_s"]),
            timed_out=bool(data["timed_out"]),
            tasks_created=int(data["tasks_created"]),
            create_errors=int(data["create_errors"]),
            create_error_examples=tuple(str(e) for e in data["create_error_examples"]),
            tasks_completed=int(data["tasks_completed"]),
            tasks_failed=int(data["tasks_failed"]),
            tasks_unfinished=int(data["tasks_unfinished"]),
            steps_completed=int(data["steps_completed"]),
            tasks_per_s=float(data["tasks_per_s"]),
            steps_per_s=float(data["steps_per_s"]),
            latency=LatencySummary.from_dict(data["latency"]),
            orchestration=tuple(OrchestrationStats(**row) for row in data["orchestration"]),
            workers=tuple(WorkerStats(**row) for row in data["workers"]),
            invariants=tuple(
                InvariantResult(
                    name=row["name"],
                    description=row["description"],
                    violations=int(row["violations"]),
                    examples=tuple(Violation(**example) for example in row["examples"]),
                )
                for row in data["invariants"]
            ),
            faults=tuple(FaultRecord(**row) for row in data["faults"]),
            follow_cost=Cost(**data["follow_cost"]),
            verify_cost=Cost(**data["verify_cost"]),
        )
