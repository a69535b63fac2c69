"""Writing tasks: creation in one transaction, and the task compare-and-swap."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...api.task_request import TaskRequest
from ...states import TASK_TERMINAL, StepState, TaskState
from ..templates import StepSpec
from .database import Transaction, insert_rows
from .queue import TASKS_DUE
from .transitions import StepTransition, record_step_transitions, record_task_transitions

STEP_COLUMNS = (
    "step_uuid",
    "task_uuid",
    "name",
    "handler",
    "position",
    "dependencies",
    "current_state",
    "attempts",
    "max_attempts",
    "retryable",
    "retry_backoff_ms",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class NewTask:
    task_uuid: str
    request: TaskRequest
    steps: Sequence[StepSpec]
    identity_hash: str


def insert_task(
    transaction: Transaction, task: NewTask, processor: str | None, now: float
) -> dict[str, str]:
    """Task, steps and their first transitions; returns the step mapping (name to uuid)."""
    request = task.request
    transaction.execute(
        "INSERT INTO tasks (task_uuid, name, namespace, version, status, context, initiator,"
        " source_system, reason, tags, priority, correlation_id, parent_correlation_id, options,"
        " requested_at, idempotency_key, identity_hash, created_at, updated_at, work_after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            task.task_uuid,
            request.name,
            request.namespace,
            request.version,
            TaskState.PENDING.value,
            json.dumps(dict(request.context)),
            request.initiator,
            request.source_system,
            request.reason,
            json.dumps(list(request.tags)),
            request.priority,
            str(request.correlation_id),
            None if request.parent_correlation_id is None else str(request.parent_correlation_id),
            None if request.options is None else json.dumps(dict(request.options)),
            request.requested_at.timestamp(),
            request.idempotency_key,
            task.identity_hash,
            now,
            now,
            now,
        ),
    )
    mapping = {spec.name: str(uuid.uuid4()) for spec in task.steps}
    insert_rows(
        transaction,
        "workflow_steps",
        STEP_COLUMNS,
        [
            (
                mapping[spec.name],
                task.task_uuid,
                spec.name,
                spec.handler,
                position,
                json.dumps(list(spec.dependencies)),
                StepState.PENDING.value,
                0,
                spec.max_attempts,
                spec.retryable,
                spec.retry_backoff_ms,
                now,
                now,
            )
            for position, spec in enumerate(task.steps)
        ],
    )
    record_task_transitions(
        transaction,
        task.task_uuid,
        [(None, TaskState.PENDING)],
        processor=processor,
        now=now,
        initial=True,
    )
    record_step_transitions(
        transaction,
        [
            StepTransition(step_uuid, task.task_uuid, None, StepState.PENDING, processor)
            for step_uuid in mapping.values()
        ],
        now,
        initial=True,
    )
    transaction.announce_work(TASKS_DUE)  # due at once (`work_after`), for any orchestration
    return mapping


def move_task(
    transaction: Transaction,
    *,
    task_uuid: str,
    expected: str,
    route: Sequence[str],
    processor: str | None,
    now: float,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Compare-and-swap the task from `expected` along `route`; False if it was not `expected`."""
    if not route:
        return True
    final = route[-1]
    completed_at = now if final in TASK_TERMINAL else None
    changed = transaction.execute(
        "UPDATE tasks SET status = ?, updated_at = ?, completed_at = COALESCE(?, completed_at)"
        " WHERE task_uuid = ? AND status = ?",
        (final, now, completed_at, task_uuid, expected),
    )
    if changed != 1:
        return False
    pairs: list[tuple[str | None, str]] = list(zip([expected, *route[:-1]], route, strict=True))
    record_task_transitions(
        transaction, task_uuid, pairs, processor=processor, now=now, metadata=metadata
    )
    return True
