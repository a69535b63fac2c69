"""The evidence of every task of a run read in bulk from the reference services' database:
a few queries whatever the number of tasks, instead of one API read per task and per step.

The rows are the ones the API serves (`to_state`, `metadata`, `processor`, `worker_uuid`), so
the invariants and their examples are the same either way.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tasker_cluster.load.invariants import Row, TaskEvidence
from tasker_cluster.load.tracking import TrackedTask

CHUNK = 5000  # uuids per query: one query for any run of up to this many tasks
TASK_SQL = (
    "SELECT task_uuid, from_state, to_state, processor, metadata, sort_key"
    " FROM task_transitions WHERE task_uuid IN ({marks}) ORDER BY task_uuid, sort_key"
)
STEP_SQL = (
    "SELECT task_uuid, step_uuid, from_state, to_state, worker_uuid, processor, metadata,"
    " sort_key FROM workflow_step_transitions WHERE task_uuid IN ({marks})"
    " ORDER BY step_uuid, sort_key"
)
KNOWN_SQL = "SELECT task_uuid FROM tasks WHERE task_uuid IN ({marks})"


class DatabaseEvidence:
    """Reads `task_transitions` and `workflow_step_transitions` of the shared database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.queries = 0

    def read(self, tasks: Sequence[TrackedTask]) -> list[TaskEvidence]:
        uuids = [task.task_uuid for task in tasks if not task.lost]
        known: set[str] = set()
        task_rows: dict[str, list[Row]] = defaultdict(list)
        step_rows: dict[str, list[Row]] = defaultdict(list)
        with self._rows() as query:
            for first in range(0, len(uuids), CHUNK):
                chunk = uuids[first : first + CHUNK]
                known.update(str(row["task_uuid"]) for row in query(KNOWN_SQL, chunk))
                for row in query(TASK_SQL, chunk):
                    task_rows[str(row["task_uuid"])].append(_row(row))
                for row in query(STEP_SQL, chunk):
                    step_rows[str(row["step_uuid"])].append(_row(row))
        return [
            TaskEvidence(task.task_uuid, None)
            if task.lost or task.task_uuid not in known
            else TaskEvidence(
                task_uuid=task.task_uuid,
                status=task.status,
                transitions=task_rows.get(task.task_uuid, []),
                step_audits={step: step_rows.get(step, []) for step in task.steps},
                step_names=task.steps,
            )
            for task in tasks
        ]

    @contextmanager
    def _rows(self) -> Iterator[Any]:
        """A `query(sql, uuids) -> rows as mappings` on one connection, for either database."""
        if self.database_url.startswith("sqlite"):
            path = Path(self.database_url.removeprefix("sqlite:///")).absolute()
            connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            connection.row_factory = sqlite3.Row

            def sqlite_query(sql: str, uuids: Sequence[str]) -> list[Mapping[str, Any]]:
                self.queries += 1
                marks = ", ".join("?" for _ in uuids)
                return list(connection.execute(sql.format(marks=marks), tuple(uuids)))

            try:
                yield sqlite_query
            finally:
                connection.close()
            return
        import psycopg  # noqa: PLC0415 - only PostgreSQL runs pay for it
        from psycopg.rows import dict_row  # noqa: PLC0415

        with psycopg.connect(self.database_url, row_factory=dict_row) as pg:

            def postgres_query(sql: str, uuids: Sequence[str]) -> list[Mapping[str, Any]]:
                self.queries += 1
                text = sql.replace("IN ({marks})", "= ANY(%s)")
                return list(pg.execute(text.encode(), (list(uuids),)))

            yield postgres_query


def _row(row: Mapping[str, Any]) -> Row:
    data = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row iterates values
    metadata = data.get("metadata")
    data["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata or {}
    return data
