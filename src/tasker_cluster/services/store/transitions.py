"""Transition rows: `sort_key` orders them, exactly one `most_recent` row per task and per step.

The partial unique indexes make the database itself refuse a second current row, so a
transition is always "demote the current row, insert the new one" inside one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .database import Transaction, insert_rows, placeholders

TASK_TRANSITION_COLUMNS = (
    "task_uuid",
    "from_state",
    "to_state",
    "processor",
    "metadata",
    "sort_key",
    "most_recent",
    "created_at",
)
STEP_TRANSITION_COLUMNS = (
    "step_uuid",
    "task_uuid",
    "from_state",
    "to_state",
    "worker_uuid",
    "processor",
    "success",
    "execution_time_ms",
    "metadata",
    "sort_key",
    "most_recent",
    "created_at",
)


@dataclass(frozen=True)
class StepTransition:
    step_uuid: str
    task_uuid: str
    from_state: str | None
    to_state: str
    processor: str | None
    worker_uuid: str | None = None
    success: bool | None = None
    execution_time_ms: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def record_task_transitions(
    transaction: Transaction,
    task_uuid: str,
    route: Sequence[tuple[str | None, str]],
    *,
    processor: str | None,
    now: float,
    metadata: Mapping[str, Any] | None = None,
    initial: bool = False,
) -> None:
    """Append `route` (pairs of from/to state) to the task's history; the last becomes current."""
    record_many_task_transitions(
        transaction,
        {task_uuid: route},
        processor=processor,
        now=now,
        metadata=metadata,
        initial=initial,
    )


def record_many_task_transitions(
    transaction: Transaction,
    routes: Mapping[str, Sequence[tuple[str | None, str]]],
    *,
    processor: str | None,
    now: float,
    metadata: Mapping[str, Any] | None = None,
    initial: bool = False,
) -> None:
    """The routes of several tasks, in two statements."""
    routes = {task_uuid: route for task_uuid, route in routes.items() if route}
    if not routes:
        return
    previous: dict[str, int] = {}
    if not initial:
        demoted = transaction.fetch_all(
            "UPDATE task_transitions SET most_recent = FALSE"
            f" WHERE task_uuid IN ({placeholders(len(routes))}) AND most_recent"
            " RETURNING task_uuid, sort_key",
            list(routes),
        )
        previous = {row["task_uuid"]: row["sort_key"] for row in demoted}
    text = json.dumps(dict(metadata or {}))
    insert_rows(
        transaction,
        "task_transitions",
        TASK_TRANSITION_COLUMNS,
        [
            (
                task_uuid,
                from_state,
                to_state,
                processor,
                text,
                previous.get(task_uuid, 0) + n,
                last,
                now,
            )
            for task_uuid, route in routes.items()
            for n, (from_state, to_state), last in _numbered(route)
        ],
    )


def _numbered(
    route: Sequence[tuple[str | None, str]],
) -> list[tuple[int, tuple[str | None, str], bool]]:
    """Each pair with its offset from the previous sort key and whether it becomes current."""
    return [(index + 1, pair, index == len(route) - 1) for index, pair in enumerate(route)]


def record_step_transitions(
    transaction: Transaction,
    transitions: Sequence[StepTransition],
    now: float,
    initial: bool = False,
) -> None:
    """One transition per step, in two statements (a step listed twice gets its own round)."""
    if not transitions:
        return
    if len({t.step_uuid for t in transitions}) < len(transitions):
        for transition in transitions:
            record_step_transitions(transaction, [transition], now, initial)
        return
    previous: dict[str, int] = {}
    if not initial:
        uuids = [transition.step_uuid for transition in transitions]
        demoted = transaction.fetch_all(
            "UPDATE workflow_step_transitions SET most_recent = FALSE"
            f" WHERE step_uuid IN ({placeholders(len(uuids))}) AND most_recent"
            " RETURNING step_uuid, sort_key",
            uuids,
        )
        previous = {row["step_uuid"]: row["sort_key"] for row in demoted}
    insert_rows(
        transaction,
        "workflow_step_transitions",
        STEP_TRANSITION_COLUMNS,
        [
            (
                t.step_uuid,
                t.task_uuid,
                t.from_state,
                t.to_state,
                t.worker_uuid,
                t.processor,
                t.success,
                t.execution_time_ms,
                json.dumps(dict(t.metadata)),
                previous.get(t.step_uuid, 0) + 1,
                True,
                now,
            )
            for t in transitions
        ],
    )
