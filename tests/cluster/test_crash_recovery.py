"""Killed instances lose no work: every task still completes, exactly once."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Sequence

import pytest

from tasker_cluster.exactly_once import completed_once, redeliveries
from tasker_cluster.states import TASK_TERMINAL, StepState
from tasker_cluster.testing import (
    InstanceUnreachableError,
    MultiInstanceTestManager,
    OrchestrationCluster,
    Step,
    TaskCreated,
    TaskRequest,
    TaskTimeoutError,
)

from .invariants import completions, poll_until, step_audits, task_histories

STEP_SECONDS = 2.0
BURST_WAVE = 3  # tasks per orchestration instance in each wave


def require_fault_injection(manager: MultiInstanceTestManager) -> None:
    if not manager.can_inject_faults:
        pytest.skip("kills instances: attach through the cluster directory (TASKER_CLUSTER_DIR)")


async def test_worker_killed_mid_step_loses_no_task(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    require_fault_injection(tasker_cluster)
    cluster = tasker_cluster.cluster
    workers = set(tasker_cluster.worker_instance_ids)
    requests = [TaskRequest.sleep(STEP_SECONDS) for _ in range(2 * len(workers))]
    created = await tasker_cluster.create_tasks_concurrent(requests)

    async def paused_mid_step() -> tuple[TaskCreated, Step, str] | None:
        """A worker frozen (SIGSTOP) while a step of ours is in progress on it."""
        for task in created:
            for step in await cluster.list_steps(task.task_uuid):
                worker = step.processor_uuid or ""
                if step.current_state != StepState.IN_PROGRESS or worker not in workers:
                    continue
                tasker_cluster.pause_instance(worker)
                now = await cluster.get_step(task.task_uuid, step.step_uuid)
                if now.current_state == StepState.IN_PROGRESS and now.processor_uuid == worker:
                    return task, step, worker
                tasker_cluster.resume_instance(worker)
        return None

    task, step, victim = await poll_until(paused_mid_step, 30, "a worker running a sleep step")
    tasker_cluster.kill_instance(victim)
    await tasker_cluster.restart_instance(victim)
    uuids = [c.task_uuid for c in created]
    try:
        finals = await tasker_cluster.wait_for_task_completions(uuids, timeout=60)
    except TaskTimeoutError as error:
        pytest.fail(f"after {victim} was killed running step {step.step_uuid}: {error}")

    ended = {str(u): t.status for u, t in finals.items() if t.status != "complete"}
    assert not ended, f"tasks that did not complete after {victim} was killed: {ended}"
    histories = await task_histories(cluster, uuids)
    twice = {str(u): completions(h) for u, h in histories.items() if not completed_once(h)}
    assert not twice, f"tasks not completed exactly once: {twice}"
    audit = (await step_audits(cluster, task.task_uuid, [step]))[step.name]
    assert completed_once(audit), f"step {step.step_uuid} completed {completions(audit)}"
    assert redeliveries(audit), (
        f"step {step.step_uuid} of killed {victim} completed without being redelivered: "
        f"{[(t.from_state, t.to_state, t.worker_uuid) for t in audit]}"
    )


@pytest.mark.multi_instance
async def test_orchestration_killed_during_a_burst_loses_no_task(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    require_fault_injection(tasker_cluster)
    cluster = tasker_cluster.cluster
    ids = tasker_cluster.orchestration_ids
    reader = cluster.client(0)  # never the victim: it answers every read of this test
    first_wave = await create_spread(cluster, range(len(ids)), BURST_WAVE * len(ids))

    async def paused_owner_of_a_running_task() -> tuple[uuid.UUID, str] | None:
        """An instance frozen (SIGSTOP) while the latest move of a running task is its own."""
        histories = await task_histories(reader, first_wave)
        for task_uuid, history in histories.items():
            owner = history[-1].processor
            if owner in ids[1:] and history[-1].to_state not in TASK_TERMINAL:
                tasker_cluster.pause_instance(owner)
                latest = (await reader.task_transitions(task_uuid))[-1]
                if latest.processor == owner and latest.to_state not in TASK_TERMINAL:
                    return task_uuid, owner
                tasker_cluster.resume_instance(owner)
        if all(h[-1].to_state in TASK_TERMINAL for h in histories.values()):
            first_wave.extend(await create_spread(cluster, range(len(ids)), len(ids)))
        return None

    owned, victim = await poll_until(
        paused_owner_of_a_running_task, 30, "an orchestration instance owning a running task"
    )
    victim_index = ids.index(victim)
    tasker_cluster.kill_instance(victim)
    try:
        survivors = [i for i in range(len(ids)) if i != victim_index]
        second_wave = await create_spread(cluster, survivors, BURST_WAVE * len(ids))
        uuids = [*first_wave, *second_wave]
        try:
            finals = await tasker_cluster.wait_for_task_completions(uuids, timeout=60)
        except TaskTimeoutError as error:
            pytest.fail(f"after {victim} was killed owning task {owned}: {error}")
    finally:
        await tasker_cluster.restart_instance(victim)

    ended = {str(u): t.status for u, t in finals.items() if t.status != "complete"}
    assert not ended, f"tasks that did not complete after {victim} was killed: {ended}"
    histories = await task_histories(cluster.client(0), uuids)
    twice = {str(u): completions(h) for u, h in histories.items() if not completed_once(h)}
    assert not twice, f"tasks not completed exactly once: {twice}"
    finisher = completions(histories[owned])[0]
    assert finisher != victim, f"task {owned} was completed by {finisher}, the killed instance"
    for task_uuid in uuids:
        await tasker_cluster.verify_task_consistency(task_uuid)


async def create_spread(
    cluster: OrchestrationCluster, indices: Sequence[int], count: int
) -> list[uuid.UUID]:
    """Create fan-out tasks concurrently, round robin over the instances at `indices`."""
    targets = itertools.cycle(indices)
    requests = [(next(targets), TaskRequest.fan_out(3, sleep_ms=300)) for _ in range(count)]

    async def create(index: int, request: TaskRequest) -> uuid.UUID:
        try:
            return (await cluster.client(index).create_task(request)).task_uuid
        except InstanceUnreachableError as error:
            raise AssertionError(f"creating a task on instance {index} failed: {error}") from error

    return list(await asyncio.gather(*(create(i, r) for i, r in requests)))
