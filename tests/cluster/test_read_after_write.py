"""What one instance reports, every other instance reports too, at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from tasker_cluster.testing import (
    InstanceClient,
    MultiInstanceTestManager,
    TaskRequest,
    TaskTransition,
)

from .invariants import poll_until


@pytest.mark.multi_instance
async def test_every_instance_reads_what_another_just_wrote(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    cluster = tasker_cluster.cluster
    label = tasker_cluster.instance_label
    for writer_index, writer in enumerate(cluster.all_clients()):
        created = await writer.create_task(TaskRequest.mathematical_sequence(2))
        others = [(i, c) for i, c in enumerate(cluster.all_clients()) if i != writer_index]
        fresh = await asyncio.gather(*(c.get_task(created.task_uuid) for _, c in others))
        for (index, _), task in zip(others, fresh, strict=True):
            assert task.total_steps == created.step_count, (
                f"{label(index)} reports {task.total_steps} steps for task {created.task_uuid} "
                f"that {label(writer_index)} created with {created.step_count}"
            )

        check = completed(writer, created.task_uuid)
        await poll_until(check, 60, f"completion of task {created.task_uuid}")
        after = await asyncio.gather(*(c.get_task(created.task_uuid) for _, c in others))
        stale = {label(i): t.status for (i, _), t in zip(others, after, strict=True)}
        stale = {name: status for name, status in stale.items() if status != "complete"}
        assert not stale, (
            f"right after {label(writer_index)} recorded task {created.task_uuid} as complete, "
            f"other instances still report: {stale}"
        )


def completed(
    client: InstanceClient, task_uuid: uuid.UUID
) -> Callable[[], Awaitable[TaskTransition | None]]:
    """A check for the task's `complete` transition as `client` records it (never cached)."""

    async def check() -> TaskTransition | None:
        history = await client.task_transitions(task_uuid)
        return history[-1] if history and history[-1].to_state == "complete" else None

    return check
