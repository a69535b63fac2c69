"""A worker's claim transaction: read step messages and move their steps to `in_progress`.

A message is read with a visibility timeout and its step moves `enqueued -> in_progress` only
if it is still `enqueued` (compare-and-swap). When the message is redelivered because its
worker died, the step is `in_progress` with an expired claim (`claim_expires_at`, set to the
claim time plus the visibility timeout); the new reader re-claims it with an
`in_progress -> in_progress` transition whose metadata says `{"redelivered": true}`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ...states import StepState
from ..store.database import Dialect, Row, Transaction, placeholders
from ..store.queue import QueueMessage, delete, read
from ..store.transitions import StepTransition, record_step_transitions
from .inputs import load_inputs
from .model import ClaimBatch, ClaimedStep, ClaimRequest

S = StepState
_SETTLED = frozenset(
    state.value for state in S if state not in (S.PENDING, S.ENQUEUED, S.IN_PROGRESS)
)
_CLAIMED_COLUMNS = "step_uuid, attempts, max_attempts, dependencies"


def claim_steps(transaction: Transaction, dialect: Dialect, request: ClaimRequest) -> ClaimBatch:
    """Read up to `limit` messages and claim their steps; stale messages are deleted."""
    return claim_messages(transaction, read_messages(transaction, dialect, request), request)


def read_messages(
    transaction: Transaction, dialect: Dialect, request: ClaimRequest
) -> list[QueueMessage]:
    return read(
        transaction,
        dialect,
        request.queues,
        limit=request.limit,
        visibility_timeout=request.visibility_timeout,
        now=request.now,
        honour_visibility=request.guarded,
        exclude=request.exclude,
    )


def claim_messages(
    transaction: Transaction, messages: list[QueueMessage], request: ClaimRequest
) -> ClaimBatch:
    """Claim the steps of messages already read."""
    batch = ClaimBatch(read=len(messages))
    token = uuid.uuid4().hex
    claimed = _claim_enqueued(transaction, messages, request, token) if request.guarded else {}
    transitions: list[StepTransition] = []
    stale: list[int] = []
    for message in messages:
        step_uuid = message.body["step_uuid"]
        found: Row | bool | None = claimed.pop(step_uuid, None)
        if found is None:
            found = _claim_other(transaction, message, request, token)
        if isinstance(found, bool):
            batch.conflicts += 1
            if found:
                stale.append(message.msg_id)
            continue
        step, transition = _claimed(message, found, request.worker_id, token)
        batch.claimed.append(step)
        transitions.append(transition)
    record_step_transitions(transaction, transitions, request.now)
    delete(transaction, stale)
    load_inputs(transaction, batch.claimed)
    return batch


def _claim_enqueued(
    transaction: Transaction, messages: list[QueueMessage], request: ClaimRequest, token: str
) -> dict[str, Row]:
    """The common case in one statement: every step still `enqueued` moves to `in_progress`."""
    if not messages:
        return {}
    uuids = [message.body["step_uuid"] for message in messages]
    rows = transaction.fetch_all(
        "UPDATE workflow_steps SET current_state = ?, attempts = attempts + 1,"
        " processor_uuid = ?, claim_token = ?, claim_expires_at = ?, updated_at = ?"
        f" WHERE step_uuid IN ({placeholders(len(uuids))}) AND current_state = ?"
        f" RETURNING {_CLAIMED_COLUMNS}",
        [
            S.IN_PROGRESS.value,
            request.worker_id,
            token,
            _expiry(request),
            request.now,
            *uuids,
            S.ENQUEUED.value,
        ],
    )
    return {row["step_uuid"]: {**row, "from_state": S.ENQUEUED.value} for row in rows}


def _expiry(request: ClaimRequest) -> float:
    return request.now + request.visibility_timeout


def _claim_other(
    transaction: Transaction, message: QueueMessage, request: ClaimRequest, token: str
) -> Row | bool:
    """A redelivery (or, unguarded, any claim); else whether the message is stale."""
    step = transaction.fetch_one(
        "SELECT current_state, processor_uuid, claim_expires_at FROM workflow_steps"
        " WHERE step_uuid = ?",
        (message.body["step_uuid"],),
    )
    if step is None:
        return True
    state = step["current_state"]
    expired = state == S.IN_PROGRESS and (step["claim_expires_at"] or 0) <= request.now
    if not request.guarded:  # the fault: whatever state the step is in, take it
        condition, params, bump = "current_state = ?", [state], 1 if state == S.ENQUEUED else 0
    elif expired:
        condition, params, bump = (
            "current_state = ? AND claim_expires_at <= ?",
            [state, request.now],
            0,
        )
    else:
        return state in _SETTLED
    rows = transaction.fetch_all(
        "UPDATE workflow_steps SET current_state = ?, attempts = attempts + ?,"
        " processor_uuid = ?, claim_token = ?, claim_expires_at = ?, updated_at = ?"
        f" WHERE step_uuid = ? AND {condition} RETURNING {_CLAIMED_COLUMNS}",
        [
            S.IN_PROGRESS.value,
            bump,
            request.worker_id,
            token,
            _expiry(request),
            request.now,
            message.body["step_uuid"],
            *params,
        ],
    )
    if not rows:
        return False
    return {
        **rows[0],
        "from_state": state,
        "redelivered": expired,
        "previous": step["processor_uuid"],
    }


def _claimed(
    message: QueueMessage, row: Row, worker_id: str, token: str
) -> tuple[ClaimedStep, StepTransition]:
    body = message.body
    attempt = int(row["attempts"])
    metadata: dict[str, Any] = {"msg_id": message.msg_id, "attempt": attempt}
    if row.get("redelivered"):
        metadata.update(redelivered=True, previous_worker=row.get("previous"))
    step = ClaimedStep(
        msg_id=message.msg_id,
        task_uuid=body["task_uuid"],
        step_uuid=body["step_uuid"],
        step_name=body["step_name"],
        handler=body["handler"],
        attempt=attempt,
        max_attempts=int(row["max_attempts"]),
        claim_token=token,
        redelivered=bool(row.get("redelivered")),
        dependencies=tuple(json.loads(row["dependencies"])),
    )
    transition = StepTransition(
        step.step_uuid,
        step.task_uuid,
        row["from_state"],
        S.IN_PROGRESS,
        worker_id,
        worker_id,
        metadata=metadata,
    )
    return step, transition
