"""Turning stored rows into the JSON documents of the REST API."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from ...states import STEP_DONE, StepState
from ..store.database import Row
from ..web import iso

S = StepState
_PENDING = (S.PENDING, S.ENQUEUED, S.WAITING_FOR_RETRY)
_IN_PROGRESS = (S.IN_PROGRESS, S.ENQUEUED_FOR_ORCHESTRATION, S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def step_counts(states: Mapping[str, int]) -> dict[str, Any]:
    total = sum(states.values())

    def count(group: Collection[StepState]) -> int:
        return sum(states.get(state.value, 0) for state in group)

    completed = count(STEP_DONE)
    return {
        "total_steps": total,
        "pending_steps": count(_PENDING),
        "in_progress_steps": count(_IN_PROGRESS),
        "completed_steps": completed,
        "failed_steps": states.get(S.ERROR.value, 0),
        "completion_percentage": round(100.0 * completed / total, 1) if total else 0.0,
    }


def task_view(row: Row, states: Mapping[str, int]) -> dict[str, Any]:
    return {
        "task_uuid": row["task_uuid"],
        "name": row["name"],
        "namespace": row["namespace"],
        "version": row["version"],
        "status": row["status"],
        "context": _json(row["context"]),
        "initiator": row["initiator"],
        "source_system": row["source_system"],
        "reason": row["reason"],
        "tags": _json(row["tags"]),
        "priority": row["priority"],
        "correlation_id": row["correlation_id"],
        "parent_correlation_id": row["parent_correlation_id"],
        "options": _json(row["options"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "completed_at": iso(row["completed_at"]),
        **step_counts(states),
    }


def step_view(row: Row) -> dict[str, Any]:
    return {
        "step_uuid": row["step_uuid"],
        "task_uuid": row["task_uuid"],
        "name": row["name"],
        "handler": row["handler"],
        "current_state": row["current_state"],
        "dependencies": _json(row["dependencies"]),
        "attempts": row["attempts"],
        "max_attempts": row["max_attempts"],
        "retryable": bool(row["retryable"]),
        "results": _json(row["results"]),
        "last_error": row["last_error"],
        "processor_uuid": row["processor_uuid"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "completed_at": iso(row["completed_at"]),
    }


def step_transition_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "step_uuid": row["step_uuid"],
        "task_uuid": row["task_uuid"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "worker_uuid": row["worker_uuid"],
        "processor": row["processor"],
        "success": None if row["success"] is None else bool(row["success"]),
        "execution_time_ms": row["execution_time_ms"],
        "metadata": _json(row["metadata"]),
        "sort_key": row["sort_key"],
        "most_recent": bool(row["most_recent"]),
        "created_at": iso(row["created_at"]),
    }


def task_transition_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "task_uuid": row["task_uuid"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "processor": row["processor"],
        "metadata": _json(row["metadata"]),
        "sort_key": row["sort_key"],
        "most_recent": bool(row["most_recent"]),
        "created_at": iso(row["created_at"]),
    }


def step_states(steps: list[Row]) -> dict[str, int]:
    states: dict[str, int] = {}
    for step in steps:
        states[step["current_state"]] = states.get(step["current_state"], 0) + 1
    return states
