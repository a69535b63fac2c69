"""A step result delivered twice is applied once."""

from __future__ import annotations

import pytest

from tasker_cluster.exactly_once import completed_once
from tasker_cluster.testing import MultiInstanceTestManager, TaskRequest

from .invariants import completions, not_complete, orchestration_total, step_audits, worker_total

WIDTH = 4


async def test_a_result_delivered_twice_is_applied_once(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    if not tasker_cluster.can_inject_faults:
        pytest.skip("needs to restart workers: attach through the cluster directory")
    cluster = tasker_cluster.cluster
    workers = tasker_cluster.worker_instance_ids
    if not workers:
        pytest.skip("the cluster has no workers")
    session_faults = tasker_cluster.instance_environment().get("TASKER_FAULTS", "")
    faults = ",".join(filter(None, [session_faults, "duplicate_results"]))

    async with tasker_cluster.restarted_with_env(workers, {"TASKER_FAULTS": faults}):
        duplicates_before = await orchestration_total(cluster, "tasker_duplicate_results_total")
        sent_before = await worker_total(cluster.all_workers(), "tasker_step_results_sent_total")
        created = await cluster.create_task(TaskRequest.fan_out(WIDTH))
        task = await tasker_cluster.wait_for_task_completion(created.task_uuid, timeout=60)
        sent = await worker_total(cluster.all_workers(), "tasker_step_results_sent_total")
        duplicates = await orchestration_total(cluster, "tasker_duplicate_results_total")

    steps = await cluster.list_steps(created.task_uuid)
    assert task.status == "complete", f"task {task.task_uuid} ended {task.status!r}"
    assert not not_complete(steps), f"steps not complete: {not_complete(steps)}"
    audits = await step_audits(cluster, created.task_uuid, steps)
    applied_twice = {n: completions(a) for n, a in audits.items() if not completed_once(a)}
    assert not applied_twice, (
        f"step results applied more than once (workers whose result moved the step to "
        f"complete): {applied_twice}"
    )
    assert sent - sent_before == 2 * len(steps), (
        f"workers sent {sent - sent_before:g} results for {len(steps)} steps; the "
        "duplicate_results stressor should send each twice"
    )
    assert duplicates - duplicates_before >= len(steps), (
        f"orchestration recognised {duplicates - duplicates_before:g} duplicate results; "
        f"expected one per step ({len(steps)})"
    )
