"""Deciding what a task needs next from the states of its steps (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...states import STEP_DONE, STEP_IN_FLIGHT, StepState, TaskState


@dataclass(frozen=True)
class StepSnapshot:
    step_uuid: str
    name: str
    handler: str
    current_state: StepState
    dependencies: tuple[str, ...]
    attempts: int
    next_retry_at: float | None


@dataclass(frozen=True)
class Decision:
    """Steps to enqueue now, the task states to end in, and when to look again unprompted."""

    enqueue: tuple[StepSnapshot, ...]
    outcome: tuple[TaskState, ...]
    next_look_at: float | None = None

    @property
    def finalizes(self) -> bool:
        return self.outcome[-1] in (TaskState.COMPLETE, TaskState.ERROR)


def decide(steps: Sequence[StepSnapshot], now: float) -> Decision:
    if all(step.current_state in STEP_DONE for step in steps):
        return Decision((), (TaskState.COMPLETE,))
    in_flight = any(step.current_state in STEP_IN_FLIGHT for step in steps)
    if any(step.current_state == StepState.ERROR for step in steps):
        # A permanent failure: start nothing new, let running steps settle, then give up.
        if in_flight:
            return Decision((), (TaskState.STEPS_IN_PROCESS,))
        return Decision((), (TaskState.BLOCKED_BY_FAILURES, TaskState.ERROR))
    done = {step.name for step in steps if step.current_state in STEP_DONE}
    ready = [
        step
        for step in steps
        if step.current_state == StepState.PENDING
        and all(dependency in done for dependency in step.dependencies)
    ]
    retry_times = [
        step.next_retry_at or now
        for step in steps
        if step.current_state == StepState.WAITING_FOR_RETRY
    ]
    retries_due = [
        step
        for step in steps
        if step.current_state == StepState.WAITING_FOR_RETRY and (step.next_retry_at or now) <= now
    ]
    later = [moment for moment in retry_times if moment > now]
    next_look_at = min(later) if later else None
    enqueue = tuple(ready + retries_due)
    if enqueue:
        outcome: tuple[TaskState, ...] = (TaskState.ENQUEUING_STEPS, TaskState.STEPS_IN_PROCESS)
    elif in_flight:
        outcome = (TaskState.STEPS_IN_PROCESS,)
    elif later:
        outcome = (TaskState.WAITING_FOR_RETRY,)
    else:
        outcome = (TaskState.WAITING_FOR_DEPENDENCIES,)
    return Decision(enqueue, outcome, next_look_at)
