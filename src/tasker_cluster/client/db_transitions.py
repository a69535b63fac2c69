"""Task and step transitions read from a tasker database, for deployments whose API has no
transitions route (tasker-core's): its tables `tasker.task_transitions` and
`tasker.workflow_step_transitions`, columns as upstream names them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from tasker_cluster.client.api import UuidLike
from tasker_cluster.client.errors import TransitionsUnreadableError
from tasker_cluster.client.transitions import StepTransition, TaskTransition
from tasker_cluster.secrets import redact_url

SCHEMA = "tasker"
TASK_QUERY = f"""
SELECT task_transition_uuid, task_uuid, from_state, to_state, metadata, sort_key, most_recent,
       created_at, processor_uuid
  FROM {SCHEMA}.task_transitions
 WHERE task_uuid = %s
 ORDER BY sort_key, created_at
"""
STEP_QUERY = f"""
SELECT t.workflow_step_transition_uuid, t.workflow_step_uuid, s.task_uuid, t.from_state,
       t.to_state, t.metadata, t.sort_key, t.most_recent, t.created_at
  FROM {SCHEMA}.workflow_step_transitions t
  JOIN {SCHEMA}.workflow_steps s ON s.workflow_step_uuid = t.workflow_step_uuid
 WHERE s.task_uuid = %s
 ORDER BY t.workflow_step_uuid, t.sort_key, t.created_at
"""
WORKER_KEYS = ("worker_uuid", "worker_id", "processor_uuid", "processor")


class DatabaseTransitions:
    """Reads transitions straight from the database a deployment's instances share."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.label = f"database {redact_url(database_url)}"

    async def task_transitions(self, task_uuid: UuidLike) -> tuple[TaskTransition, ...]:
        rows = await asyncio.to_thread(self._query, TASK_QUERY, str(task_uuid))
        return tuple(TaskTransition.parse(_task_row(row), self.label) for row in rows)

    async def step_transitions(
        self, task_uuid: UuidLike, step_uuid: UuidLike | None = None
    ) -> tuple[StepTransition, ...]:
        """The task's step transitions, of one step when `step_uuid` is given."""
        rows = await asyncio.to_thread(self._query, STEP_QUERY, str(task_uuid))
        found = (StepTransition.parse(_step_row(row), self.label) for row in rows)
        return tuple(t for t in found if step_uuid is None or str(t.step_uuid) == str(step_uuid))

    def _query(self, sql: str, task_uuid: str) -> list[Mapping[str, Any]]:
        import psycopg  # noqa: PLC0415 - only deployments read through the database pay for it
        from psycopg.rows import dict_row  # noqa: PLC0415

        try:
            with psycopg.connect(self.database_url, connect_timeout=5) as connection:
                return list(connection.cursor(row_factory=dict_row).execute(sql, (task_uuid,)))
        except psycopg.Error as error:
            raise TransitionsUnreadableError(
                redact_url(self.database_url), str(error).strip()
            ) from None


def _metadata(value: object) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return dict(value) if isinstance(value, Mapping) else {}


def _task_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["task_transition_uuid"]),
        "task_uuid": str(row["task_uuid"]),
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "processor": None if row["processor_uuid"] is None else str(row["processor_uuid"]),
        "metadata": _metadata(row["metadata"]),
        "sort_key": int(row["sort_key"]),
        "most_recent": bool(row["most_recent"]),
        "created_at": _time(row["created_at"]),
    }


def _step_row(row: Mapping[str, Any]) -> dict[str, Any]:
    metadata = _metadata(row["metadata"])
    worker = next((str(metadata[key]) for key in WORKER_KEYS if metadata.get(key)), None)
    return {
        "id": str(row["workflow_step_transition_uuid"]),
        "step_uuid": str(row["workflow_step_uuid"]),
        "task_uuid": str(row["task_uuid"]),
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "worker_uuid": worker,
        "metadata": metadata,
        "sort_key": int(row["sort_key"]),
        "most_recent": bool(row["most_recent"]),
        "created_at": _time(row["created_at"]),
    }


def _time(value: object) -> str | None:
    return None if value is None else str(getattr(value, "isoformat", lambda: value)())
