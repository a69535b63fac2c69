"""Applying step results from `orchestration_step_results`, each exactly once.

A result names the step and the attempt it reports. It applies only while the step is still
waiting for exactly that attempt's result; anything else is a duplicate (a redelivered or
resent message) and is recorded as one, never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...states import TASK_TERMINAL, StepState
from ..store.database import Dialect, Row, Transaction, TransientError, placeholders
from ..store.queue import TASKS_DUE, QueueMessage, delete
from ..store.transitions import StepTransition, record_step_transitions

MAX_BACKOFF_SECONDS = 30.0
_TERMINAL = tuple(state.value for state in TASK_TERMINAL)


@dataclass
class ResultReport:
    applied: int = 0
    duplicates: int = 0
    tasks: set[str] = field(default_factory=set)


def retry_delay(backoff_ms: int, attempts: int) -> float:
    return float(min(backoff_ms / 1000 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def apply_results(
    transaction: Transaction,
    dialect: Dialect,
    messages: list[QueueMessage],
    *,
    processor: str,
    now: float,
    deduplicate: bool = True,
) -> ResultReport:
    """Apply a batch of results and acknowledge their messages, in one transaction.

    Rows are locked in a fixed order (steps, then tasks by uuid), so concurrent batches on
    other instances never deadlock with this one.
    """
    report = ResultReport()
    ordered = sorted(messages, key=lambda m: (m.body["step_uuid"], m.msg_id))
    uuids = sorted({message.body["step_uuid"] for message in ordered})
    steps: dict[str, Row] = {
        row["step_uuid"]: row
        for row in transaction.fetch_all(
            "SELECT step_uuid, task_uuid, current_state, attempts, max_attempts, retryable,"
            f" retry_backoff_ms FROM workflow_steps WHERE step_uuid IN ({placeholders(len(uuids))})"
            f" ORDER BY step_uuid{dialect.lock_row}",
            uuids,
        )
    }
    outcomes: list[_Outcome] = []
    for message in ordered:
        step = steps.get(message.body["step_uuid"])
        outcome = _decide(message, step, processor=processor, now=now, deduplicate=deduplicate)
        if outcome is None:
            report.duplicates += 1
            continue
        report.applied += 1
        report.tasks.add(outcome.transition.task_uuid)
        steps[outcome.transition.step_uuid] = {
            **steps[outcome.transition.step_uuid],
            "current_state": outcome.transition.to_state,
        }
        outcomes.append(outcome)
    _write_states(transaction, outcomes, now)
    record_step_transitions(transaction, [outcome.transition for outcome in outcomes], now)
    _wake_tasks(transaction, dialect, sorted(report.tasks), processor, now)
    delete(transaction, [message.msg_id for message in messages])
    return report


@dataclass(frozen=True)
class _Outcome:
    transition: StepTransition
    next_retry_at: float | None
    guarded: bool


def _write_states(transaction: Transaction, outcomes: list[_Outcome], now: float) -> None:
    """Completions share one statement; the rows are locked, so every guard must hold."""
    completed = [
        o.transition.step_uuid
        for o in outcomes
        if o.guarded and o.transition.to_state == StepState.COMPLETE
    ]
    if completed:
        changed = transaction.execute(
            "UPDATE workflow_steps SET current_state = ?, next_retry_at = NULL, updated_at = ?,"
            f" completed_at = ? WHERE step_uuid IN ({placeholders(len(completed))})"
            " AND current_state = ?",
            [
                StepState.COMPLETE.value,
                now,
                now,
                *completed,
                StepState.ENQUEUED_FOR_ORCHESTRATION.value,
            ],
        )
        if changed != len(completed):
            raise TransientError("a step changed under its row lock; applying the batch again")
    for outcome in outcomes:
        if outcome.guarded and outcome.transition.to_state == StepState.COMPLETE:
            continue
        transition = outcome.transition
        guard = " AND current_state = ?" if outcome.guarded else ""
        transaction.execute(
            "UPDATE workflow_steps SET current_state = ?, next_retry_at = ?, updated_at = ?,"
            f" completed_at = ? WHERE step_uuid = ?{guard}",
            [
                transition.to_state,
                outcome.next_retry_at,
                now,
                now if transition.to_state == StepState.COMPLETE else None,
                transition.step_uuid,
                *((transition.from_state,) if outcome.guarded else ()),
            ],
        )


def _wake_tasks(
    transaction: Transaction, dialect: Dialect, tasks: list[str], processor: str, now: float
) -> None:
    """Mark the tasks as needing evaluation (the lock waits for a running evaluation).

    This instance evaluates them right after, unless another instance holds one's lease:
    then that one is woken with `TASKS_DUE` (the holder is read with PostgreSQL's row lock;
    SQLite's watchers see the commit without an announcement).
    """
    if not tasks:
        return
    marks = placeholders(len(tasks))
    if dialect.lock_row:
        held = transaction.fetch_all(
            f"SELECT task_uuid, claimed_by FROM tasks WHERE task_uuid IN ({marks})"
            f" ORDER BY task_uuid{dialect.lock_row}",
            tasks,
        )
        if any(row["claimed_by"] not in (None, processor) for row in held):
            transaction.announce_work(TASKS_DUE)
    transaction.execute(
        f"UPDATE tasks SET work_after = ?, updated_at = ? WHERE task_uuid IN ({marks})"
        f" AND status NOT IN ({placeholders(len(_TERMINAL))})",
        [now, now, *tasks, *_TERMINAL],
    )


def _decide(
    message: QueueMessage, step: Row | None, *, processor: str, now: float, deduplicate: bool
) -> _Outcome | None:
    """What applying the result does to its step, or None for a duplicate."""
    body = message.body
    if step is None or step["task_uuid"] != body["task_uuid"]:
        return None
    success = bool(body["success"])
    expected = (
        StepState.ENQUEUED_FOR_ORCHESTRATION
        if success
        else StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION
    )
    awaited = step["current_state"] == expected and int(step["attempts"]) == int(body["attempt"])
    if not awaited and (deduplicate or not success):
        return None
    attempts = int(step["attempts"])
    next_retry_at = None
    if success:
        target = StepState.COMPLETE
    elif body.get("retryable") and bool(step["retryable"]) and attempts < int(step["max_attempts"]):
        target = StepState.WAITING_FOR_RETRY
        next_retry_at = now + retry_delay(int(step["retry_backoff_ms"]), attempts)
    else:
        target = StepState.ERROR
    transition = StepTransition(
        step_uuid=body["step_uuid"],
        task_uuid=body["task_uuid"],
        from_state=step["current_state"],
        to_state=target,
        processor=processor,
        worker_uuid=body.get("worker_id"),
        success=success,
        metadata={"msg_id": message.msg_id, "attempt": body["attempt"], "read_ct": message.read_ct},
    )
    return _Outcome(transition, next_retry_at, guarded=awaited)
