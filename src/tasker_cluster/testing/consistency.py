"""Compare what every orchestration instance reports about one task."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tasker_cluster.client.api import ApiMethods, UuidLike
from tasker_cluster.client.models import Task
from tasker_cluster.client.transitions import TaskTransition
from tasker_cluster.testing.errors import InconsistentStateError


@dataclass(frozen=True)
class TaskSnapshot:
    """A task and its transitions as one instance reported them."""

    task: Task
    transitions: tuple[TaskTransition, ...]

    def compared_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "status": self.task.status,
            "total_steps": self.task.total_steps,
            "completed_steps": self.task.completed_steps,
            "failed_steps": self.task.failed_steps,
            "step names": sorted(step.name for step in self.task.steps),
        }
        for step in sorted(self.task.steps, key=lambda s: s.name):
            fields[f"steps[{step.name}].current_state"] = step.current_state
            fields[f"steps[{step.name}].step_uuid"] = str(step.step_uuid)
        fields["transitions"] = [(t.from_state, t.to_state, t.sort_key) for t in self.transitions]
        return fields


async def snapshot(client: ApiMethods, task_uuid: UuidLike) -> TaskSnapshot:
    task, transitions = await asyncio.gather(
        client.get_task(task_uuid), client.task_transitions(task_uuid)
    )
    return TaskSnapshot(task, transitions)


async def verify_consistency(
    clients: Sequence[ApiMethods], labels: Mapping[int, str], task_uuid: UuidLike
) -> TaskSnapshot:
    """Raise `InconsistentStateError` at the first field where an instance disagrees.

    `labels[i]` names client i in the error (e.g. "orchestration-2 (http://...)").
    Compare terminal tasks: a task that is still moving may change between two reads.
    """
    snapshots = await asyncio.gather(*(snapshot(client, task_uuid) for client in clients))
    reference = snapshots[0].compared_fields()
    for index, other in enumerate(snapshots[1:], start=1):
        fields = other.compared_fields()
        for name in sorted(reference.keys() | fields.keys(), key=_field_order):
            if reference.get(name) != fields.get(name):
                raise InconsistentStateError(
                    str(task_uuid),
                    name,
                    (labels.get(0, "instance 0"), reference.get(name)),
                    (labels.get(index, f"instance {index}"), fields.get(name)),
                )
    return snapshots[0]


def _field_order(name: str) -> tuple[int, str]:
    order = ("status", "total_steps", "completed_steps", "failed_steps", "step names")
    return (order.index(name), "") if name in order else (len(order), name)
