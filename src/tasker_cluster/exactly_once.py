"""The exactly-once rules over plain transition records (pure: no I/O).

A record is one row of a state history: a step's audit trail or a task's transitions, as
the API, the client models or the database give it. Only `to_state` and `metadata` matter
here, so the client's `StepTransition`/`TaskTransition` are records as they are, and mapping
rows become records through `Transition.of_step` / `Transition.of_task`.

- A *claim* is a move to `in_progress`, except the re-claim of a redelivered message (its
  earlier claimant's visibility timeout expired; docs/services.md).
- A *completion* is a move to `complete`: for a step, its result applied by the
  orchestration; for a task, its finalization.

Every step is claimed once per attempt, and every step and task is completed exactly once.
Imports nothing from the package but `states`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .states import StepState, TaskState


class TransitionRecord(Protocol):
    @property
    def to_state(self) -> str | None: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


R = TypeVar("R", bound=TransitionRecord)


@dataclass(frozen=True)
class Transition:
    """A plain record; `actor` is the worker for steps, the orchestration instance for tasks."""

    to_state: str | None
    actor: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of_row(cls, row: Mapping[str, Any], actor_key: str | None = None) -> Transition:
        """A history row as JSON (`to_state`, `metadata`), its actor under `actor_key`."""
        actor = row.get(actor_key) if actor_key else None
        return cls(row.get("to_state"), str(actor) if actor else None, row.get("metadata") or {})

    @classmethod
    def of_step(cls, row: Mapping[str, Any]) -> Transition:
        """A step audit row: the actor is its `worker_uuid`."""
        return cls.of_row(row, "worker_uuid")

    @classmethod
    def of_task(cls, row: Mapping[str, Any]) -> Transition:
        """A task transition row: the actor is its `processor`."""
        return cls.of_row(row, "processor")


def is_redelivery(record: TransitionRecord) -> bool:
    """The re-claim of a message whose earlier claimant's visibility timeout expired."""
    return record.to_state == StepState.IN_PROGRESS and bool(record.metadata.get("redelivered"))


def is_claim(record: TransitionRecord) -> bool:
    return record.to_state == StepState.IN_PROGRESS and not record.metadata.get("redelivered")


def is_completion(record: TransitionRecord) -> bool:
    # The step and the task state are both named "complete".
    return record.to_state in (StepState.COMPLETE, TaskState.COMPLETE)


def claims(history: Iterable[R]) -> list[R]:
    return [record for record in history if is_claim(record)]


def redeliveries(history: Iterable[R]) -> list[R]:
    return [record for record in history if is_redelivery(record)]


def completions(history: Iterable[R]) -> list[R]:
    return [record for record in history if is_completion(record)]


def once(count: int) -> bool:
    """The rule for completions (and for the claims of a single attempt)."""
    return count == 1


def more_than_once(count: int) -> bool:
    """A violation of exactly-once, whatever else went wrong."""
    return count > 1


def once_per_attempt(claim_count: int, attempts: int) -> bool:
    """A retried step is claimed again for each attempt, and only then."""
    return claim_count == attempts


def claimed_once(audit: Iterable[TransitionRecord]) -> bool:
    return once(len(claims(audit)))


def completed_once(history: Iterable[TransitionRecord]) -> bool:
    """A step's result applied exactly once, or a task finalized exactly once."""
    return once(len(completions(history)))
