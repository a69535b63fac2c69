"""Reading the shared database directly, with the plain drivers, to check invariants."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Any

import psycopg

from tasker_cluster import exactly_once
from tasker_cluster.exactly_once import Transition
from tasker_cluster.states import StepState, TaskState


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if database_url.startswith("sqlite:"):
        path = "/" + database_url.removeprefix("sqlite://").lstrip("/")
        with sqlite3.connect(path, timeout=30) as connection:
            return list(connection.execute(sql, params).fetchall())
    with psycopg.connect(database_url) as connection:
        return list(connection.execute(sql.replace("?", "%s"), params).fetchall())


@dataclass(frozen=True)
class Invariants:
    """What the transition history says happened, per step and per task.

    Claims, redeliveries and completions are counted, and judged, by `tasker_cluster.exactly_once`.
    """

    claims: Counter[str]  # step uuid -> in_progress transitions that are not redeliveries
    redeliveries: Counter[str]  # step uuid -> redelivered re-claims
    step_completions: Counter[str]  # step uuid -> transitions to complete
    task_completions: Counter[str]  # task uuid -> transitions to complete
    step_attempts: dict[str, int]
    step_workers: dict[str, str | None]
    task_status: dict[str, str]

    def steps_claimed_more_than_once(self) -> dict[str, int]:
        return {
            s: n
            for s, n in self.claims.items()
            if not exactly_once.once_per_attempt(n, self.step_attempts[s])
        }

    def steps_completed_more_than_once(self) -> dict[str, int]:
        return {s: n for s, n in self.step_completions.items() if exactly_once.more_than_once(n)}

    def tasks_completed_more_than_once(self) -> dict[str, int]:
        return {t: n for t, n in self.task_completions.items() if exactly_once.more_than_once(n)}


def invariants(database_url: str) -> Invariants:
    claims: Counter[str] = Counter()
    redeliveries: Counter[str] = Counter()
    step_completions: Counter[str] = Counter()
    for step_uuid, to_state, metadata in query(
        database_url,
        "SELECT step_uuid, to_state, metadata FROM workflow_step_transitions"
        " WHERE to_state IN (?, ?)",
        (StepState.IN_PROGRESS.value, StepState.COMPLETE.value),
    ):
        record = Transition(to_state, metadata=json.loads(metadata))
        if exactly_once.is_completion(record):
            step_completions[step_uuid] += 1
        elif exactly_once.is_redelivery(record):
            redeliveries[step_uuid] += 1
        elif exactly_once.is_claim(record):
            claims[step_uuid] += 1
    task_completions: Counter[str] = Counter(
        row[0]
        for row in query(
            database_url,
            "SELECT task_uuid FROM task_transitions WHERE to_state = ?",
            (TaskState.COMPLETE.value,),
        )
    )
    steps = query(database_url, "SELECT step_uuid, attempts, processor_uuid FROM workflow_steps")
    return Invariants(
        claims=claims,
        redeliveries=redeliveries,
        step_completions=step_completions,
        task_completions=task_completions,
        step_attempts={row[0]: int(row[1]) for row in steps},
        step_workers={row[0]: row[2] for row in steps},
        task_status=dict(
            (row[0], row[1]) for row in query(database_url, "SELECT task_uuid, status FROM tasks")
        ),
    )
