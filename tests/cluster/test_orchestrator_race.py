"""Several orchestration instances see the same tasks and finalize each exactly once."""

from __future__ import annotations

import asyncio

import pytest

from tasker_cluster.exactly_once import completed_once
from tasker_cluster.testing import MultiInstanceTestManager, TaskRequest

from .invariants import completions, task_histories

TASKS = 4


@pytest.mark.multi_instance
async def test_tasks_created_on_one_instance_complete_exactly_once(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    cluster = tasker_cluster.cluster
    first = cluster.client(0)
    created = [await first.create_task(TaskRequest.diamond(2 * n)) for n in range(1, TASKS + 1)]
    uuids = [c.task_uuid for c in created]

    for index, client in enumerate(cluster.all_clients()):
        seen = await asyncio.gather(*(client.get_task(u) for u in uuids))
        assert [t.task_uuid for t in seen] == uuids, tasker_cluster.instance_label(index)

    finals = await tasker_cluster.wait_for_task_completions(uuids, timeout=60)
    ended = {str(u): t.status for u, t in finals.items() if t.status != "complete"}
    assert not ended, f"tasks that did not complete: {ended}"
    histories = await task_histories(first, uuids)
    finalized_twice = {
        str(u): completions(h) for u, h in histories.items() if not completed_once(h)
    }
    assert not finalized_twice, (
        "tasks not finalized exactly once (orchestration instances that moved them to "
        f"complete): {finalized_twice}"
    )
    for task_uuid in uuids:
        await tasker_cluster.verify_task_consistency(task_uuid)
