"""Turn what a run observed into a `LoadReport`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from tasker_cluster.load.report import (
    Cost,
    FaultRecord,
    LoadReport,
    OrchestrationStats,
    WorkerStats,
)
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.stats import LatencySummary, rate
from tasker_cluster.load.tracking import TrackedTask, Tracker
from tasker_cluster.load.verifier import Verification
from tasker_cluster.states import TaskState


def completion_window(tasks: Sequence[TrackedTask]) -> float:
    """Seconds from the first creation to the last completion, by the service's clock."""
    created = [t.created_at for t in tasks if t.created_at is not None]
    completed = [t.completed_at for t in tasks if t.completed_at is not None]
    if not created or not completed:
        return 0.0
    return max(0.0, (_utc(max(completed)) - _utc(min(created))).total_seconds())


def latencies_ms(tasks: Sequence[TrackedTask]) -> list[float]:
    return [
        (_utc(t.completed_at) - _utc(t.created_at)).total_seconds() * 1000.0
        for t in tasks
        if t.status == TaskState.COMPLETE
        and t.created_at is not None
        and t.completed_at is not None
    ]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def build_report(  # noqa: PLR0913 - every figure a report is built from
    *,
    spec: LoadSpec,
    target: str,
    started_at: str,
    elapsed_s: float,
    tracker: Tracker,
    verification: Verification,
    instance_ids: Mapping[str, str],
    request_counts: Mapping[str, int],
    worker_ids: Sequence[str],
    faults: Sequence[FaultRecord],
    follow_cost: Cost,
) -> LoadReport:
    tasks = tracker.tasks
    complete = [t for t in tasks if t.status == TaskState.COMPLETE]
    failed = [t for t in tasks if t.terminal and t.status != TaskState.COMPLETE]
    window = completion_window(complete) or elapsed_s
    steps_completed = sum(t.step_count for t in complete)
    created_by: Counter[int] = Counter(t.created_by for t in tasks)
    orchestration = tuple(
        OrchestrationStats(
            instance_id=instance_ids.get(url, url),
            url=url,
            requests_served=request_counts.get(url, 0),
            tasks_created=created_by.get(index, 0),
            tasks_finalized=verification.finalized_by.get(instance_ids.get(url, url), 0),
        )
        for index, url in enumerate(instance_ids)
    )
    workers = sorted({*worker_ids, *verification.steps_by_worker})
    return LoadReport(
        spec=spec,
        target=target,
        started_at=started_at,
        elapsed_s=round(elapsed_s, 3),
        timed_out=not tracker.finished,
        tasks_created=len(tasks),
        create_errors=tracker.create_errors,
        create_error_examples=tuple(tracker.create_error_examples),
        tasks_completed=len(complete),
        tasks_failed=len(failed),
        tasks_unfinished=len(tasks) - len(complete) - len(failed),
        steps_completed=steps_completed,
        tasks_per_s=round(rate(len(complete), window), 2),
        steps_per_s=round(rate(steps_completed, window), 2),
        latency=LatencySummary.of(latencies_ms(complete)),
        orchestration=orchestration,
        workers=tuple(WorkerStats(w, verification.steps_by_worker.get(w, 0)) for w in workers),
        invariants=verification.invariants,
        faults=tuple(faults),
        follow_cost=follow_cost,
        verify_cost=verification.cost,
    )
