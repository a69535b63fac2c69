"""Turning stored rows into tasker-core's API documents (`TaskResponse`, `StepResponse`, ...).

Fields of our own (`handler`, `dependencies`, `results`, ...) ride along where they do not
collide with upstream's: its schemas allow extra properties.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ...states import STEP_DONE, STEP_TERMINAL, StepState
from ..store.database import Row
from ..web import iso

S = StepState
_PENDING = (S.PENDING, S.ENQUEUED, S.WAITING_FOR_RETRY)
_IN_PROGRESS = (S.IN_PROGRESS, S.ENQUEUED_FOR_ORCHESTRATION, S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION)
_ACTIONS = {
    "has_ready_steps": "execute_ready_steps",
    "processing": "wait_for_completion",
    "blocked_by_failures": "handle_failures",
    "all_complete": "finalize_task",
    "waiting_for_dependencies": "wait_for_dependencies",
}
# Named steps are not rows here; their uuid is derived from the template and the step name.
_NAMED_STEPS = uuid.UUID("6f1d3c52-4a8e-4f0e-9a57-3b1f0c9e2d41")


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def named_step_uuid(namespace: str, name: str, version: str, step: str) -> str:
    return str(uuid.uuid5(_NAMED_STEPS, f"{namespace}/{name}/{version}/{step}"))


class Readiness:
    """What `StepReadinessStatus` and `StepResponse` say about each step of one task."""

    def __init__(self, steps: Sequence[Row], now: float | None = None) -> None:
        self.states = {step["name"]: step["current_state"] for step in steps}
        self.now = time.time() if now is None else now

    def of(self, step: Row) -> dict[str, Any]:
        parents = _json(step["dependencies"]) or []
        completed = sum(1 for parent in parents if self.states.get(parent) in STEP_DONE)
        satisfied = completed == len(parents)
        state = step["current_state"]
        next_retry = step.get("next_retry_at")
        eligible = bool(step["retryable"]) and step["attempts"] < step["max_attempts"]
        waiting = state == S.PENDING or (state == S.WAITING_FOR_RETRY and eligible)
        ready = waiting and satisfied and (next_retry is None or next_retry <= self.now)
        return {
            "dependencies_satisfied": satisfied,
            "retry_eligible": eligible and state not in STEP_TERMINAL,
            "ready_for_execution": ready,
            "total_parents": len(parents),
            "completed_parents": completed,
            "attempts": step["attempts"],
            "max_attempts": step["max_attempts"],
            "last_attempted_at": None,
            "last_failure_at": None,
            "next_retry_at": iso(next_retry) if state == S.WAITING_FOR_RETRY else None,
        }


def _ours(step: Row) -> dict[str, Any]:
    return {
        "handler": step["handler"],
        "dependencies": _json(step["dependencies"]),
        "retryable": bool(step["retryable"]),
        "results": _json(step["results"]),
        "last_error": step["last_error"],
        "processor_uuid": step["processor_uuid"],
    }


def readiness_view(task: Row, step: Row, readiness: Readiness) -> dict[str, Any]:
    """A task's step as upstream's `StepReadinessStatus`."""
    return {
        "workflow_step_uuid": step["step_uuid"],
        "task_uuid": step["task_uuid"],
        "named_step_uuid": named_step_uuid(
            task["namespace"], task["name"], task["version"], step["name"]
        ),
        "name": step["name"],
        "current_state": step["current_state"],
        **readiness.of(step),
        "backoff_request_seconds": None,
        **_ours(step),
        "created_at": iso(step["created_at"]),
        "updated_at": iso(step["updated_at"]),
        "completed_at": iso(step["completed_at"]),
    }


def step_view(step: Row, readiness: Readiness) -> dict[str, Any]:
    """A step as upstream's `StepResponse`."""
    return {
        "step_uuid": step["step_uuid"],
        "task_uuid": step["task_uuid"],
        "name": step["name"],
        "created_at": iso(step["created_at"]),
        "updated_at": iso(step["updated_at"]),
        "completed_at": iso(step["completed_at"]),
        "current_state": step["current_state"],
        **readiness.of(step),
        **_ours(step),
    }


def step_counts(states: Mapping[str, int], ready: int = 0) -> dict[str, Any]:
    total = sum(states.values())

    def count(group: Collection[StepState]) -> int:
        return sum(states.get(state.value, 0) for state in group)

    completed = count(STEP_DONE)
    failed = states.get(S.ERROR.value, 0)
    in_progress = count(_IN_PROGRESS)
    if failed:
        execution = "blocked_by_failures"
    elif total and completed == total:
        execution = "all_complete"
    elif ready:
        execution = "has_ready_steps"
    elif in_progress or states.get(S.ENQUEUED.value, 0):
        execution = "processing"
    else:
        execution = "waiting_for_dependencies"
    return {
        "total_steps": total,
        "pending_steps": count(_PENDING),
        "in_progress_steps": in_progress,
        "completed_steps": completed,
        "failed_steps": failed,
        "ready_steps": ready,
        "execution_status": execution,
        "recommended_action": _ACTIONS[execution],
        "completion_percentage": round(100.0 * completed / total, 1) if total else 0.0,
        "health_status": "blocked" if failed else "healthy",
    }


def task_view(row: Row, steps: Sequence[Row]) -> dict[str, Any]:
    """A task as upstream's `TaskResponse`, its steps as `StepReadinessStatus`."""
    readiness = Readiness(steps)
    views = [readiness_view(row, step, readiness) for step in steps]
    ready = sum(1 for view in views if view["ready_for_execution"])
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
        "idempotency_key": row["idempotency_key"],
        "requested_at": iso(row["requested_at"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "completed_at": iso(row["completed_at"]),
        **step_counts(step_states(steps), ready),
        "steps": views,
    }


def audit_view(row: Row, correlation_id: str | None) -> dict[str, Any]:
    """A recorded step result as upstream's `StepAuditResponse`."""
    transition = str(uuid.uuid5(_NAMED_STEPS, f"step-transition/{row['id']}"))
    metadata = _json(row["metadata"]) or {}
    handed_over = _json(row.get("result_metadata")) or {}
    if row["success"] and row["to_state"] == S.COMPLETE:
        result = _json(row.get("step_results"))
    else:
        result = {"error": handed_over["error"]} if "error" in handed_over else None
    return {
        "audit_uuid": str(uuid.uuid5(_NAMED_STEPS, f"audit/{row['id']}")),
        "workflow_step_uuid": row["step_uuid"],
        "transition_uuid": transition,
        "task_uuid": row["task_uuid"],
        "recorded_at": iso(row["created_at"]),
        "worker_uuid": row["worker_uuid"],
        "correlation_id": correlation_id,
        "success": bool(row["success"]),
        "execution_time_ms": row["execution_time_ms"],
        "result": result,
        "step_name": row["step_name"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "processor": row["processor"],
        "metadata": metadata,
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


def step_states(steps: Sequence[Row]) -> dict[str, int]:
    states: dict[str, int] = {}
    for step in steps:
        states[step["current_state"]] = states.get(step["current_state"], 0) + 1
    return states
