"""Frozen views of tasks and steps as the API reports them; `raw` keeps the JSON as received."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tasker_cluster.client.fields import Fields, JsonObject
from tasker_cluster.states import TASK_TERMINAL


@dataclass(frozen=True)
class TaskCreated:
    """The answer to `POST /v1/tasks`: tasker-core's full `TaskResponse` (`task`), with the
    step names mapped to their uuids for convenience."""

    task_uuid: uuid.UUID
    status: str
    created_at: datetime | None
    step_mapping: dict[str, uuid.UUID]
    task: Task
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @property
    def step_count(self) -> int:
        return len(self.step_mapping)

    @classmethod
    def parse(cls, raw: object, url: str) -> TaskCreated:
        task = Task.parse(raw, url)
        return cls(
            task_uuid=task.task_uuid,
            status=task.status,
            created_at=task.created_at,
            step_mapping={step.name: step.step_uuid for step in task.steps},
            task=task,
            raw=task.raw,
        )


@dataclass(frozen=True)
class Step:
    step_uuid: uuid.UUID
    task_uuid: uuid.UUID
    name: str
    current_state: str
    handler: str | None
    dependencies: tuple[str, ...]
    attempts: int
    max_attempts: int | None
    retryable: bool
    results: Any
    processor_uuid: str | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    dependencies_satisfied: bool = False
    ready_for_execution: bool = False
    retry_eligible: bool = False
    total_parents: int = 0
    completed_parents: int = 0

    @classmethod
    def parse(cls, raw: object, url: str) -> Step:
        """A `StepResponse` (`step_uuid`) or a task's `StepReadinessStatus`
        (`workflow_step_uuid`); our extras (`handler`, `results`, ...) when present."""
        f = Fields(raw, "workflow step", url)
        key = "workflow_step_uuid" if "workflow_step_uuid" in f.raw else "step_uuid"
        return cls(
            step_uuid=f.ident(key),
            task_uuid=f.ident("task_uuid"),
            name=f.text("name"),
            current_state=f.text("current_state"),
            handler=f.opt_text("handler"),
            dependencies=f.texts("dependencies"),
            attempts=f.integer("attempts", default=0),
            max_attempts=f.opt_integer("max_attempts"),
            retryable=f.flag("retryable"),
            results=f.raw.get("results"),
            processor_uuid=f.opt_text("processor_uuid"),
            created_at=f.opt_time("created_at"),
            updated_at=f.opt_time("updated_at"),
            completed_at=f.opt_time("completed_at"),
            raw=f.raw,
            dependencies_satisfied=f.flag("dependencies_satisfied"),
            ready_for_execution=f.flag("ready_for_execution"),
            retry_eligible=f.flag("retry_eligible"),
            total_parents=f.integer("total_parents", default=0),
            completed_parents=f.integer("completed_parents", default=0),
        )


@dataclass(frozen=True)
class Task:
    """A task as `GET /v1/tasks/{uuid}` reports it (list entries may lack some fields)."""

    task_uuid: uuid.UUID
    name: str
    namespace: str
    version: str
    status: str
    context: JsonObject
    initiator: str | None
    source_system: str | None
    reason: str | None
    tags: tuple[str, ...]
    priority: int
    correlation_id: uuid.UUID | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    total_steps: int
    pending_steps: int
    in_progress_steps: int
    completed_steps: int
    failed_steps: int
    completion_percentage: float
    steps: tuple[Step, ...]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TASK_TERMINAL

    @classmethod
    def parse(cls, raw: object, url: str) -> Task:
        f = Fields(raw, "task", url)
        return cls(
            task_uuid=f.ident("task_uuid"),
            name=f.text("name"),
            namespace=f.text("namespace"),
            version=f.opt_text("version", default="") or "",
            status=f.text("status"),
            context=f.mapping("context"),
            initiator=f.opt_text("initiator"),
            source_system=f.opt_text("source_system"),
            reason=f.opt_text("reason"),
            tags=f.texts("tags"),
            priority=f.integer("priority", default=0),
            correlation_id=f.opt_ident("correlation_id"),
            created_at=f.opt_time("created_at"),
            updated_at=f.opt_time("updated_at"),
            completed_at=f.opt_time("completed_at"),
            total_steps=f.integer("total_steps", default=0),
            pending_steps=f.integer("pending_steps", default=0),
            in_progress_steps=f.integer("in_progress_steps", default=0),
            completed_steps=f.integer("completed_steps", default=0),
            failed_steps=f.integer("failed_steps", default=0),
            completion_percentage=f.number("completion_percentage"),
            steps=tuple(Step.parse(step, url) for step in f.items("steps")),
            raw=f.raw,
        )


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total_count: int
    total_pages: int
    has_next: bool
    has_previous: bool


@dataclass(frozen=True)
class TaskPage:
    tasks: tuple[Task, ...]
    pagination: Pagination
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> TaskPage:
        f = Fields(raw, "task list", url)
        p = f.nested("pagination", "task list pagination")
        pagination = Pagination(
            page=p.integer("page"),
            per_page=p.integer("per_page"),
            total_count=p.integer("total_count"),
            total_pages=p.integer("total_pages"),
            has_next=p.flag("has_next"),
            has_previous=p.flag("has_previous"),
        )
        tasks = tuple(Task.parse(task, url) for task in f.items("tasks"))
        return cls(tasks=tasks, pagination=pagination, raw=f.raw)


@dataclass(frozen=True)
class CancelledTask:
    task_uuid: uuid.UUID
    status: str
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> CancelledTask:
        f = Fields(raw, "cancellation response", url)
        return cls(task_uuid=f.ident("task_uuid"), status=f.text("status"), raw=f.raw)
