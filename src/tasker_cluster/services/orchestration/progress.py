"""Moving tasks forward: evaluate a claimed task, enqueue its ready steps, finalize it once."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..statemachine import TASK_TERMINAL, StepState, TaskState, task_route
from ..store.database import Dialect, Transaction, placeholders
from ..store.queue import send_many, step_queue
from ..store.transitions import (
    StepTransition,
    record_step_transitions,
    record_task_transitions,
)
from .evaluation import Decision, StepSnapshot, decide


class LeaseLostError(Exception):
    """The task is owned by another instance, or changed under us: nothing was written."""

    def __init__(self, task_uuid: str, detail: str) -> None:
        self.task_uuid = task_uuid
        self.detail = detail
        super().__init__(f"task {task_uuid}: {detail}")


@dataclass(frozen=True)
class TaskPlan:
    """What one evaluation found: the task as read and the decision taken on it."""

    task_uuid: str
    namespace: str
    status: TaskState
    decision: Decision | None


@dataclass(frozen=True)
class Evaluation:
    task_uuid: str
    enqueued: int
    final_state: TaskState
    finalized: bool


def plan_task(
    transaction: Transaction,
    dialect: Dialect,
    task_uuid: str,
    *,
    owner: str,
    now: float,
    guarded: bool,
) -> TaskPlan | None:
    """Read the task (locked and checked to be ours when `guarded`) and decide on it."""
    lock = dialect.lock_row if guarded else ""
    task = transaction.fetch_one(
        f"SELECT status, namespace, claimed_by FROM tasks WHERE task_uuid = ?{lock}", (task_uuid,)
    )
    if task is None:
        return None
    if guarded and task["claimed_by"] != owner:
        raise LeaseLostError(task_uuid, f"now claimed by {task['claimed_by']}")
    status = TaskState(task["status"])
    if status in TASK_TERMINAL:
        return TaskPlan(task_uuid, task["namespace"], status, None)
    rows = transaction.fetch_all(
        "SELECT step_uuid, name, handler, current_state, dependencies, attempts, next_retry_at"
        " FROM workflow_steps WHERE task_uuid = ? ORDER BY position",
        (task_uuid,),
    )
    steps = [
        StepSnapshot(
            step_uuid=row["step_uuid"],
            name=row["name"],
            handler=row["handler"],
            current_state=StepState(row["current_state"]),
            dependencies=tuple(json.loads(row["dependencies"])),
            attempts=int(row["attempts"]),
            next_retry_at=row["next_retry_at"],
        )
        for row in rows
    ]
    return TaskPlan(task_uuid, task["namespace"], status, decide(steps, now))


def carry_out(
    transaction: Transaction, plan: TaskPlan, owner: str, now: float, guarded: bool
) -> Evaluation:
    """Write what `plan` decided; with `guarded` the task move is a compare-and-swap."""
    if plan.decision is None:
        _settle(transaction, plan, [], next_look_at=None, now=now, guarded=guarded)
        return Evaluation(plan.task_uuid, 0, plan.status, False)
    decision = plan.decision
    enqueued = _enqueue(transaction, plan, decision, owner, now)
    route = [state.value for state in task_route(plan.status, decision.outcome)]
    _settle(transaction, plan, route, next_look_at=decision.next_look_at, now=now, guarded=guarded)
    pairs: list[tuple[str | None, str]] = list(
        zip([plan.status.value, *route], route, strict=False)
    )
    metadata = None if guarded else {"unguarded": True}
    record_task_transitions(
        transaction, plan.task_uuid, pairs, processor=owner, now=now, metadata=metadata
    )
    final = TaskState(route[-1]) if route else plan.status
    return Evaluation(plan.task_uuid, enqueued, final, decision.finalizes and bool(route))


def _settle(
    transaction: Transaction,
    plan: TaskPlan,
    route: list[str],
    *,
    next_look_at: float | None,
    now: float,
    guarded: bool,
) -> None:
    """Move the task along `route` and schedule its next look, in one statement.

    Guarded, this is a compare-and-swap on the status the plan was made from; a finished
    task also gives its lease up. (The `no_finalize_guard` fault writes without the check.)
    """
    final = route[-1] if route else plan.status.value
    release = ", claimed_by = NULL, claim_expires_at = NULL" if final in TASK_TERMINAL else ""
    guard = " AND status = ?" if guarded else ""
    changed = transaction.execute(
        f"UPDATE tasks SET status = ?, work_after = ?{release}"
        + (", updated_at = ?, completed_at = ?" if route else "")
        + f" WHERE task_uuid = ?{guard}",
        [
            final,
            next_look_at,
            *((now, now if final in TASK_TERMINAL else None) if route else ()),
            plan.task_uuid,
            *((plan.status.value,) if guarded else ()),
        ],
    )
    if changed != 1:
        raise LeaseLostError(plan.task_uuid, f"was no longer {plan.status}")


def _enqueue(
    transaction: Transaction, plan: TaskPlan, decision: Decision, owner: str, now: float
) -> int:
    """Steps move to `enqueued` and their messages are sent in the same transaction."""
    by_state: dict[StepState, list[StepSnapshot]] = {}
    for step in decision.enqueue:
        by_state.setdefault(step.current_state, []).append(step)
    for from_state, steps in by_state.items():
        moved = transaction.fetch_all(
            "UPDATE workflow_steps SET current_state = ?, updated_at = ?, next_retry_at = NULL"
            f" WHERE step_uuid IN ({placeholders(len(steps))}) AND current_state = ?"
            " RETURNING step_uuid",
            [StepState.ENQUEUED.value, now, *(step.step_uuid for step in steps), from_state.value],
        )
        if len(moved) != len(steps):
            raise LeaseLostError(plan.task_uuid, "a step changed while it was being enqueued")
    record_step_transitions(
        transaction,
        [
            StepTransition(
                step.step_uuid, plan.task_uuid, step.current_state, StepState.ENQUEUED, owner
            )
            for step in decision.enqueue
        ],
        now,
    )
    messages = [
        {
            "task_uuid": plan.task_uuid,
            "step_uuid": step.step_uuid,
            "step_name": step.name,
            "handler": step.handler,
            "namespace": plan.namespace,
            "attempt": step.attempts + 1,
        }
        for step in decision.enqueue
    ]
    send_many(transaction, step_queue(plan.namespace), messages, now)
    return len(messages)
