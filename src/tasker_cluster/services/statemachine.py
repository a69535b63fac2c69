"""The transitions between task and workflow step states (tasker-core's machines).

The states and terminal sets are defined in `tasker_cluster.states`; they are re-exported
here for the services' imports.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

from ..states import STEP_IN_FLIGHT, STEP_TERMINAL, TASK_TERMINAL, StepState, TaskState
from .errors import TransitionNotAllowedError

__all__ = [
    "STEP_IN_FLIGHT",
    "STEP_TERMINAL",
    "STEP_TRANSITIONS",
    "TASK_TERMINAL",
    "TASK_TRANSITIONS",
    "StepState",
    "TaskState",
    "check_step_transition",
    "check_task_transition",
    "task_route",
]


T = TaskState
S = StepState

_TASK_FORWARD: dict[TaskState | None, frozenset[TaskState]] = {
    None: frozenset({T.PENDING}),
    T.PENDING: frozenset({T.INITIALIZING}),
    T.INITIALIZING: frozenset({T.ENQUEUING_STEPS, T.COMPLETE, T.WAITING_FOR_DEPENDENCIES, T.ERROR}),
    T.ENQUEUING_STEPS: frozenset({T.STEPS_IN_PROCESS, T.ERROR}),
    T.STEPS_IN_PROCESS: frozenset({T.EVALUATING_RESULTS}),
    T.EVALUATING_RESULTS: frozenset(
        {
            T.ENQUEUING_STEPS,
            T.STEPS_IN_PROCESS,
            T.WAITING_FOR_DEPENDENCIES,
            T.WAITING_FOR_RETRY,
            T.BLOCKED_BY_FAILURES,
            T.COMPLETE,
            T.ERROR,
        }
    ),
    T.WAITING_FOR_DEPENDENCIES: frozenset({T.EVALUATING_RESULTS}),
    T.WAITING_FOR_RETRY: frozenset({T.ENQUEUING_STEPS, T.EVALUATING_RESULTS}),
    T.BLOCKED_BY_FAILURES: frozenset({T.ERROR, T.RESOLVED_MANUALLY}),
}
TASK_TRANSITIONS: Mapping[TaskState | None, frozenset[TaskState]] = {
    state: targets | ({T.CANCELLED} if state is not None else frozenset())
    for state, targets in _TASK_FORWARD.items()
} | {state: frozenset() for state in TASK_TERMINAL}

STEP_TRANSITIONS: Mapping[StepState | None, frozenset[StepState]] = {
    None: frozenset({S.PENDING}),
    S.PENDING: frozenset({S.ENQUEUED, S.CANCELLED}),
    S.ENQUEUED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    # in_progress -> in_progress is the re-claim of a redelivered message (see docs).
    S.IN_PROGRESS: frozenset(
        {
            S.IN_PROGRESS,
            S.ENQUEUED_FOR_ORCHESTRATION,
            S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
            S.CANCELLED,
        }
    ),
    S.ENQUEUED_FOR_ORCHESTRATION: frozenset({S.COMPLETE, S.CANCELLED}),
    S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION: frozenset({S.WAITING_FOR_RETRY, S.ERROR, S.CANCELLED}),
    S.WAITING_FOR_RETRY: frozenset({S.ENQUEUED, S.CANCELLED}),
    S.ERROR: frozenset({S.RESOLVED_MANUALLY}),
    S.COMPLETE: frozenset(),
    S.CANCELLED: frozenset(),
    S.RESOLVED_MANUALLY: frozenset(),
}


def check_task_transition(from_state: TaskState | None, to_state: TaskState) -> None:
    if to_state not in TASK_TRANSITIONS.get(from_state, frozenset()):
        raise TransitionNotAllowedError("task", from_state, to_state)


def check_step_transition(from_state: StepState | None, to_state: StepState) -> None:
    if to_state not in STEP_TRANSITIONS.get(from_state, frozenset()):
        raise TransitionNotAllowedError("step", from_state, to_state)


def task_route(current: TaskState, outcome: Sequence[TaskState]) -> list[TaskState]:
    """The task states to pass through, after `current`, to end in the `outcome` sequence.

    The way to `outcome[0]` is the shortest one the transition table allows; an outcome the
    task is already in needs no transition at all.
    """
    if not outcome:
        return []
    if len(outcome) == 1 and current == outcome[0]:
        return []
    route = _shortest_path(current, outcome[0]) + list(outcome[1:])
    previous: TaskState = current
    for state in route:
        check_task_transition(previous, state)
        previous = state
    return route


def _shortest_path(start: TaskState, goal: TaskState) -> list[TaskState]:
    if start == goal:
        return []
    parents: dict[TaskState, TaskState] = {}
    frontier: deque[TaskState] = deque([start])
    while frontier:
        state = frontier.popleft()
        for following in sorted(_TASK_FORWARD.get(state, frozenset())):
            if following in parents or following == start:
                continue
            parents[following] = state
            if following == goal:
                path = [goal]
                while parents[path[-1]] != start:
                    path.append(parents[path[-1]])
                return path[::-1]
            frontier.append(following)
    raise TransitionNotAllowedError("task", start, goal)
