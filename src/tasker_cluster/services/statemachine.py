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

# The moves the orchestration makes on its own (tasker-core's event-driven transitions);
# `task_route` plans along these only, so a task takes upstream's main path
# (steps_in_process -> evaluating_results -> complete) rather than a shortcut.
_TASK_FORWARD: dict[TaskState | None, frozenset[TaskState]] = {
    None: frozenset({T.PENDING}),
    T.PENDING: frozenset({T.INITIALIZING}),
    T.INITIALIZING: frozenset({T.ENQUEUING_STEPS, T.COMPLETE, T.WAITING_FOR_DEPENDENCIES}),
    T.ENQUEUING_STEPS: frozenset({T.STEPS_IN_PROCESS, T.ERROR}),
    T.STEPS_IN_PROCESS: frozenset({T.EVALUATING_RESULTS, T.WAITING_FOR_RETRY}),
    T.EVALUATING_RESULTS: frozenset(
        {T.COMPLETE, T.ENQUEUING_STEPS, T.WAITING_FOR_DEPENDENCIES, T.BLOCKED_BY_FAILURES}
    ),
    T.WAITING_FOR_DEPENDENCIES: frozenset({T.EVALUATING_RESULTS}),
    T.WAITING_FOR_RETRY: frozenset({T.ENQUEUING_STEPS}),
    T.BLOCKED_BY_FAILURES: frozenset({T.ERROR, T.RESOLVED_MANUALLY}),
}
# Upstream's other transitions: its legacy shortcuts out of steps_in_process and the reset of
# a task in error. Cancellation and manual resolution are open to every non-terminal state.
_TASK_OTHER: dict[TaskState, frozenset[TaskState]] = {
    T.STEPS_IN_PROCESS: frozenset({T.COMPLETE, T.ERROR}),
    T.ERROR: frozenset({T.PENDING}),
}
_TASK_FROM_ANY_OPEN = frozenset({T.CANCELLED, T.RESOLVED_MANUALLY})
TASK_TRANSITIONS: Mapping[TaskState | None, frozenset[TaskState]] = {
    None: _TASK_FORWARD[None],
    **{
        state: _TASK_FORWARD.get(state, frozenset())
        | _TASK_OTHER.get(state, frozenset())
        | (frozenset() if state in TASK_TERMINAL else _TASK_FROM_ANY_OPEN)
        for state in TaskState
    },
}

# tasker-core's step machine. One addition of ours: in_progress -> in_progress is the re-claim
# of a step whose worker's claim lapsed (its message was redelivered; see docs/services.md), so a
# dead worker's step is not lost. Manual completion and resolution reach every open state.
_STEP_FROM_ANY_OPEN = frozenset({S.COMPLETE, S.RESOLVED_MANUALLY, S.CANCELLED})
_STEP_MOVES: dict[StepState | None, frozenset[StepState]] = {
    None: frozenset({S.PENDING}),
    S.PENDING: frozenset({S.ENQUEUED, S.IN_PROGRESS, S.ERROR, S.WAITING_FOR_RETRY}),
    S.ENQUEUED: frozenset({S.IN_PROGRESS, S.ERROR, S.WAITING_FOR_RETRY}),
    S.IN_PROGRESS: frozenset(
        {
            S.IN_PROGRESS,
            S.ENQUEUED_FOR_ORCHESTRATION,
            S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
            S.ERROR,
            S.WAITING_FOR_RETRY,
        }
    ),
    S.ENQUEUED_FOR_ORCHESTRATION: frozenset({S.ERROR}),
    S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION: frozenset({S.ERROR, S.WAITING_FOR_RETRY}),
    # a retry goes back through pending (waiting_for_retry -> pending -> enqueued), and so does
    # a reset of a step in error
    S.WAITING_FOR_RETRY: frozenset({S.PENDING}),
    S.ERROR: frozenset({S.PENDING}),
}
STEP_TRANSITIONS: Mapping[StepState | None, frozenset[StepState]] = {
    None: _STEP_MOVES[None],
    **{
        state: frozenset()
        if state in STEP_TERMINAL
        else _STEP_MOVES.get(state, frozenset()) | _STEP_FROM_ANY_OPEN
        for state in StepState
    },
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
