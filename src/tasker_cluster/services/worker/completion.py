"""Finishing claimed steps: states, result messages and acknowledgements in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ...states import StepState
from ..handlers import StepHandlerResult
from ..store.database import Transaction
from ..store.queue import ORCHESTRATION_RESULTS_QUEUE, delete, make_visible, send_many
from ..store.transitions import StepTransition, record_step_transitions
from .model import ClaimedStep


@dataclass(frozen=True)
class FinishedStep:
    step: ClaimedStep
    outcome: StepHandlerResult
    execution_time_ms: int


def complete_steps(
    transaction: Transaction,
    finished: Sequence[FinishedStep],
    worker_id: str,
    now: float,
    copies: int = 1,
) -> list[bool]:
    """Hand results to the orchestration; False for a step whose claim was no longer ours.

    Every step message is acknowledged (deleted) either way: a claim lost to a redelivery
    belongs to the new reader, which holds the step under a newer claim token.
    """
    accepted = [_finish_one(transaction, item, now) for item in finished]
    done = [item for item, ok in zip(finished, accepted, strict=True) if ok]
    delete(transaction, [item.step.msg_id for item in finished])
    record_step_transitions(
        transaction,
        [
            StepTransition(
                item.step.step_uuid,
                item.step.task_uuid,
                StepState.IN_PROGRESS,
                _target(item.outcome),
                worker_id,
                worker_id,
                item.outcome.success,
                item.execution_time_ms,
                {**item.outcome.metadata, **_error(item.outcome)},
            )
            for item in done
        ],
        now,
    )
    bodies = [
        {
            "task_uuid": item.step.task_uuid,
            "step_uuid": item.step.step_uuid,
            "attempt": item.step.attempt,
            "success": item.outcome.success,
            "retryable": item.outcome.retryable,
            "error": item.outcome.error_message,
            "worker_id": worker_id,
            "execution_time_ms": item.execution_time_ms,
        }
        for item in done
    ]
    send_many(transaction, ORCHESTRATION_RESULTS_QUEUE, bodies * copies, now)
    return accepted


def _target(outcome: StepHandlerResult) -> StepState:
    if outcome.success:
        return StepState.ENQUEUED_FOR_ORCHESTRATION
    return StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION


def _error(outcome: StepHandlerResult) -> dict[str, str]:
    return {"error": outcome.error_message} if outcome.error_message else {}


def _finish_one(transaction: Transaction, item: FinishedStep, now: float) -> bool:
    outcome = item.outcome
    changed = transaction.execute(
        "UPDATE workflow_steps SET current_state = ?, results = ?, last_error = ?,"
        " claim_token = NULL, claim_expires_at = NULL, updated_at = ?"
        " WHERE step_uuid = ? AND current_state = ? AND claim_token = ?",
        (
            _target(outcome).value,
            json.dumps(outcome.result) if outcome.success else None,
            outcome.error_message,
            now,
            item.step.step_uuid,
            StepState.IN_PROGRESS.value,
            item.step.claim_token,
        ),
    )
    return changed == 1


def release_steps(transaction: Transaction, steps: Sequence[ClaimedStep], now: float) -> None:
    """Give claimed steps back at once: messages visible again, claims expired."""
    make_visible(transaction, [step.msg_id for step in steps], now)
    for step in steps:
        transaction.execute(
            "UPDATE workflow_steps SET claim_expires_at = ?"
            " WHERE step_uuid = ? AND claim_token = ?",
            (now, step.step_uuid, step.claim_token),
        )
