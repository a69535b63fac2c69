"""Invariant detection from crafted transition and audit rows."""

from __future__ import annotations

from typing import Any

from tasker_cluster.exactly_once import (
    Transition,
    claimed_once,
    claims,
    completed_once,
    is_claim,
    is_redelivery,
    once_per_attempt,
)
from tasker_cluster.load.invariants import (
    TaskEvidence,
    check_task,
    count_claims,
    finalizer,
    step_runner,
)

TASK = "11111111-1111-1111-1111-111111111111"
STEP = "22222222-2222-2222-2222-222222222222"


def audit(*rows: tuple[str, str, str | None, dict[str, Any] | None]) -> list[dict[str, Any]]:
    return [
        {"from_state": frm, "to_state": to, "worker_uuid": worker, "metadata": meta}
        for frm, to, worker, meta in rows
    ]


NORMAL_STEP = audit(
    ("pending", "enqueued", None, None),
    ("enqueued", "in_progress", "worker-python-1", None),
    ("in_progress", "enqueued_for_orchestration", "worker-python-1", None),
    ("enqueued_for_orchestration", "complete", None, None),
)
NORMAL_TASK = [
    {"to_state": "initializing", "processor": "orchestration-1"},
    {"to_state": "steps_in_process", "processor": "orchestration-1"},
    {"to_state": "complete", "processor": "orchestration-2"},
]


def evidence(**changes: Any) -> TaskEvidence:
    base: dict[str, Any] = {
        "task_uuid": TASK,
        "status": "complete",
        "transitions": NORMAL_TASK,
        "step_audits": {STEP: NORMAL_STEP},
        "step_names": {STEP: "fan_out_1"},
    }
    base.update(changes)
    return TaskEvidence(**base)


def test_a_clean_task_breaks_nothing() -> None:
    assert check_task(evidence()) == []


def test_two_claims_are_a_double_claim_naming_the_step_and_claimants() -> None:
    double = audit(
        ("pending", "enqueued", None, None),
        ("enqueued", "in_progress", "worker-python-1", None),
        ("in_progress", "in_progress", "worker-python-2", None),
        ("in_progress", "enqueued_for_orchestration", "worker-python-2", None),
        ("enqueued_for_orchestration", "complete", None, None),
    )
    [violation] = check_task(evidence(step_audits={STEP: double}))
    assert violation.invariant == "steps_claimed_more_than_once"
    assert violation.step_uuid == STEP
    assert violation.detail == "step fan_out_1 claimed 2 times by worker-python-1, worker-python-2"


def test_a_redelivered_claim_is_not_a_double_claim() -> None:
    redelivered = audit(
        ("enqueued", "in_progress", "worker-python-1", None),
        ("in_progress", "in_progress", "worker-python-2", {"redelivered": True}),
        ("in_progress", "enqueued_for_orchestration", "worker-python-2", None),
        ("enqueued_for_orchestration", "complete", None, None),
    )
    assert count_claims(redelivered) == 1
    assert check_task(evidence(step_audits={STEP: redelivered})) == []
    assert step_runner(redelivered) == "worker-python-2"


def test_two_complete_transitions_of_a_task_are_a_double_completion() -> None:
    twice = [*NORMAL_TASK, {"to_state": "complete", "processor": "orchestration-1"}]
    [violation] = check_task(evidence(transitions=twice))
    assert (violation.invariant, violation.detail) == (
        "tasks_completed_more_than_once",
        "2 complete transitions",
    )
    assert finalizer(twice) == "orchestration-2"


def test_a_step_completed_twice_is_reported() -> None:
    twice = [*NORMAL_STEP, {"from_state": "complete", "to_state": "complete", "worker_uuid": None}]
    [violation] = check_task(evidence(step_audits={STEP: twice}))
    assert violation.invariant == "steps_completed_more_than_once"
    assert violation.detail == "step fan_out_1 completed 2 times"


def test_lost_stuck_and_failed_tasks() -> None:
    [lost] = check_task(evidence(status=None))
    assert (lost.invariant, lost.detail) == ("tasks_never_finished", "lost: the API answers 404")
    [stuck] = check_task(evidence(status="steps_in_process", transitions=NORMAL_TASK[:2]))
    assert (stuck.invariant, stuck.detail) == ("tasks_never_finished", "stuck in steps_in_process")
    [failed] = check_task(evidence(status="error", transitions=NORMAL_TASK[:2]))
    assert (failed.invariant, failed.detail) == ("tasks_failed", "ended error")


def test_step_runner_is_the_worker_that_handed_the_result_back() -> None:
    assert step_runner(NORMAL_STEP) == "worker-python-1"
    assert step_runner(audit(("pending", "enqueued", None, None))) is None


def test_the_exactly_once_predicates_read_plain_records() -> None:
    records = [Transition.of_step(row) for row in NORMAL_STEP]
    assert claimed_once(records)
    assert completed_once(records)
    assert [record.actor for record in claims(records)] == ["worker-python-1"]
    redelivered = Transition("in_progress", "worker-python-2", {"redelivered": True})
    assert is_redelivery(redelivered)
    assert not is_claim(redelivered)
    assert claimed_once([*records, redelivered])
    assert not completed_once([*records, *records])
    assert once_per_attempt(2, 2)
    assert not once_per_attempt(2, 1)
    assert Transition.of_task(NORMAL_TASK[-1]).actor == "orchestration-2"
