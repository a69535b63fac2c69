"""The OpenAPI 3 document of the orchestration API, written to match what the code accepts."""

from __future__ import annotations

from typing import Any

from ...states import TaskState
from ..templates import TaskTemplate
from .openapi_schemas import IDENTIFIER_SCHEMA, SCHEMAS, UUID, Schema, task_request_schema
from .validation import MAX_PER_PAGE

ERROR_DESCRIPTIONS = {
    "400": "Malformed JSON",
    "404": "Unknown template, task, step or route",
    "405": "Method not allowed",
    "409": "Conflict",
    "413": "Body too large",
    "422": "Invalid field or parameter",
    "503": "Database unavailable",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(status: str, schema: Schema, description: str, *errors: str) -> dict[str, Any]:
    responses = {status: _json(schema, description)}
    for code in ("405", "503", *errors):
        responses[code] = _json(_ref("Error"), ERROR_DESCRIPTIONS[code])
    return responses


def _path_uuid(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def _get(
    operation_id: str, summary: str, responses: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "get": {"operationId": operation_id, "summary": summary, "responses": responses, **extra}
    }


def _array(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _lookup(
    operation_id: str, summary: str, schema: Schema, description: str, parameters: list[Any]
) -> dict[str, Any]:
    """A read under a task: 404 for an unknown task or step, 422 for a malformed uuid."""
    responses = _responses("200", schema, description, "404", "422")
    return _get(operation_id, summary, responses, parameters=parameters)


TASK = [_path_uuid("task_uuid")]
STEP = [*TASK, _path_uuid("step_uuid")]
LIST_PARAMETERS = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
    },
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    },
    {"name": "namespace", "in": "query", "schema": IDENTIFIER_SCHEMA},
    {
        "name": "status",
        "in": "query",
        "schema": {"type": "string", "enum": [state.value for state in TaskState]},
    },
]
METRICS_RESPONSE = {
    "200": {
        "description": "Prometheus text",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    "405": _json(_ref("Error"), ERROR_DESCRIPTIONS["405"]),
}


def _paths() -> dict[str, Any]:
    return {
        "/health": _get(
            "health", "Liveness with instance id", _responses("200", _ref("Health"), "Healthy")
        ),
        "/health/ready": _get(
            "ready",
            "Readiness: database and orchestration loop",
            _responses("200", _ref("Ready"), "Ready"),
        ),
        "/health/live": _get("live", "Process is alive", _responses("200", _ref("Live"), "Alive")),
        "/health/detailed": _get(
            "health_detailed",
            "Checks and process info",
            _responses("200", _ref("HealthDetailed"), "Details"),
        ),
        "/metrics": _get("metrics", "Prometheus metrics, labelled by instance", METRICS_RESPONSE),
        "/v1/templates": _get(
            "list_templates", "Task templates", _responses("200", _ref("Templates"), "Templates")
        ),
        "/v1/tasks": {
            **_get(
                "list_tasks",
                "Tasks, newest first",
                _responses("200", _ref("TaskList"), "A page of tasks", "422"),
                parameters=LIST_PARAMETERS,
            ),
            "post": {
                "operationId": "create_task",
                "summary": "Create a task from a template",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("TaskRequest")}},
                },
                "responses": _responses(
                    "201", _ref("TaskCreated"), "Created", "400", "404", "409", "413", "422"
                ),
            },
        },
        "/v1/tasks/{task_uuid}": {
            **_lookup("get_task", "A task with its steps", _ref("Task"), "The task", TASK),
            "delete": {
                "operationId": "cancel_task",
                "summary": "Cancel an unfinished task",
                "parameters": TASK,
                "responses": _responses("200", _ref("Cancelled"), "Cancelled", "404", "409", "422"),
            },
        },
        "/v1/tasks/{task_uuid}/transitions": _lookup(
            "task_transitions",
            "The task's transition history, by sort_key",
            _array("TaskTransition"),
            "Transitions",
            TASK,
        ),
        "/v1/tasks/{task_uuid}/workflow_steps": _lookup(
            "list_steps", "The task's steps", _array("Step"), "Steps", TASK
        ),
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}": _lookup(
            "get_step", "One step", _ref("Step"), "The step", STEP
        ),
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit": _lookup(
            "step_audit",
            "The step's transition history, by sort_key",
            _array("StepTransition"),
            "Transitions",
            STEP,
        ),
    }


def openapi_document(version: str, templates: list[TaskTemplate]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tasker reference orchestration",
            "version": version,
            "description": "Tasks, workflow steps and their transition history.",
        },
        "paths": _paths(),
        "components": {"schemas": {**SCHEMAS, "TaskRequest": task_request_schema(templates)}},
    }
