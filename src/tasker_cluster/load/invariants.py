"""Exactly-once checks over task transitions and step audits (pure: no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TERMINAL_TASK_STATES = frozenset({"complete", "error", "cancelled", "resolved_manually"})
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


def is_redelivery(audit_row: Row) -> bool:
    """A claim of a message whose earlier claimant's visibility timeout expired."""
    metadata = audit_row.get("metadata") or {}
    return bool(metadata.get("redelivered"))


def count_claims(audit: Iterable[Row]) -> int:
    return sum(
        1 for row in audit if row.get("to_state") == "in_progress" and not is_redelivery(row)
    )


def count_to_state(rows: Iterable[Row], state: str) -> int:
    return sum(1 for row in rows if row.get("to_state") == state)


def check_task(evidence: TaskEvidence) -> list[Violation]:
    """Every broken invariant for one task, each naming the task (and step)."""
    uuid = evidence.task_uuid
    if evidence.status is None:
        return [Violation(TASKS_NEVER_FINISHED.name, uuid, None, "lost: the API answers 404")]
    found: list[Violation] = []
    if evidence.status not in TERMINAL_TASK_STATES:
        found.append(
            Violation(TASKS_NEVER_FINISHED.name, uuid, None, f"stuck in {evidence.status}")
        )
    elif evidence.status != "complete":
        found.append(Violation(TASKS_FAILED.name, uuid, None, f"ended {evidence.status}"))
    completions = count_to_state(evidence.transitions, "complete")
    if completions > 1:
        found.append(
            Violation(TASKS_COMPLETED_TWICE.name, uuid, None, f"{completions} complete transitions")
        )
    for step_uuid, audit in evidence.step_audits.items():
        name = evidence.step_names.get(step_uuid, step_uuid)
        claims = count_claims(audit)
        if claims > 1:
            claimants = sorted(
                {
                    str(row.get("worker_uuid"))
                    for row in audit
                    if row.get("to_state") == "in_progress"
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
        step_completions = count_to_state(audit, "complete")
        if step_completions > 1:
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
    for row in transitions:
        if row.get("to_state") == "complete":
            processor = row.get("processor")
            return str(processor) if processor else None
    return None


def step_runner(audit: Sequence[Row]) -> str | None:
    """The worker whose result was accepted: the claimant of the last claim before completion."""
    runner: str | None = None
    for row in audit:
        if row.get("to_state") == "in_progress" and row.get("worker_uuid"):
            runner = str(row["worker_uuid"])
        if row.get("to_state") == "enqueued_for_orchestration" and row.get("worker_uuid"):
            return str(row["worker_uuid"])
    return runner
