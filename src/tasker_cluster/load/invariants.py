"""Exactly-once checks over task transitions and step audits (pure: no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tasker_cluster import exactly_once
from tasker_cluster.exactly_once import Transition
from tasker_cluster.states import TASK_TERMINAL, StepState, TaskState

TERMINAL_TASK_STATES = TASK_TERMINAL  # the name load.tracking imports
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Invariant:
    name: str
    description: str


STEPS_CLAIMED_TWICE = Invariant(
    "steps_claimed_more_than_once",
    "a step moved to in_progress by more than one claim (redeliveries excluded)",
)
STEPS_COMPLETED_TWICE = Invariant(
    "steps_completed_more_than_once", "a step reached complete more than once"
)
TASKS_COMPLETED_TWICE = Invariant(
    "tasks_completed_more_than_once", "a task has more than one complete transition"
)
TASKS_NEVER_FINISHED = Invariant(
    "tasks_never_finished", "a created task is unknown to the API (lost) or not terminal (stuck)"
)
TASKS_FAILED = Invariant("tasks_failed", "a task ended in a terminal state other than complete")
TASK_UUIDS_REUSED = Invariant(
    "task_uuids_returned_twice", "two creations were answered with the same task uuid"
)
ALL_INVARIANTS = (
    TASK_UUIDS_REUSED,
    STEPS_CLAIMED_TWICE,
    STEPS_COMPLETED_TWICE,
    TASKS_COMPLETED_TWICE,
    TASKS_NEVER_FINISHED,
    TASKS_FAILED,
)


@dataclass(frozen=True)
class Violation:
    invariant: str
    task_uuid: str
    step_uuid: str | None
    detail: str


@dataclass(frozen=True)
class TaskEvidence:
    """What the API says about one created task after the run."""

    task_uuid: str
    status: str | None  # None: the API does not know the task
    transitions: Sequence[Row] = ()
    step_audits: Mapping[str, Sequence[Row]] = field(default_factory=dict)
    step_names: Mapping[str, str] = field(default_factory=dict)


def count_claims(audit: Iterable[Row]) -> int:
    """Moves to in_progress, redeliveries excluded."""
    return len(exactly_once.claims(map(Transition.of_row, audit)))


def count_completions(rows: Iterable[Row]) -> int:
    """Moves to complete: a step's result applied, or a task finalized."""
    return len(exactly_once.completions(map(Transition.of_row, rows)))


def check_task(evidence: TaskEvidence) -> list[Violation]:
    """Every broken invariant for one task, each naming the task (and step)."""
    uuid = evidence.task_uuid
    if evidence.status is None:
        return [Violation(TASKS_NEVER_FINISHED.name, uuid, None, "lost: the API answers 404")]
    found: list[Violation] = []
    if evidence.status not in TASK_TERMINAL:
        found.append(
            Violation(TASKS_NEVER_FINISHED.name, uuid, None, f"stuck in {evidence.status}")
        )
    elif evidence.status != TaskState.COMPLETE:
        found.append(Violation(TASKS_FAILED.name, uuid, None, f"ended {evidence.status}"))
    completions = count_completions(evidence.transitions)
    if exactly_once.more_than_once(completions):
        found.append(
            Violation(TASKS_COMPLETED_TWICE.name, uuid, None, f"{completions} complete transitions")
        )
    for step_uuid, audit in evidence.step_audits.items():
        name = evidence.step_names.get(step_uuid, step_uuid)
        claims = count_claims(audit)
        if exactly_once.more_than_once(claims):
            claimants = sorted(
                {
                    str(row.get("worker_uuid"))
                    for row in audit
                    if row.get("to_state") == StepState.IN_PROGRESS
                }
            )
            found.append(
                Violation(
                    STEPS_CLAIMED_TWICE.name,
                    uuid,
                    step_uuid,
                    f"step {name} claimed {claims} times by {', '.join(claimants)}",
                )
            )
        step_completions = count_completions(audit)
        if exactly_once.more_than_once(step_completions):
            found.append(
                Violation(
                    STEPS_COMPLETED_TWICE.name,
                    uuid,
                    step_uuid,
                    f"step {name} completed {step_completions} times",
                )
            )
    return found


def reused_uuids(created: Iterable[str]) -> list[Violation]:
    """One violation per task uuid that more than one creation returned."""
    counts = Counter(created)
    return [
        Violation(TASK_UUIDS_REUSED.name, uuid, None, f"returned by {times} creations")
        for uuid, times in counts.items()
        if times > 1
    ]


def finalizer(transitions: Sequence[Row]) -> str | None:
    """The orchestration instance that made the (first) complete transition."""
    finals = exactly_once.completions(map(Transition.of_task, transitions))
    return finals[0].actor if finals else None


def step_runner(audit: Sequence[Row]) -> str | None:
    """The worker whose result was accepted: the claimant of the last claim before completion."""
    runner: str | None = None
    for row in audit:
        if row.get("to_state") == StepState.IN_PROGRESS and row.get("worker_uuid"):
            runner = str(row["worker_uuid"])
        if row.get("to_state") == StepState.ENQUEUED_FOR_ORCHESTRATION and row.get("worker_uuid"):
            return str(row["worker_uuid"])
    return runner
