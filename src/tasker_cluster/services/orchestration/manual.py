"""`PATCH /v1/tasks/{uuid}/workflow_steps/{step_uuid}`: upstream's `StepManualAction`.

`resolve_manually` and `complete_manually` move a step that is not terminal to
`resolved_manually` or `complete` (with the operator's result); `reset_for_retry` moves an
`error` step back to `pending` with its attempts at 0. Each is a compare-and-swap on the
step's state, recorded as a transition whose metadata names the operator and the reason; the
task is then due for evaluation, so its owner carries on from there. Resetting a step of a
task that ended in `error` reopens the task too (`error -> pending`, tasker-core's reset), so
the orchestration runs it again from the steps that are not done.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ...states import STEP_TERMINAL, TASK_TERMINAL, StepState, TaskState
from ..errors import InvalidFieldError, StepStateConflictError
from ..store.database import Transaction
from ..store.queue import TASKS_DUE
from ..store.tasks import move_task
from ..store.transitions import StepTransition, record_step_transitions
from . import tasks_api
from .state import OrchestrationState
from .validation import decode_json

ACTIONS = {
    "reset_for_retry": "reset_by",
    "resolve_manually": "resolved_by",
    "complete_manually": "completed_by",
}


@dataclass(frozen=True)
class ManualAction:
    action_type: str
    reason: str
    operator: str
    result: Any = None
    metadata: Any = None


def parse_manual_action(body: bytes) -> ManualAction:
    data = decode_json(body)
    if not isinstance(data, dict):
        raise InvalidFieldError("body", "a JSON object (a StepManualAction)", data)
    action = data.get("action_type")
    if action not in ACTIONS:
        raise InvalidFieldError("action_type", "one of " + ", ".join(ACTIONS), action)
    texts: dict[str, str] = {}
    for name in ("reason", ACTIONS[action]):
        value = data.get(name)
        if not isinstance(value, str):
            raise InvalidFieldError(name, "a string", value, missing=name not in data)
        texts[name] = value
    result: Any = None
    metadata: Any = None
    if action == "complete_manually":
        completion = data.get("completion_data")
        if not isinstance(completion, dict) or "result" not in completion:
            raise InvalidFieldError(
                "completion_data",
                "an object with a result",
                completion,
                missing="completion_data" not in data,
            )
        result, metadata = completion["result"], completion.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidFieldError("completion_data.metadata", "an object or null", metadata)
    return ManualAction(action, texts["reason"], texts[ACTIONS[action]], result, metadata)


def _target(action: ManualAction, step_uuid: str, current: str) -> StepState:
    """The state the action moves the step to; 409 when its current state does not allow it."""
    if action.action_type == "reset_for_retry":
        if current != StepState.ERROR:
            raise StepStateConflictError(step_uuid, action.action_type, current, "a step in error")
        return StepState.PENDING
    if current in STEP_TERMINAL:
        raise StepStateConflictError(
            step_uuid, action.action_type, current, "a step that is not terminal"
        )
    if action.action_type == "resolve_manually":
        return StepState.RESOLVED_MANUALLY
    return StepState.COMPLETE


def apply_manual_action(
    transaction: Transaction,
    *,
    task_uuid: str,
    step_uuid: str,
    action: ManualAction,
    processor: str | None,
    now: float,
) -> None:
    step = tasks_api._require_step(transaction, task_uuid, step_uuid)
    current = step["current_state"]
    target = _target(action, step_uuid, current)
    done = target in STEP_TERMINAL
    results = json.dumps(action.result) if action.action_type == "complete_manually" else None
    changed = transaction.execute(
        "UPDATE workflow_steps SET current_state = ?, updated_at = ?,"
        " completed_at = CASE WHEN ? THEN ? ELSE completed_at END,"
        " results = COALESCE(?, results), claim_token = NULL, claim_expires_at = NULL,"
        " next_retry_at = NULL,"
        " attempts = CASE WHEN ? THEN 0 ELSE attempts END,"
        " last_error = CASE WHEN ? THEN NULL ELSE last_error END"
        " WHERE step_uuid = ? AND current_state = ?",
        (
            target,
            now,
            done,
            now,
            results,
            target == StepState.PENDING,
            target == StepState.PENDING,
            step_uuid,
            current,
        ),
    )
    if changed != 1:
        raise StepStateConflictError(
            step_uuid, action.action_type, current, "a step that did not change meanwhile"
        )
    metadata: dict[str, Any] = {
        "manual": action.action_type,
        "reason": action.reason,
        "operator": action.operator,
    }
    if action.action_type == "complete_manually":
        metadata.update(result=action.result, operator_metadata=action.metadata)
    record_step_transitions(
        transaction,
        [
            StepTransition(
                step_uuid,
                task_uuid,
                current,
                target,
                processor,
                success=True if action.action_type == "complete_manually" else None,
                metadata=metadata,
            )
        ],
        now,
    )
    if target == StepState.PENDING:
        _reopen_failed_task(transaction, task_uuid, action, processor, now)
    placeholders = ", ".join("?" for _ in TASK_TERMINAL)
    transaction.execute(
        f"UPDATE tasks SET work_after = ?, updated_at = ? WHERE task_uuid = ?"
        f" AND status NOT IN ({placeholders})",
        (now, now, task_uuid, *sorted(TASK_TERMINAL)),
    )
    transaction.announce_work(TASKS_DUE)  # another instance may hold the task's lease


def _reopen_failed_task(
    transaction: Transaction,
    task_uuid: str,
    action: ManualAction,
    processor: str | None,
    now: float,
) -> None:
    """`error -> pending` for a task whose failed step was reset; nothing for any other task."""
    reopened = move_task(
        transaction,
        task_uuid=task_uuid,
        expected=TaskState.ERROR,
        route=[TaskState.PENDING],
        processor=processor,
        now=now,
        metadata={
            "manual": action.action_type,
            "reason": action.reason,
            "operator": action.operator,
        },
    )
    if reopened:
        transaction.execute(
            "UPDATE tasks SET completed_at = NULL, work_after = ? WHERE task_uuid = ?",
            (now, task_uuid),
        )


async def patch_step(request: Request) -> JSONResponse:
    state = OrchestrationState.of(request)
    task_uuid, step_uuid = tasks_api._step_uuids(request)
    action = parse_manual_action(await state.read_body(request))

    def write(transaction: Transaction) -> dict[str, Any]:
        apply_manual_action(
            transaction,
            task_uuid=task_uuid,
            step_uuid=step_uuid,
            action=action,
            processor=state.instance,
            now=time.time(),
        )
        return tasks_api.step_document(transaction, task_uuid, step_uuid)

    body = await run_in_threadpool(state.database.write, write)
    state.loop.wake()
    return JSONResponse(body)
