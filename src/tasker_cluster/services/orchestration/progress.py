"""Carrying plans out: enqueue ready steps, move tasks, finalize each task once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ...states import TASK_TERMINAL, StepState, TaskState
from ..errors import LeaseLostError, TransitionNotAllowedError
from ..statemachine import task_route
from ..store.database import Transaction, placeholders
from ..store.queue import send_many, step_queue
from ..store.transitions import (
    StepTransition,
    record_many_task_transitions,
    record_step_transitions,
)
from .evaluation import StepSnapshot
from .planning import TaskPlan

logger = logging.getLogger(__name__)

RETRY_REFUSED_SECONDS = 5.0


@dataclass(frozen=True)
class Evaluation:
    task_uuid: str
    enqueued: int
    final_state: TaskState
    finalized: bool


def carry_out(
    transaction: Transaction, plan: TaskPlan, owner: str, now: float, guarded: bool
) -> Evaluation:
    """Write what `plan` decided; with `guarded` the task move is a compare-and-swap."""
    return carry_out_all(transaction, [plan], owner, now, guarded)[0]


def carry_out_all(
    transaction: Transaction, plans: list[TaskPlan], owner: str, now: float, guarded: bool
) -> list[Evaluation]:
    """Write what several plans decided, batching statements across tasks.

    A task whose decision the state machine refuses is logged and looked at again later,
    so that it cannot hold the other tasks of its batch back.
    """
    moves: list[_Move] = []
    for plan in plans:
        try:
            moves.append(_Move.of(plan))
        except TransitionNotAllowedError as error:
            logger.error(
                "task %s cannot move on (%s); retrying in %g s",
                plan.task_uuid,
                error,
                RETRY_REFUSED_SECONDS,
            )
            moves.append(_Move(plan, (), (), now + RETRY_REFUSED_SECONDS))
    _enqueue(transaction, moves, owner, now)
    _settle(transaction, moves, now, guarded)
    record_many_task_transitions(
        transaction,
        {move.plan.task_uuid: move.pairs for move in moves},
        processor=owner,
        now=now,
        metadata=None if guarded else {"unguarded": True},
    )
    return [move.evaluation() for move in moves]


@dataclass(frozen=True)
class _Move:
    plan: TaskPlan
    route: tuple[str, ...]
    enqueue: tuple[StepSnapshot, ...]
    next_look_at: float | None

    @classmethod
    def of(cls, plan: TaskPlan) -> _Move:
        if plan.decision is None:
            return cls(plan, (), (), None)
        route = tuple(state.value for state in task_route(plan.status, plan.decision.outcome))
        return cls(plan, route, plan.decision.enqueue, plan.decision.next_look_at)

    @property
    def final(self) -> str:
        return self.route[-1] if self.route else self.plan.status.value

    @property
    def pairs(self) -> list[tuple[str | None, str]]:
        return list(zip([self.plan.status.value, *self.route], self.route, strict=False))

    def evaluation(self) -> Evaluation:
        finalizes = self.plan.decision is not None and self.plan.decision.finalizes
        return Evaluation(
            self.plan.task_uuid,
            len(self.enqueue),
            TaskState(self.final),
            finalizes and bool(self.route),
        )


def _settle(transaction: Transaction, moves: list[_Move], now: float, guarded: bool) -> None:
    """Move each task along its route and schedule its next look; alike tasks share a statement.

    Guarded, this is a compare-and-swap on the status each plan was made from; a finished task
    also gives its lease up. (The `no_finalize_guard` fault writes without the check.)
    """
    groups: dict[tuple[str, str, float | None, bool], list[str]] = {}
    for move in moves:
        key = (move.plan.status.value, move.final, move.next_look_at, bool(move.route))
        groups.setdefault(key, []).append(move.plan.task_uuid)
    for (status, final, next_look_at, moved), task_uuids in groups.items():
        terminal = final in TASK_TERMINAL
        release = ", claimed_by = NULL, claim_expires_at = NULL" if terminal else ""
        stamps = ", updated_at = ?, completed_at = ?" if moved else ""
        guard = " AND status = ?" if guarded else ""
        changed = transaction.execute(
            f"UPDATE tasks SET status = ?, work_after = ?{release}{stamps}"
            f" WHERE task_uuid IN ({placeholders(len(task_uuids))}){guard}",
            [
                final,
                next_look_at,
                *((now, now if terminal else None) if moved else ()),
                *task_uuids,
                *((status,) if guarded else ()),
            ],
        )
        if changed != len(task_uuids):
            raise LeaseLostError(task_uuids[0], f"a task was no longer {status}")


def _enqueue_path(state: StepState) -> tuple[tuple[StepState, StepState], ...]:
    """The recorded moves of enqueueing a step: a retry goes back through pending first, as
    tasker-core's step machine has it (waiting_for_retry -> pending -> enqueued)."""
    if state == StepState.WAITING_FOR_RETRY:
        return ((state, StepState.PENDING), (StepState.PENDING, StepState.ENQUEUED))
    return ((state, StepState.ENQUEUED),)


def _enqueue(transaction: Transaction, moves: list[_Move], owner: str, now: float) -> None:
    """Steps move to `enqueued` and their messages are sent in the same transaction."""
    by_state: dict[StepState, list[str]] = {}
    for move in moves:
        for step in move.enqueue:
            by_state.setdefault(step.current_state, []).append(step.step_uuid)
    for from_state, step_uuids in by_state.items():
        changed = transaction.execute(
            "UPDATE workflow_steps SET current_state = ?, updated_at = ?, next_retry_at = NULL"
            f" WHERE step_uuid IN ({placeholders(len(step_uuids))}) AND current_state = ?",
            [StepState.ENQUEUED.value, now, *step_uuids, from_state.value],
        )
        if changed != len(step_uuids):
            raise LeaseLostError(moves[0].plan.task_uuid, "a step changed while being enqueued")
    record_step_transitions(
        transaction,
        [
            StepTransition(step.step_uuid, move.plan.task_uuid, before, after, owner)
            for move in moves
            for step in move.enqueue
            for before, after in _enqueue_path(step.current_state)
        ],
        now,
    )
    by_namespace: dict[str, list[dict[str, object]]] = {}
    for move in moves:
        by_namespace.setdefault(move.plan.namespace, []).extend(
            {
                "task_uuid": move.plan.task_uuid,
                "step_uuid": step.step_uuid,
                "step_name": step.name,
                "handler": step.handler,
                "namespace": move.plan.namespace,
                "attempt": step.attempts + 1,
            }
            for step in move.enqueue
        )
    for namespace, messages in by_namespace.items():
        send_many(transaction, step_queue(namespace), messages, now)
