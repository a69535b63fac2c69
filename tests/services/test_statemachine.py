"""Task and step state machines, and deciding a task's next move from its steps."""

from __future__ import annotations

import itertools

import pytest

from tasker_cluster.services.errors import TransitionNotAllowedError
from tasker_cluster.services.orchestration.evaluation import StepSnapshot, decide
from tasker_cluster.services.statemachine import (
    STEP_TERMINAL,
    STEP_TRANSITIONS,
    TASK_TERMINAL,
    TASK_TRANSITIONS,
    StepState,
    TaskState,
    check_step_transition,
    check_task_transition,
    task_route,
)

S = StepState
T = TaskState


def test_the_normal_step_path_is_allowed() -> None:
    path = [None, S.PENDING, S.ENQUEUED, S.IN_PROGRESS, S.ENQUEUED_FOR_ORCHESTRATION, S.COMPLETE]
    for before, after in itertools.pairwise(path):
        assert after is not None
        check_step_transition(before, after)


def test_a_retry_and_a_reset_go_back_through_pending() -> None:
    for path in (
        [S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION, S.WAITING_FOR_RETRY, S.PENDING, S.ENQUEUED],
        [S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION, S.ERROR, S.PENDING, S.ENQUEUED],
    ):
        for before, after in itertools.pairwise(path):
            check_step_transition(before, after)


@pytest.mark.parametrize("state", sorted(set(StepState) - STEP_TERMINAL))
def test_every_open_step_can_be_completed_resolved_or_cancelled_by_hand(state: StepState) -> None:
    assert {S.COMPLETE, S.RESOLVED_MANUALLY, S.CANCELLED} <= STEP_TRANSITIONS[state]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (S.COMPLETE, S.IN_PROGRESS),
        (S.WAITING_FOR_RETRY, S.ENQUEUED),
        (S.ERROR, S.ENQUEUED),
        (S.ENQUEUED_FOR_ORCHESTRATION, S.IN_PROGRESS),
        (S.CANCELLED, S.ENQUEUED),
        (S.RESOLVED_MANUALLY, S.PENDING),
    ],
)
def test_steps_cannot_skip_or_leave_terminal_states(before: StepState, after: StepState) -> None:
    with pytest.raises(TransitionNotAllowedError) as raised:
        check_step_transition(before, after)
    assert str(raised.value) == f"step transition {before} -> {after} is not allowed"


def test_terminal_task_states_have_no_way_out_but_the_reset_of_an_error() -> None:
    for state in TASK_TERMINAL - {T.ERROR}:
        assert TASK_TRANSITIONS[state] == frozenset()
    assert TASK_TRANSITIONS[T.ERROR] == {T.PENDING}
    with pytest.raises(TransitionNotAllowedError):
        check_task_transition(T.COMPLETE, T.COMPLETE)


def test_every_unfinished_task_can_be_cancelled_and_every_state_is_covered() -> None:
    assert set(TASK_TRANSITIONS) == {None, *TaskState}
    assert set(STEP_TRANSITIONS) == {None, *StepState}
    for state in set(TaskState) - TASK_TERMINAL:
        check_task_transition(state, T.CANCELLED)
        check_task_transition(state, T.RESOLVED_MANUALLY)


@pytest.mark.parametrize(
    ("before", "after", "allowed"),
    [
        (T.WAITING_FOR_RETRY, T.ENQUEUING_STEPS, True),
        (T.STEPS_IN_PROCESS, T.WAITING_FOR_RETRY, True),
        (T.STEPS_IN_PROCESS, T.COMPLETE, True),
        (T.ERROR, T.PENDING, True),
        (T.WAITING_FOR_RETRY, T.EVALUATING_RESULTS, False),
        (T.EVALUATING_RESULTS, T.STEPS_IN_PROCESS, False),
        (T.INITIALIZING, T.ERROR, False),
        (T.CANCELLED, T.PENDING, False),
    ],
)
def test_task_transitions_are_tasker_cores(
    before: TaskState, after: TaskState, allowed: bool
) -> None:
    assert (after in TASK_TRANSITIONS[before]) is allowed


@pytest.mark.parametrize(
    ("current", "outcome", "route"),
    [
        (
            T.PENDING,
            (T.ENQUEUING_STEPS, T.STEPS_IN_PROCESS),
            [T.INITIALIZING, T.ENQUEUING_STEPS, T.STEPS_IN_PROCESS],
        ),
        (T.STEPS_IN_PROCESS, (T.STEPS_IN_PROCESS,), []),
        (T.STEPS_IN_PROCESS, (T.COMPLETE,), [T.EVALUATING_RESULTS, T.COMPLETE]),
        (
            T.STEPS_IN_PROCESS,
            (T.BLOCKED_BY_FAILURES, T.ERROR),
            [T.EVALUATING_RESULTS, T.BLOCKED_BY_FAILURES, T.ERROR],
        ),
        (
            T.WAITING_FOR_RETRY,
            (T.ENQUEUING_STEPS, T.STEPS_IN_PROCESS),
            [T.ENQUEUING_STEPS, T.STEPS_IN_PROCESS],
        ),
        (T.PENDING, (T.COMPLETE,), [T.INITIALIZING, T.COMPLETE]),
    ],
)
def test_task_routes_follow_the_table(
    current: TaskState, outcome: tuple[TaskState, ...], route: list[TaskState]
) -> None:
    assert task_route(current, outcome) == route


def test_no_route_out_of_a_finished_task() -> None:
    with pytest.raises(TransitionNotAllowedError):
        task_route(T.COMPLETE, (T.ENQUEUING_STEPS, T.STEPS_IN_PROCESS))


def _step(name: str, state: StepState, *deps: str, retry_at: float | None = None) -> StepSnapshot:
    return StepSnapshot(f"uuid-{name}", name, "square", state, deps, 0, retry_at)


def test_ready_steps_are_those_whose_dependencies_are_complete() -> None:
    steps = [
        _step("a", S.COMPLETE),
        _step("b", S.PENDING, "a"),
        _step("c", S.PENDING, "a", "b"),
        _step("d", S.IN_PROGRESS),
    ]
    decision = decide(steps, now=100.0)
    assert [step.name for step in decision.enqueue] == ["b"]
    assert decision.outcome == (T.ENQUEUING_STEPS, T.STEPS_IN_PROCESS)


def test_all_complete_finalizes() -> None:
    decision = decide([_step("a", S.COMPLETE), _step("b", S.RESOLVED_MANUALLY)], now=1.0)
    assert decision.outcome == (T.COMPLETE,)
    assert decision.finalizes


def test_retries_wait_until_their_time() -> None:
    waiting = [_step("a", S.WAITING_FOR_RETRY, retry_at=50.0)]
    early = decide(waiting, now=10.0)
    assert early.enqueue == ()
    assert early.outcome == (T.WAITING_FOR_RETRY,)
    assert early.next_look_at == 50.0
    due = decide(waiting, now=50.0)
    assert [step.name for step in due.enqueue] == ["a"]


def test_a_permanent_failure_waits_for_running_steps_then_errors() -> None:
    running = decide([_step("a", S.ERROR), _step("b", S.IN_PROGRESS), _step("c", S.PENDING)], 1.0)
    assert running.enqueue == ()
    assert running.outcome == (T.STEPS_IN_PROCESS,)
    settled = decide([_step("a", S.ERROR), _step("b", S.COMPLETE), _step("c", S.PENDING)], 1.0)
    assert settled.outcome == (T.BLOCKED_BY_FAILURES, T.ERROR)
    assert settled.finalizes
