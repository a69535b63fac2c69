"""`GET /v1/tasks/{uuid}/summary`: tasker-core's `TaskSummaryResponse`, in one read.

The task with its step counts, the template's steps as this task expanded them (each stored
step keeps its handler, dependencies and retry settings, so the summary needs no template
lookup and stays right when a template changes later), every step's state with its last
error, and whether the task is in the DLQ.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ...states import StepState
from ..store import reads
from ..store.database import Row, Transaction
from ..web import iso
from . import operations, tasks_api
from .views import Readiness, step_counts, step_states

# A step in one of these states with a recorded error reports it.
_ERROR_STATES = (StepState.ERROR, StepState.WAITING_FOR_RETRY)


def _template_step(step: Row) -> dict[str, Any]:
    return {
        "name": step["name"],
        "step_type": "standard",
        "handler": step["handler"],
        "dependencies": operations._json(step["dependencies"]) or [],
        "retryable": bool(step["retryable"]),
        "max_attempts": step["max_attempts"],
    }


def _step(step: Row, readiness: Readiness) -> dict[str, Any]:
    ready = readiness.of(step)
    failed = step["current_state"] in _ERROR_STATES and step["last_error"] is not None
    return {
        "step_uuid": step["step_uuid"],
        "name": step["name"],
        "current_state": step["current_state"],
        "created_at": iso(step["created_at"]),
        "completed_at": iso(step["completed_at"]),
        "last_attempted_at": ready["last_attempted_at"],
        "attempts": step["attempts"],
        "max_attempts": step["max_attempts"],
        "dependencies_satisfied": ready["dependencies_satisfied"],
        "retry_eligible": ready["retry_eligible"],
        "error": {
            "error_type": "StepExecutionError",
            "retryable": step["current_state"] == StepState.WAITING_FOR_RETRY,
            "status_code": None,
        }
        if failed
        else None,
    }


def task_summary_document(transaction: Transaction, task_uuid: str) -> dict[str, Any]:
    task = tasks_api._require_task(transaction, task_uuid)
    steps = reads.get_steps(transaction, task_uuid)
    readiness = Readiness(steps)
    ready = sum(1 for step in steps if readiness.of(step)["ready_for_execution"])
    counts = step_counts(step_states(steps), ready)
    dlq = transaction.fetch_one(
        "SELECT dlq_reason, resolution_status FROM tasks_dlq WHERE task_uuid = ?", (task_uuid,)
    )
    return {
        "task": {
            "task_uuid": task["task_uuid"],
            "name": task["name"],
            "namespace": task["namespace"],
            "version": task["version"],
            "status": task["status"],
            "created_at": iso(task["created_at"]),
            "updated_at": iso(task["updated_at"]),
            "completed_at": iso(task["completed_at"]),
            "initiator": task["initiator"] or "",
            "source_system": task["source_system"] or "",
            "reason": task["reason"] or "",
            "correlation_id": task["correlation_id"],
            **{
                name: counts[name]
                for name in (
                    "total_steps",
                    "pending_steps",
                    "in_progress_steps",
                    "completed_steps",
                    "failed_steps",
                    "completion_percentage",
                    "health_status",
                    "execution_status",
                    "recommended_action",
                )
            },
        },
        "template": {"steps": [_template_step(step) for step in steps]},
        "steps": [_step(step, readiness) for step in steps],
        "dlq": {
            "in_dlq": dlq is not None,
            "dlq_reason": dlq["dlq_reason"] if dlq else None,
            "resolution_status": dlq["resolution_status"] if dlq else None,
        },
        "links": {
            "task": f"/v1/tasks/{task_uuid}",
            "steps": f"/v1/tasks/{task_uuid}/workflow_steps",
            "dlq": "/v1/dlq",
        },
    }


async def task_summary(request: Request) -> JSONResponse:
    """Entering a failed task in the DLQ first (as the DLQ routes do), so `dlq` is current."""
    task_uuid = tasks_api._task_uuid(request)
    return await operations._dlq(
        request, lambda transaction: task_summary_document(transaction, task_uuid)
    )
