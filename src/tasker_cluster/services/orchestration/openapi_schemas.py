"""Component schemas of the OpenAPI document, matching what the code accepts and returns."""

from __future__ import annotations

from typing import Any

from ...states import StepState, TaskState
from ..templates import ContextField, TaskTemplate
from .validation import IDENTIFIER, MAX_TAGS, NO_NUL_PATTERN, PRIORITY_RANGE, TEXT_LIMIT

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": "string", "nullable": True}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP: Schema = {**TIMESTAMP, "nullable": True}
UUID: Schema = {"type": "string", "format": "uuid"}
INTEGER: Schema = {"type": "integer"}
ANY: Schema = {}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


IDENTIFIER_SCHEMA: Schema = {"type": "string", "pattern": IDENTIFIER.pattern}
TEXT: Schema = {"type": "string", "maxLength": TEXT_LIMIT, "pattern": NO_NUL_PATTERN}

TASK_FIELDS: dict[str, Schema] = {
    "task_uuid": UUID,
    "name": STRING,
    "namespace": STRING,
    "version": STRING,
    "status": {"type": "string", "enum": [state.value for state in TaskState]},
    "context": {"type": "object"},
    "initiator": STRING,
    "source_system": STRING,
    "reason": STRING,
    "tags": _array(STRING),
    "priority": INTEGER,
    "correlation_id": UUID,
    "parent_correlation_id": {**UUID, "nullable": True},
    "options": {"type": "object", "nullable": True},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "completed_at": NULLABLE_TIMESTAMP,
    "total_steps": INTEGER,
    "pending_steps": INTEGER,
    "in_progress_steps": INTEGER,
    "completed_steps": INTEGER,
    "failed_steps": INTEGER,
    "completion_percentage": {"type": "number"},
}

SCHEMAS: dict[str, Schema] = {
    "Error": _object({"error": _object({"code": STRING, "message": STRING})}),
    "Health": _object({"status": STRING, "timestamp": TIMESTAMP, "instance_id": NULLABLE_STRING}),
    "Live": _object({"status": STRING, "timestamp": TIMESTAMP}),
    "Check": _object({"status": STRING, "message": STRING, "duration_ms": {"type": "number"}}),
    "Ready": _object(
        {
            "status": {"type": "string", "enum": ["ready", "not_ready"]},
            "timestamp": TIMESTAMP,
            "instance_id": NULLABLE_STRING,
            "checks": {"type": "object", "additionalProperties": _ref("Check")},
        }
    ),
    "HealthDetailed": _object(
        {
            "status": {"type": "string", "enum": ["healthy", "degraded"]},
            "timestamp": TIMESTAMP,
            "instance_id": NULLABLE_STRING,
            "checks": {"type": "object", "additionalProperties": _ref("Check")},
            "info": _object(
                {
                    "version": STRING,
                    "database_backend": STRING,
                    "pid": INTEGER,
                    "uptime_seconds": {"type": "number"},
                    "faults": STRING,
                }
            ),
        }
    ),
    "TaskCreated": _object(
        {
            "task_uuid": UUID,
            "status": {"type": "string", "enum": ["created"]},
            "created_at": TIMESTAMP,
            "step_count": INTEGER,
            "step_mapping": {"type": "object", "additionalProperties": UUID},
        }
    ),
    "TaskSummary": _object(TASK_FIELDS),
    "Task": _object({**TASK_FIELDS, "steps": _array(_ref("Step"))}),
    "TaskList": _object(
        {
            "tasks": _array(_ref("TaskSummary")),
            "pagination": _object(
                {
                    "page": INTEGER,
                    "per_page": INTEGER,
                    "total_count": INTEGER,
                    "total_pages": INTEGER,
                    "has_next": {"type": "boolean"},
                    "has_previous": {"type": "boolean"},
                }
            ),
        }
    ),
    "Cancelled": _object({"task_uuid": UUID, "status": {"type": "string", "enum": ["cancelled"]}}),
    "Step": _object(
        {
            "step_uuid": UUID,
            "task_uuid": UUID,
            "name": STRING,
            "handler": STRING,
            "current_state": {"type": "string", "enum": [state.value for state in StepState]},
            "dependencies": _array(STRING),
            "attempts": INTEGER,
            "max_attempts": INTEGER,
            "retryable": {"type": "boolean"},
            "results": ANY,
            "last_error": NULLABLE_STRING,
            "processor_uuid": NULLABLE_STRING,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "completed_at": NULLABLE_TIMESTAMP,
        }
    ),
    "StepTransition": _object(
        {
            "id": INTEGER,
            "step_uuid": UUID,
            "task_uuid": UUID,
            "from_state": NULLABLE_STRING,
            "to_state": STRING,
            "worker_uuid": NULLABLE_STRING,
            "processor": NULLABLE_STRING,
            "success": {"type": "boolean", "nullable": True},
            "execution_time_ms": {"type": "integer", "nullable": True},
            "metadata": {"type": "object"},
            "sort_key": INTEGER,
            "most_recent": {"type": "boolean"},
            "created_at": TIMESTAMP,
        }
    ),
    "TaskTransition": _object(
        {
            "id": INTEGER,
            "task_uuid": UUID,
            "from_state": NULLABLE_STRING,
            "to_state": STRING,
            "processor": NULLABLE_STRING,
            "metadata": {"type": "object"},
            "sort_key": INTEGER,
            "most_recent": {"type": "boolean"},
            "created_at": TIMESTAMP,
        }
    ),
    "Templates": _object(
        {
            "templates": _array(
                _object(
                    {
                        "namespace": STRING,
                        "name": STRING,
                        "version": STRING,
                        "description": STRING,
                        "steps": _array(
                            _object(
                                {
                                    "name": STRING,
                                    "handler": STRING,
                                    "dependencies": _array(STRING),
                                    "repeat": STRING,
                                },
                                required=["name", "handler", "dependencies"],
                            )
                        ),
                    }
                )
            )
        }
    ),
}


REQUEST_FIELDS: dict[str, Schema] = {
    "initiator": TEXT,
    "source_system": TEXT,
    "reason": TEXT,
    "tags": {**_array(TEXT), "maxItems": MAX_TAGS},
    "priority": {
        "type": "integer",
        "minimum": PRIORITY_RANGE[0],
        "maximum": PRIORITY_RANGE[1],
        "default": 0,
    },
    "correlation_id": {**UUID, "nullable": True},
    "parent_correlation_id": {**UUID, "nullable": True},
    "options": {"type": "object", "nullable": True},
}


def _context_field(field: ContextField) -> Schema:
    schema: Schema = {"type": field.type}
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    if field.multiple_of is not None:
        schema["multipleOf"] = field.multiple_of
    return schema


def task_request_schema(templates: list[TaskTemplate]) -> Schema:
    """One alternative per template, so the schema says exactly which contexts are accepted."""
    variants = []
    for template in templates:
        context: Schema = {
            "type": "object",
            "properties": {f.key: _context_field(f) for f in template.context_fields},
        }
        required = [f.key for f in template.context_fields if f.required]
        if required:
            context["required"] = required
        variants.append(
            _object(
                {
                    "name": {"type": "string", "enum": [template.name]},
                    "namespace": {"type": "string", "enum": [template.namespace]},
                    "version": {"type": "string", "enum": [template.version]},
                    "context": context,
                    **REQUEST_FIELDS,
                },
                required=["name", "namespace", "context"],
            )
        )
    return {"oneOf": variants}
