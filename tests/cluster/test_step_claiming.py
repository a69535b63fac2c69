"""Workers competing for the steps of one fan-out task claim each step exactly once."""

from __future__ import annotations

from tasker_cluster.exactly_once import claimed_once, claims
from tasker_cluster.testing import MultiInstanceTestManager, TaskRequest

from .invariants import describe, not_complete, step_audits

WIDTH = 12
STEP_SLEEP_MS = 100


async def test_each_parallel_step_is_claimed_exactly_once(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    cluster = tasker_cluster.cluster
    created = await cluster.create_task(TaskRequest.fan_out(WIDTH, sleep_ms=STEP_SLEEP_MS))
    task = await tasker_cluster.wait_for_task_completion(created.task_uuid, timeout=60)
    steps = await cluster.list_steps(created.task_uuid)

    assert task.status == "complete", f"fan-out task {task.task_uuid} ended {task.status!r}"
    assert len(steps) == WIDTH + 1, [s.name for s in steps]
    assert not not_complete(steps), f"steps not complete: {not_complete(steps)}"
    audits = await step_audits(cluster, created.task_uuid, steps)
    claimed_twice = {
        name: describe(claims(audit)) for name, audit in audits.items() if not claimed_once(audit)
    }
    assert not claimed_twice, (
        f"{len(claimed_twice)} of {len(steps)} steps were not claimed exactly once "
        f"(in_progress transitions, redeliveries excluded): {claimed_twice}"
    )
    if tasker_cluster.worker_count >= 2:
        workers = {s.processor_uuid for s in steps if s.name.startswith("fan_out_")}
        assert len(workers) > 1, (
            f"all {WIDTH} parallel steps ran on {workers}; expected them spread over "
            f"{tasker_cluster.worker_count} workers"
        )
