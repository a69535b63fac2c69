"""The OpenAPI 3 document of the orchestration API, written to match what the code accepts."""

from __future__ import annotations

from typing import Any

from ..templates import TaskTemplate
from .openapi_schemas import OPERATION_SCHEMAS, SCHEMAS, Schema, task_request_schema
from .validation import MAX_PER_PAGE

ERROR_DESCRIPTIONS = {
    "400": "Malformed JSON or an invalid field, parameter or action",
    "401": "Authentication required (when auth is on)",
    "403": "Insufficient permissions (when auth is on)",
    "404": "Unknown template, task, step or route",
    "405": "Method not allowed",
    "409": "A task with the same identity exists (strict identity strategy), the task has"
    " finished, or the step's state does not allow the action",
    "413": "Body too large",
    "503": "Database unavailable",
}
# Every route answers these when they apply (auth is off by default).
ALWAYS = ("405", "503")
GUARDED = ("401", "403")


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(
    status: str, schema: Schema, description: str, *errors: str, guarded: bool = True
) -> dict[str, Any]:
    responses = {status: _json(schema, description)}
    for code in (*ALWAYS, *(GUARDED if guarded else ()), *errors):
        responses[code] = _json(_ref("ApiError"), ERROR_DESCRIPTIONS[code])
    return responses


def _path(name: str, description: str) -> dict[str, Any]:
    # Upstream types its path ids as plain strings: one that is not a UUID names nothing (404).
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


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
    """A read under a task: 404 for an unknown task or step."""
    return _get(
        operation_id, summary, _responses("200", schema, description, "404"), parameters=parameters
    )


def _health(operation_id: str, summary: str, schema: str, *errors: str) -> dict[str, Any]:
    return _get(
        operation_id, summary, _responses("200", _ref(schema), summary, *errors, guarded=False)
    )


TASK = [_path("task_uuid", "Task UUID")]
STEP = [*TASK, _path("step_uuid", "Workflow step UUID")]
TEMPLATE = [_path("namespace", "Namespace"), _path("name", "Name"), _path("version", "Version")]
COUNT = {"type": "integer", "minimum": 0, "maximum": 999_999_999_999}
LIST_PARAMETERS = [
    {"name": "page", "in": "query", "schema": COUNT, "description": "1-based; 0 means 1"},
    {
        "name": "per_page",
        "in": "query",
        "schema": COUNT,
        "description": f"0 means 25; more than {MAX_PER_PAGE} means {MAX_PER_PAGE}",
    },
    *(
        {"name": name, "in": "query", "schema": {"type": "string"}}
        for name in ("namespace", "status", "initiator", "source_system")
    ),
]
METRICS_RESPONSE = {
    "200": {
        "description": "Prometheus text",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    "405": _json(_ref("ApiError"), ERROR_DESCRIPTIONS["405"]),
}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _paths() -> dict[str, Any]:
    ready = _health("readiness_probe", "Ready: database and orchestration loop", "Ready")
    live = _health("liveness_probe", "The process is alive", "Live")
    return {
        "/health": _health("basic_health", "Healthy, with the instance id", "Health"),
        "/health/ready": ready,
        "/ready": {"get": {**ready["get"], "operationId": "readiness_probe_root"}},
        "/health/live": live,
        "/live": {"get": {**live["get"], "operationId": "liveness_probe_root"}},
        "/health/detailed": _health("detailed_health", "Checks and process info", "HealthDetailed"),
        "/metrics": _get("metrics", "Prometheus metrics, labelled by instance", METRICS_RESPONSE),
        "/config": _get(
            "get_config",
            "The configuration, secrets redacted",
            _responses("200", _ref("Config"), "Config"),
        ),
        "/v1/templates": _get(
            "list_templates",
            "Task templates",
            _responses("200", _ref("TemplateListResponse"), "Templates"),
            parameters=[{"name": "namespace", "in": "query", "schema": {"type": "string"}}],
        ),
        "/v1/templates/{namespace}/{name}/{version}": _get(
            "get_template",
            "One task template",
            _responses("200", _ref("TemplateDetail"), "The template", "404"),
            parameters=TEMPLATE,
        ),
        "/v1/tasks": {
            **_get(
                "list_tasks",
                "Tasks, newest first",
                _responses("200", _ref("TaskListResponse"), "A page of tasks", "400"),
                parameters=LIST_PARAMETERS,
            ),
            "post": {
                "operationId": "create_task",
                "summary": "Create a task from a template; answers the full task",
                "requestBody": _body("TaskRequest"),
                "responses": _responses(
                    "201",
                    _ref("TaskResponse"),
                    "Created (or, for a known idempotency_key, the task it created)",
                    "400",
                    "404",
                    "409",
                    "413",
                ),
            },
        },
        "/v1/tasks/{task_uuid}": {
            **_lookup("get_task", "A task with its steps", _ref("TaskResponse"), "The task", TASK),
            "delete": {
                "operationId": "cancel_task",
                "summary": "Cancel an unfinished task; answers the task",
                "parameters": TASK,
                "responses": _responses("200", _ref("TaskResponse"), "Cancelled", "404", "409"),
            },
        },
        "/v1/tasks/{task_uuid}/summary": _lookup(
            "get_task_summary",
            "The task, its template's steps, step states and DLQ status in one read",
            _ref("TaskSummaryResponse"),
            "The summary",
            TASK,
        ),
        "/v1/tasks/{task_uuid}/transitions": _lookup(
            "task_transitions",
            "Ours: the task's transition history, by sort_key",
            _array("TaskTransition"),
            "Transitions",
            TASK,
        ),
        "/v1/tasks/{task_uuid}/workflow_steps": _lookup(
            "list_task_steps",
            "The task's steps (none for an unknown task)",
            _array("StepResponse"),
            "Steps",
            TASK,
        ),
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}": {
            **_lookup("get_step", "One step", _ref("StepResponse"), "The step", STEP),
            "patch": {
                "operationId": "resolve_step_manually",
                "summary": "Reset, resolve or complete a step by hand",
                "parameters": STEP,
                "requestBody": _body("StepManualAction"),
                "responses": _responses(
                    "200", _ref("StepResponse"), "The step", "400", "404", "409", "413"
                ),
            },
        },
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit": _lookup(
            "get_step_audit",
            "One record per step result, oldest first",
            _array("StepAuditResponse"),
            "Results",
            STEP,
        ),
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/transitions": _lookup(
            "step_transitions",
            "Ours: the step's transition history, by sort_key",
            _array("StepTransition"),
            "Transitions",
            STEP,
        ),
    }


def _lenient(name: str, default: int) -> dict[str, Any]:
    """A query number upstream documents no 400 for: an unreadable value means the default."""
    return {
        "name": name,
        "in": "query",
        "schema": {"type": "string"},
        "description": f"an integer (default {default}); an unreadable value means the default",
    }


def _operation_paths() -> dict[str, Any]:
    """The DLQ family and analytics (operations.py)."""
    entries = _responses("200", _array("DlqEntry"), "DLQ entries")
    return {
        "/v1/dlq": _get(
            "list_dlq_entries",
            "DLQ entries, newest first (tasks that ended in error are entered on read)",
            entries,
            parameters=[
                {"name": "resolution_status", "in": "query", "schema": {"type": "string"}},
                _lenient("limit", 50),
                _lenient("offset", 0),
            ],
        ),
        "/v1/dlq/task/{task_uuid}": _lookup(
            "get_dlq_entry", "The DLQ entry of a task", _ref("DlqEntry"), "The entry", TASK
        ),
        "/v1/dlq/entry/{dlq_entry_uuid}": {
            "patch": {
                "operationId": "update_dlq_investigation",
                "summary": "Record an investigation's outcome",
                "parameters": [_path("dlq_entry_uuid", "DLQ entry UUID")],
                "requestBody": _body("UpdateInvestigationRequest"),
                "responses": _responses(
                    "200", _ref("UpdateInvestigationResponse"), "Updated", "400", "404", "413"
                ),
            }
        },
        "/v1/dlq/stats": _get(
            "get_dlq_stats",
            "DLQ counts by reason and resolution",
            _responses("200", _array("DlqStats"), "Statistics"),
        ),
        "/v1/dlq/investigation-queue": _get(
            "get_investigation_queue",
            "Pending DLQ entries, oldest first",
            _responses("200", _array("DlqInvestigationQueueEntry"), "The queue"),
            parameters=[_lenient("limit", 100)],
        ),
        "/v1/dlq/staleness": _get(
            "get_staleness_monitoring",
            "Unfinished tasks by time in their state",
            _responses("200", _array("StalenessMonitoring"), "Tasks"),
            parameters=[_lenient("limit", 100)],
        ),
        "/v1/analytics/performance": _get(
            "get_performance_metrics",
            "Task and step throughput and durations over the last hours",
            _responses("200", _ref("PerformanceMetrics"), "Metrics"),
            parameters=[_lenient("hours", 24)],
        ),
        "/v1/analytics/bottlenecks": _get(
            "get_bottlenecks",
            "The slowest steps and tasks",
            _responses("200", _ref("BottleneckAnalysis"), "Analysis"),
            parameters=[_lenient("limit", 10), _lenient("min_executions", 5)],
        ),
    }


def openapi_document(version: str, templates: list[TaskTemplate]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tasker reference orchestration",
            "version": version,
            "description": (
                "tasker-core's orchestration API (tasks, workflow steps, templates, health)"
                " with our extras (transitions, metrics)."
            ),
        },
        "paths": {**_paths(), **_operation_paths()},
        "components": {
            "schemas": {
                **SCHEMAS,
                **OPERATION_SCHEMAS,
                "TaskRequest": task_request_schema(templates),
            }
        },
    }
