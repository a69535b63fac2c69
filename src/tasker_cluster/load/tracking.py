"""The shared record of a run's tasks: created, seen terminal, or still outstanding."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from tasker_cluster.states import TASK_TERMINAL


@dataclass
class TrackedTask:
    task_uuid: str
    step_count: int
    created_by: int
    status: str = "created"
    created_at: datetime | None = None
    completed_at: datetime | None = None
    lost: bool = False
    steps: dict[str, str] = field(default_factory=dict)  # step uuid -> step name

    @property
    def terminal(self) -> bool:
        return self.status in TASK_TERMINAL


@dataclass(frozen=True)
class Progress:
    """A snapshot for progress displays; `tasks_per_s` counts finished tasks."""

    phase: str
    total: int
    created: int
    completed: int
    failed: int
    create_errors: int
    elapsed_s: float
    tasks_per_s: float
    faults: int


@dataclass
class Tracker:
    """Tasks in creation order; what the creator, follower and progress display share."""

    total: int
    started: float = field(default_factory=time.monotonic)
    tasks: list[TrackedTask] = field(default_factory=list)
    create_errors: int = 0
    create_error_examples: list[str] = field(default_factory=list)
    creating_done: bool = False

    def add(self, task: TrackedTask) -> None:
        self.tasks.append(task)

    def outstanding(self) -> list[TrackedTask]:
        return [task for task in self.tasks if not task.terminal and not task.lost]

    @property
    def finished(self) -> bool:
        return self.creating_done and not self.outstanding()

    def progress(self, phase: str, faults: int = 0) -> Progress:
        completed = sum(1 for task in self.tasks if task.status == "complete")
        failed = sum(1 for task in self.tasks if task.terminal and task.status != "complete")
        elapsed = time.monotonic() - self.started
        return Progress(
            phase=phase,
            total=self.total,
            created=len(self.tasks),
            completed=completed,
            failed=failed,
            create_errors=self.create_errors,
            elapsed_s=elapsed,
            tasks_per_s=(completed + failed) / elapsed if elapsed > 0 else 0.0,
            faults=faults,
        )
