"""Component schemas of the OpenAPI document, matching what the code accepts and returns."""

from __future__ import annotations

from typing import Any

from ...api.task_request import (
    FIELD_SCHEMAS,
    NO_NUL_PATTERN,
    NUL_FREE_OBJECT_SCHEMA,
    NUL_FREE_VALUE,
    REQUIRED_FIELDS,
    TEXT_SCHEMA,
)
from ...states import StepState, TaskState
from ..templates import ContextField, TaskTemplate
from .validation import IDENTIFIER

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
TEXT: Schema = TEXT_SCHEMA
NUL_FREE_VALUE_REF = f"#/components/schemas/{NUL_FREE_VALUE}"
NUL_FREE_OBJECT: Schema = NUL_FREE_OBJECT_SCHEMA
NUL_FREE_ANY: Schema = {
    "nullable": True,
    "anyOf": [
        {"type": "string", "pattern": NO_NUL_PATTERN},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"$ref": NUL_FREE_VALUE_REF}},
        NUL_FREE_OBJECT,
    ],
}
BOOLEAN: Schema = {"type": "boolean"}
NULLABLE_INTEGER: Schema = {"type": "integer", "nullable": True}
OBJECT: Schema = {"type": "object"}
TASK_STATE: Schema = {"type": "string", "enum": [state.value for state in TaskState]}
STEP_STATE: Schema = {"type": "string", "enum": [state.value for state in StepState]}
# The variants of tasker-core's `ApiError` that carry nothing but their name.
STRING_ERRORS = ["ServiceUnavailable", "Unauthorized", "Forbidden", "Timeout"]

READINESS_FIELDS: dict[str, Schema] = {
    "dependencies_satisfied": BOOLEAN,
    "retry_eligible": BOOLEAN,
    "ready_for_execution": BOOLEAN,
    "total_parents": INTEGER,
    "completed_parents": INTEGER,
    "attempts": INTEGER,
    "max_attempts": INTEGER,
    "last_attempted_at": NULLABLE_TIMESTAMP,
    "last_failure_at": NULLABLE_TIMESTAMP,
    "next_retry_at": NULLABLE_TIMESTAMP,
}
# Ours, beside upstream's fields (its schemas allow extra properties).
STEP_EXTRAS: dict[str, Schema] = {
    "handler": STRING,
    "dependencies": _array(STRING),
    "retryable": BOOLEAN,
    "results": ANY,
    "last_error": NULLABLE_STRING,
    "processor_uuid": NULLABLE_STRING,
}
STEP_TIMES: dict[str, Schema] = {
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "completed_at": NULLABLE_TIMESTAMP,
}

TASK_FIELDS: dict[str, Schema] = {
    "task_uuid": UUID,
    "name": STRING,
    "namespace": STRING,
    "version": STRING,
    "status": TASK_STATE,
    "context": OBJECT,
    "initiator": STRING,
    "source_system": STRING,
    "reason": STRING,
    "tags": _array(STRING),
    "priority": INTEGER,
    "correlation_id": UUID,
    "parent_correlation_id": {**UUID, "nullable": True},
    "options": {"type": "object", "nullable": True},
    "idempotency_key": NULLABLE_STRING,
    "requested_at": NULLABLE_TIMESTAMP,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "completed_at": NULLABLE_TIMESTAMP,
    "total_steps": INTEGER,
    "pending_steps": INTEGER,
    "in_progress_steps": INTEGER,
    "completed_steps": INTEGER,
    "failed_steps": INTEGER,
    "ready_steps": INTEGER,
    "execution_status": {
        "type": "string",
        "enum": [
            "has_ready_steps",
            "processing",
            "blocked_by_failures",
            "all_complete",
            "waiting_for_dependencies",
        ],
    },
    "recommended_action": STRING,
    "completion_percentage": {"type": "number"},
    "health_status": STRING,
    "steps": _array(_ref("StepReadinessStatus")),
}

CHECK: Schema = _object(
    {"status": STRING, "message": STRING, "duration_ms": INTEGER, "last_checked": TIMESTAMP}
)
CHECKS: Schema = {"type": "object", "additionalProperties": _ref("Check")}
HEALTH_INFO: Schema = _object(
    {
        "version": STRING,
        "environment": STRING,
        "database_backend": STRING,
        "pid": INTEGER,
        "uptime_seconds": {"type": "number"},
        "faults": STRING,
        "operational_state": STRING,
    }
)

SCHEMAS: dict[str, Schema] = {
    NUL_FREE_VALUE: NUL_FREE_ANY,
    # tasker-core's `ApiError`: a bare variant name, or `{"<Variant>": {"message"}}` with ours
    # (`error`: code and message) beside it.
    "ApiError": {
        "oneOf": [
            {"type": "string", "enum": STRING_ERRORS},
            _object({"error": _object({"code": STRING, "message": STRING, "kind": STRING})}),
        ]
    },
    "Health": _object({"status": STRING, "timestamp": TIMESTAMP, "instance_id": NULLABLE_STRING}),
    "Live": _object({"status": STRING, "timestamp": TIMESTAMP}),
    "Check": CHECK,
    "Ready": _object(
        {
            "status": {"type": "string", "enum": ["ready"]},
            "timestamp": TIMESTAMP,
            "instance_id": NULLABLE_STRING,
            "checks": CHECKS,
            "info": HEALTH_INFO,
        }
    ),
    "HealthDetailed": _object(
        {
            "status": {"type": "string", "enum": ["healthy", "degraded"]},
            "timestamp": TIMESTAMP,
            "instance_id": NULLABLE_STRING,
            "checks": CHECKS,
            "info": HEALTH_INFO,
        }
    ),
    "Config": _object(
        {
            "metadata": _object({"timestamp": TIMESTAMP, "environment": STRING, "version": STRING}),
            "auth": OBJECT,
            "messaging": OBJECT,
            "deployment_mode": STRING,
        }
    ),
    "TaskResponse": _object(TASK_FIELDS),
    "StepReadinessStatus": _object(
        {
            "workflow_step_uuid": UUID,
            "task_uuid": UUID,
            "named_step_uuid": UUID,
            "name": STRING,
            "current_state": STEP_STATE,
            **READINESS_FIELDS,
            "backoff_request_seconds": NULLABLE_INTEGER,
            **STEP_EXTRAS,
            **STEP_TIMES,
        }
    ),
    "StepResponse": _object(
        {
            "step_uuid": UUID,
            "task_uuid": UUID,
            "name": STRING,
            **STEP_TIMES,
            "current_state": STEP_STATE,
            **READINESS_FIELDS,
            **STEP_EXTRAS,
        }
    ),
    "TaskSummaryResponse": _object(
        {
            "task": _object(
                {
                    "task_uuid": UUID,
                    "name": STRING,
                    "namespace": STRING,
                    "version": STRING,
                    "status": TASK_STATE,
                    "created_at": TIMESTAMP,
                    "updated_at": TIMESTAMP,
                    "completed_at": NULLABLE_TIMESTAMP,
                    "initiator": STRING,
                    "source_system": STRING,
                    "reason": STRING,
                    "correlation_id": UUID,
                    "total_steps": INTEGER,
                    "pending_steps": INTEGER,
                    "in_progress_steps": INTEGER,
                    "completed_steps": INTEGER,
                    "failed_steps": INTEGER,
                    "completion_percentage": {"type": "number"},
                    "health_status": STRING,
                    "execution_status": STRING,
                    "recommended_action": NULLABLE_STRING,
                }
            ),
            "template": _object(
                {
                    "steps": _array(
                        _object(
                            {
                                "name": STRING,
                                "step_type": STRING,
                                "handler": STRING,
                                "dependencies": _array(STRING),
                                "retryable": BOOLEAN,
                                "max_attempts": INTEGER,
                            }
                        )
                    )
                }
            ),
            "steps": _array(
                _object(
                    {
                        "step_uuid": UUID,
                        "name": STRING,
                        "current_state": STEP_STATE,
                        "created_at": NULLABLE_TIMESTAMP,
                        "completed_at": NULLABLE_TIMESTAMP,
                        "last_attempted_at": NULLABLE_TIMESTAMP,
                        "attempts": INTEGER,
                        "max_attempts": INTEGER,
                        "dependencies_satisfied": BOOLEAN,
                        "retry_eligible": BOOLEAN,
                        "error": {
                            **_object(
                                {
                                    "error_type": NULLABLE_STRING,
                                    "retryable": BOOLEAN,
                                    "status_code": NULLABLE_INTEGER,
                                }
                            ),
                            "nullable": True,
                        },
                    }
                )
            ),
            "dlq": _object(
                {
                    "in_dlq": BOOLEAN,
                    "dlq_reason": NULLABLE_STRING,
                    "resolution_status": NULLABLE_STRING,
                }
            ),
            "links": _object({"task": STRING, "steps": STRING, "dlq": STRING}),
        }
    ),
    "StepAuditResponse": _object(
        {
            "audit_uuid": UUID,
            "workflow_step_uuid": UUID,
            "transition_uuid": UUID,
            "task_uuid": UUID,
            "recorded_at": TIMESTAMP,
            "worker_uuid": NULLABLE_STRING,
            "correlation_id": {**UUID, "nullable": True},
            "success": BOOLEAN,
            "execution_time_ms": NULLABLE_INTEGER,
            "result": ANY,
            "step_name": STRING,
            "from_state": NULLABLE_STRING,
            "to_state": STRING,
            "processor": NULLABLE_STRING,
            "metadata": OBJECT,
        }
    ),
    "TaskListResponse": _object(
        {
            "tasks": _array(_ref("TaskResponse")),
            "pagination": _object(
                {
                    "page": INTEGER,
                    "per_page": INTEGER,
                    "total_count": INTEGER,
                    "total_pages": INTEGER,
                    "has_next": BOOLEAN,
                    "has_previous": BOOLEAN,
                }
            ),
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
            "execution_time_ms": NULLABLE_INTEGER,
            "metadata": OBJECT,
            "sort_key": INTEGER,
            "most_recent": BOOLEAN,
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
            "metadata": OBJECT,
            "sort_key": INTEGER,
            "most_recent": BOOLEAN,
            "created_at": TIMESTAMP,
        }
    ),
    "TemplateListResponse": _object(
        {
            "namespaces": _array(
                _object({"name": STRING, "description": NULLABLE_STRING, "template_count": INTEGER})
            ),
            "templates": _array(_object({"namespace": STRING, "name": STRING, "version": STRING})),
            "total_count": INTEGER,
        }
    ),
    "TemplateDetail": _object(
        {"namespace": STRING, "name": STRING, "version": STRING, "steps": _array(OBJECT)}
    ),
    # tasker-core's `StepManualAction`, one alternative per action.
    "StepManualAction": {
        "oneOf": [
            _object(
                {
                    "action_type": {"type": "string", "enum": ["reset_for_retry"]},
                    "reason": TEXT,
                    "reset_by": TEXT,
                }
            ),
            _object(
                {
                    "action_type": {"type": "string", "enum": ["resolve_manually"]},
                    "reason": TEXT,
                    "resolved_by": TEXT,
                }
            ),
            _object(
                {
                    "action_type": {"type": "string", "enum": ["complete_manually"]},
                    "reason": TEXT,
                    "completed_by": TEXT,
                    "completion_data": _object(
                        {"result": ANY, "metadata": {"type": "object", "nullable": True}},
                        required=["result"],
                    ),
                }
            ),
        ]
    },
}


def _context_field(field: ContextField) -> Schema:
    return field.json_schema()


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
                    **FIELD_SCHEMAS,
                },
                required=[
                    *REQUIRED_FIELDS,
                    *(
                        ["idempotency_key"]
                        if template.identity_strategy == "caller_provided"
                        else []
                    ),
                ],
            )
        )
    return {"oneOf": variants}


NUMBER: Schema = {"type": "number"}
RESOLUTION: Schema = {
    "type": "string",
    "enum": ["Pending", "ManuallyResolved", "PermanentlyFailed", "Cancelled"],
}
_DLQ_ENTRY_TIMES = {"dlq_timestamp": TIMESTAMP, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}
_DURATIONS: dict[str, Schema] = {
    "namespace_name": STRING,
    "task_name": STRING,
    "version": STRING,
    "average_duration_seconds": NUMBER,
    "max_duration_seconds": NUMBER,
    "execution_count": INTEGER,
    "error_count": INTEGER,
    "error_rate": NUMBER,
    "last_executed_at": NULLABLE_TIMESTAMP,
}
# The DLQ family and analytics, as the routes in operations.py answer them.
OPERATION_SCHEMAS: dict[str, Schema] = {
    "DlqEntry": _object(
        {
            "dlq_entry_uuid": UUID,
            "task_uuid": UUID,
            "original_state": TASK_STATE,
            "dlq_reason": STRING,
            "resolution_status": RESOLUTION,
            "resolution_notes": NULLABLE_STRING,
            "resolved_by": NULLABLE_STRING,
            "resolution_timestamp": NULLABLE_TIMESTAMP,
            "metadata": ANY,
            "task_snapshot": ANY,
            **_DLQ_ENTRY_TIMES,
        }
    ),
    "UpdateInvestigationRequest": {
        "type": "object",
        "properties": {
            "resolution_status": {**RESOLUTION, "nullable": True},
            "resolution_notes": NULLABLE_STRING,
            "resolved_by": NULLABLE_STRING,
            "metadata": ANY,
        },
    },
    "UpdateInvestigationResponse": _object(
        {"success": BOOLEAN, "message": STRING, "dlq_entry_uuid": UUID}
    ),
    "DlqStats": _object(
        {
            "dlq_reason": STRING,
            "total_entries": INTEGER,
            "pending": INTEGER,
            "manually_resolved": INTEGER,
            "permanent_failures": INTEGER,
            "cancelled": INTEGER,
            "avg_resolution_time_minutes": {**NUMBER, "nullable": True},
            "oldest_entry": NULLABLE_TIMESTAMP,
            "newest_entry": NULLABLE_TIMESTAMP,
        }
    ),
    "DlqInvestigationQueueEntry": _object(
        {
            "dlq_entry_uuid": UUID,
            "task_uuid": UUID,
            "original_state": TASK_STATE,
            "dlq_reason": STRING,
            "dlq_timestamp": TIMESTAMP,
            "minutes_in_dlq": NUMBER,
            "priority_score": NUMBER,
            "current_state": TASK_STATE,
            "namespace_name": STRING,
            "task_name": STRING,
            "time_in_state_minutes": INTEGER,
        }
    ),
    "StalenessMonitoring": _object(
        {
            "task_uuid": UUID,
            "current_state": TASK_STATE,
            "time_in_state_minutes": INTEGER,
            "task_age_minutes": INTEGER,
            "staleness_threshold_minutes": INTEGER,
            "health_status": {"type": "string", "enum": ["healthy", "warning", "stale"]},
            "priority": INTEGER,
            "namespace_name": STRING,
            "task_name": STRING,
        }
    ),
    "PerformanceMetrics": _object(
        {
            "total_tasks": INTEGER,
            "active_tasks": INTEGER,
            "completed_tasks": INTEGER,
            "failed_tasks": INTEGER,
            "completion_rate": NUMBER,
            "error_rate": NUMBER,
            "average_task_duration_seconds": NUMBER,
            "average_step_duration_seconds": NUMBER,
            "tasks_per_hour": INTEGER,
            "steps_per_hour": INTEGER,
            "system_health_score": NUMBER,
            "analysis_period_start": TIMESTAMP,
            "calculated_at": TIMESTAMP,
        }
    ),
    "BottleneckAnalysis": _object(
        {
            "slow_steps": _array(_object({**_DURATIONS, "step_name": STRING})),
            "slow_tasks": _array(_object({**_DURATIONS, "average_step_count": NUMBER})),
            "resource_utilization": _object(
                {"database_pool_utilization": NUMBER, "system_health": OBJECT}
            ),
            "recommendations": _array(ANY),
        }
    ),
}
