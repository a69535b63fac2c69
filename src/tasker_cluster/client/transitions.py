"""State histories: a step's audit trail and a task's transitions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from tasker_cluster.client.fields import Fields, JsonObject


@dataclass(frozen=True)
class StepTransition:
    """One row of a step's audit trail."""

    id: str
    step_uuid: uuid.UUID
    task_uuid: uuid.UUID | None
    from_state: str | None
    to_state: str
    worker_uuid: str | None
    success: bool | None
    execution_time_ms: float | None
    metadata: JsonObject
    sort_key: int
    most_recent: bool
    created_at: datetime | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> StepTransition:
        f = Fields(raw, "step audit entry", url)
        success = f.raw.get("success")
        elapsed = f.raw.get("execution_time_ms")
        return cls(
            id=str(f.raw.get("id", "")),
            step_uuid=f.ident("step_uuid"),
            task_uuid=f.opt_ident("task_uuid"),
            from_state=f.opt_text("from_state"),
            to_state=f.text("to_state"),
            worker_uuid=f.opt_text("worker_uuid"),
            success=success if isinstance(success, bool) else None,
            execution_time_ms=f.number("execution_time_ms") if elapsed is not None else None,
            metadata=f.mapping("metadata"),
            sort_key=f.integer("sort_key", default=0),
            most_recent=f.flag("most_recent"),
            created_at=f.opt_time("created_at"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class TaskTransition:
    """One row of a task's state history; `processor` is the orchestration instance id."""

    id: str
    task_uuid: uuid.UUID
    from_state: str | None
    to_state: str
    processor: str | None
    metadata: JsonObject
    sort_key: int
    most_recent: bool
    created_at: datetime | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> TaskTransition:
        f = Fields(raw, "task transition", url)
        return cls(
            id=str(f.raw.get("id", "")),
            task_uuid=f.ident("task_uuid"),
            from_state=f.opt_text("from_state"),
            to_state=f.text("to_state"),
            processor=f.opt_text("processor"),
            metadata=f.mapping("metadata"),
            sort_key=f.integer("sort_key", default=0),
            most_recent=f.flag("most_recent"),
            created_at=f.opt_time("created_at"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class StepAudit:
    """One recorded step result, as tasker-core's `StepAuditResponse`."""

    audit_uuid: str
    workflow_step_uuid: uuid.UUID
    transition_uuid: str
    task_uuid: uuid.UUID
    recorded_at: datetime | None
    worker_uuid: str | None
    correlation_id: str | None
    success: bool
    execution_time_ms: int | None
    result: object
    step_name: str
    from_state: str | None
    to_state: str
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> StepAudit:
        f = Fields(raw, "step audit record", url)
        elapsed = f.raw.get("execution_time_ms")
        return cls(
            audit_uuid=f.text("audit_uuid"),
            workflow_step_uuid=f.ident("workflow_step_uuid"),
            transition_uuid=f.text("transition_uuid"),
            task_uuid=f.ident("task_uuid"),
            recorded_at=f.opt_time("recorded_at"),
            worker_uuid=f.opt_text("worker_uuid"),
            correlation_id=f.opt_text("correlation_id"),
            success=f.flag("success"),
            execution_time_ms=int(elapsed) if isinstance(elapsed, int | float) else None,
            result=f.raw.get("result"),
            step_name=f.text("step_name"),
            from_state=f.opt_text("from_state"),
            to_state=f.text("to_state"),
            raw=f.raw,
        )
