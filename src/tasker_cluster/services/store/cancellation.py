"""Cancelling a task and every step of it that has not finished."""

from __future__ import annotations

from ...states import STEP_TERMINAL, TASK_TERMINAL, StepState, TaskState
from ..errors import TaskAlreadyTerminalError, TaskNotFoundError
from .database import Dialect, Transaction
from .tasks import move_task
from .transitions import StepTransition, record_step_transitions


def cancel_task(
    transaction: Transaction, dialect: Dialect, task_uuid: str, processor: str | None, now: float
) -> None:
    """Cancel the task and every step that has not finished; 404 for an unknown task, 409 for one
    that finished otherwise.
    Cancelling a cancelled task again changes nothing (and answers it, as a first cancel)."""
    row = transaction.fetch_one(
        f"SELECT status FROM tasks WHERE task_uuid = ?{dialect.lock_row}", (task_uuid,)
    )
    if row is None:
        raise TaskNotFoundError(task_uuid)
    if row["status"] == TaskState.CANCELLED:
        return
    if row["status"] in TASK_TERMINAL:
        raise TaskAlreadyTerminalError(task_uuid, row["status"])
    move_task(
        transaction,
        task_uuid=task_uuid,
        expected=row["status"],
        route=[TaskState.CANCELLED],
        processor=processor,
        now=now,
    )
    transaction.execute(
        "UPDATE tasks SET work_after = NULL, claimed_by = NULL, claim_expires_at = NULL"
        " WHERE task_uuid = ?",
        (task_uuid,),
    )
    cancel_open_steps(transaction, task_uuid, processor, now)


def cancel_open_steps(
    transaction: Transaction, task_uuid: str, processor: str | None, now: float
) -> None:
    """Workers change steps without the task lock, so each step is a compare-and-swap, retried."""
    settled = {state.value for state in STEP_TERMINAL} | {StepState.ERROR.value}
    for _ in range(10):
        steps = transaction.fetch_all(
            "SELECT step_uuid, current_state FROM workflow_steps WHERE task_uuid = ?",
            (task_uuid,),
        )
        moved: list[StepTransition] = []
        for step in steps:
            if step["current_state"] in settled:
                continue
            changed = transaction.execute(
                "UPDATE workflow_steps SET current_state = ?, updated_at = ?"
                " WHERE step_uuid = ? AND current_state = ?",
                (StepState.CANCELLED.value, now, step["step_uuid"], step["current_state"]),
            )
            if changed == 1:
                moved.append(
                    StepTransition(
                        step["step_uuid"],
                        task_uuid,
                        step["current_state"],
                        StepState.CANCELLED,
                        processor,
                        metadata={"reason": "task cancelled"},
                    )
                )
        record_step_transitions(transaction, moved, now)
        if len(moved) == sum(1 for step in steps if step["current_state"] not in settled):
            return
