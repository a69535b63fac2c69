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

    ready_steps: int = 0
    execution_status: str = ""
    recommended_action: str = ""
    health_status: str = ""

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
            ready_steps=f.integer("ready_steps", default=0),
            execution_status=f.opt_text("execution_status", default="") or "",
            recommended_action=f.opt_text("recommended_action", default="") or "",
            health_status=f.opt_text("health_status", default="") or "",
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


def _opt_number(f: Fields, name: str) -> float | None:
    """A number or null/absent (`Fields.number` turns null into 0)."""
    return None if f.raw.get(name) is None else f.number(name)


def _objects(f: Fields, name: str, what: str) -> list[Fields]:
    """The objects of the list field `name`, each read as `what`."""
    return [Fields(item, what, f.url) for item in f.items(name)]


# ----------------------------------------------------------------------------------------
# Manual step actions (`PATCH .../workflow_steps/{step_uuid}`: tasker-core's StepManualAction)


def reset_for_retry(reset_by: str, reason: str) -> dict[str, Any]:
    """`error` -> `pending` with the attempt counter reset."""
    return {"action_type": "reset_for_retry", "reset_by": reset_by, "reason": reason}


def resolve_manually(resolved_by: str, reason: str) -> dict[str, Any]:
    """Any state -> `resolved_manually`, without results."""
    return {"action_type": "resolve_manually", "resolved_by": resolved_by, "reason": reason}


def complete_manually(
    completed_by: str, reason: str, result: Any, metadata: Any = None
) -> dict[str, Any]:
    """Any state -> `complete`, with `result` as the step's results."""
    data: dict[str, Any] = {"result": result}
    if metadata is not None:
        data["metadata"] = metadata
    return {
        "action_type": "complete_manually",
        "completed_by": completed_by,
        "reason": reason,
        "completion_data": data,
    }


# ----------------------------------------------------------------------------------------
# Health reports


@dataclass(frozen=True)
class HealthCheck:
    """One subsystem check of a detailed health or readiness report."""

    status: str
    message: str | None
    duration_ms: int

    @property
    def is_healthy(self) -> bool:
        return self.status == "healthy"


@dataclass(frozen=True)
class HealthReport:
    """`/health/detailed` or a readiness probe of either service: the overall status, each
    named check, and the service's `info` (orchestration) or `system_info` (worker)."""

    status: str
    timestamp: str | None
    instance_id: str | None
    worker_id: str | None
    checks: dict[str, HealthCheck]
    info: JsonObject
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @property
    def failing_checks(self) -> tuple[str, ...]:
        return tuple(name for name, check in self.checks.items() if not check.is_healthy)

    @classmethod
    def parse(cls, raw: object, url: str) -> HealthReport:
        f = Fields(raw, "health report", url)
        checks = {}
        for name, value in f.mapping("checks").items():
            c = Fields(value, f"health check {name!r}", url)
            checks[str(name)] = HealthCheck(
                status=c.text("status"),
                message=c.opt_text("message"),
                duration_ms=int(c.number("duration_ms")),
            )
        info = f.mapping("info") or f.mapping("system_info")
        return cls(
            status=f.text("status"),
            timestamp=f.opt_text("timestamp"),
            instance_id=f.opt_text("instance_id"),
            worker_id=f.opt_text("worker_id"),
            checks=checks,
            info=info,
            raw=f.raw,
        )


# ----------------------------------------------------------------------------------------
# Configuration (`GET /config`: what is configured, never a secret)


@dataclass(frozen=True)
class AuthSummary:
    """tasker-core's `SafeAuthConfig`: how authentication is set up, without keys."""

    enabled: bool
    verification_method: str
    api_key_header: str
    api_key_count: int
    jwt_issuer: str
    jwt_audience: str
    allowed_algorithms: tuple[str, ...]

    @classmethod
    def parse(cls, f: Fields) -> AuthSummary:
        return cls(
            enabled=f.flag("enabled"),
            verification_method=f.opt_text("verification_method", default="") or "",
            api_key_header=f.opt_text("api_key_header", default="") or "",
            api_key_count=f.integer("api_key_count", default=0),
            jwt_issuer=f.opt_text("jwt_issuer", default="") or "",
            jwt_audience=f.opt_text("jwt_audience", default="") or "",
            allowed_algorithms=f.texts("allowed_algorithms"),
        )


@dataclass(frozen=True)
class OrchestrationConfig:
    """tasker-core's `OrchestrationConfigResponse`."""

    environment: str
    version: str
    deployment_mode: str
    auth: AuthSummary
    messaging_backend: str
    queues: tuple[str, ...]
    circuit_breakers_enabled: bool
    web_api_pool_size: int
    web_api_max_connections: int
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> OrchestrationConfig:
        f = Fields(raw, "orchestration config", url)
        meta = f.nested("metadata", "config metadata")
        messaging = f.nested("messaging", "messaging config")
        breakers = Fields(f.mapping("circuit_breakers"), "circuit breaker config", url)
        pools = Fields(f.mapping("database_pools"), "database pool config", url)
        return cls(
            environment=meta.text("environment"),
            version=meta.text("version"),
            deployment_mode=f.text("deployment_mode"),
            auth=AuthSummary.parse(f.nested("auth", "auth config")),
            messaging_backend=messaging.text("backend"),
            queues=messaging.texts("queues"),
            circuit_breakers_enabled=breakers.flag("enabled"),
            web_api_pool_size=pools.integer("web_api_pool_size", default=0),
            web_api_max_connections=pools.integer("web_api_max_connections", default=0),
            raw=f.raw,
        )


@dataclass(frozen=True)
class WorkerConfig:
    """tasker-core's `WorkerConfigResponse`."""

    worker_id: str
    worker_type: str
    environment: str
    version: str
    auth: AuthSummary
    messaging_backend: str
    queues: tuple[str, ...]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> WorkerConfig:
        f = Fields(raw, "worker config", url)
        meta = f.nested("metadata", "config metadata")
        messaging = f.nested("messaging", "messaging config")
        return cls(
            worker_id=f.text("worker_id"),
            worker_type=f.text("worker_type"),
            environment=meta.text("environment"),
            version=meta.text("version"),
            auth=AuthSummary.parse(f.nested("auth", "auth config")),
            messaging_backend=messaging.text("backend"),
            queues=messaging.texts("queues"),
            raw=f.raw,
        )


# ----------------------------------------------------------------------------------------
# Analytics


@dataclass(frozen=True)
class PerformanceMetrics:
    """`GET /v1/analytics/performance`: task and step counts and rates of a period."""

    total_tasks: int
    active_tasks: int
    completed_tasks: int
    failed_tasks: int
    completion_rate: float
    error_rate: float
    average_task_duration_seconds: float
    average_step_duration_seconds: float
    tasks_per_hour: int
    steps_per_hour: int
    system_health_score: float
    analysis_period_start: datetime | None
    calculated_at: datetime | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> PerformanceMetrics:
        f = Fields(raw, "performance metrics", url)
        return cls(
            total_tasks=f.integer("total_tasks"),
            active_tasks=f.integer("active_tasks"),
            completed_tasks=f.integer("completed_tasks"),
            failed_tasks=f.integer("failed_tasks"),
            completion_rate=f.number("completion_rate"),
            error_rate=f.number("error_rate"),
            average_task_duration_seconds=f.number("average_task_duration_seconds"),
            average_step_duration_seconds=f.number("average_step_duration_seconds"),
            tasks_per_hour=f.integer("tasks_per_hour", default=0),
            steps_per_hour=f.integer("steps_per_hour", default=0),
            system_health_score=f.number("system_health_score"),
            analysis_period_start=f.opt_time("analysis_period_start"),
            calculated_at=f.opt_time("calculated_at"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class SlowStep:
    namespace: str
    task_name: str
    version: str
    step_name: str
    average_duration_seconds: float
    max_duration_seconds: float
    execution_count: int
    error_count: int
    error_rate: float
    last_executed_at: datetime | None


@dataclass(frozen=True)
class SlowTask:
    namespace: str
    task_name: str
    version: str
    average_duration_seconds: float
    max_duration_seconds: float
    execution_count: int
    average_step_count: float
    error_count: int
    error_rate: float
    last_executed_at: datetime | None


@dataclass(frozen=True)
class BottleneckAnalysis:
    """`GET /v1/analytics/bottlenecks`: the slowest steps and tasks, and the system's task and
    step counts by state (`system_health`, e.g. `complete_tasks`, `error_steps`)."""

    slow_steps: tuple[SlowStep, ...]
    slow_tasks: tuple[SlowTask, ...]
    database_pool_utilization: float
    system_health: dict[str, int]
    recommendations: tuple[str, ...]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> BottleneckAnalysis:
        f = Fields(raw, "bottleneck analysis", url)
        usage = Fields(f.mapping("resource_utilization"), "resource utilization", url)
        health = {
            str(key): int(value)
            for key, value in usage.mapping("system_health").items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        return cls(
            slow_steps=tuple(
                SlowStep(
                    namespace=s.text("namespace_name"),
                    task_name=s.text("task_name"),
                    version=s.text("version"),
                    step_name=s.text("step_name"),
                    average_duration_seconds=s.number("average_duration_seconds"),
                    max_duration_seconds=s.number("max_duration_seconds"),
                    execution_count=s.integer("execution_count"),
                    error_count=s.integer("error_count", default=0),
                    error_rate=s.number("error_rate"),
                    last_executed_at=s.opt_time("last_executed_at"),
                )
                for s in _objects(f, "slow_steps", "slow step")
            ),
            slow_tasks=tuple(
                SlowTask(
                    namespace=t.text("namespace_name"),
                    task_name=t.text("task_name"),
                    version=t.text("version"),
                    average_duration_seconds=t.number("average_duration_seconds"),
                    max_duration_seconds=t.number("max_duration_seconds"),
                    execution_count=t.integer("execution_count"),
                    average_step_count=t.number("average_step_count"),
                    error_count=t.integer("error_count", default=0),
                    error_rate=t.number("error_rate"),
                    last_executed_at=t.opt_time("last_executed_at"),
                )
                for t in _objects(f, "slow_tasks", "slow task")
            ),
            database_pool_utilization=usage.number("database_pool_utilization"),
            system_health=health,
            recommendations=f.texts("recommendations"),
            raw=f.raw,
        )


# ----------------------------------------------------------------------------------------
# Dead letter queue


@dataclass(frozen=True)
class DlqEntry:
    """A task entered in the dead letter queue, and the state of its investigation."""

    dlq_entry_uuid: uuid.UUID
    task_uuid: uuid.UUID
    original_state: str
    dlq_reason: str
    dlq_timestamp: datetime | None
    resolution_status: str
    resolution_notes: str | None
    resolved_by: str | None
    resolution_timestamp: datetime | None
    metadata: Any
    task_snapshot: Any
    created_at: datetime | None
    updated_at: datetime | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> DlqEntry:
        f = Fields(raw, "DLQ entry", url)
        return cls(
            dlq_entry_uuid=f.ident("dlq_entry_uuid"),
            task_uuid=f.ident("task_uuid"),
            original_state=f.text("original_state"),
            dlq_reason=f.text("dlq_reason"),
            dlq_timestamp=f.opt_time("dlq_timestamp"),
            resolution_status=f.text("resolution_status"),
            resolution_notes=f.opt_text("resolution_notes"),
            resolved_by=f.opt_text("resolved_by"),
            resolution_timestamp=f.opt_time("resolution_timestamp"),
            metadata=f.raw.get("metadata"),
            task_snapshot=f.raw.get("task_snapshot"),
            created_at=f.opt_time("created_at"),
            updated_at=f.opt_time("updated_at"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class DlqInvestigationResult:
    """The answer to `PATCH /v1/dlq/entry/{uuid}`."""

    success: bool
    message: str
    dlq_entry_uuid: uuid.UUID
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> DlqInvestigationResult:
        f = Fields(raw, "DLQ investigation update", url)
        return cls(
            success=f.flag("success"),
            message=f.opt_text("message", default="") or "",
            dlq_entry_uuid=f.ident("dlq_entry_uuid"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class DlqStats:
    """DLQ entry counts of one `dlq_reason`, by resolution."""

    dlq_reason: str
    total_entries: int
    pending: int
    manually_resolved: int
    permanent_failures: int
    cancelled: int
    avg_resolution_time_minutes: float | None
    oldest_entry: datetime | None
    newest_entry: datetime | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> DlqStats:
        f = Fields(raw, "DLQ statistics entry", url)
        return cls(
            dlq_reason=f.text("dlq_reason"),
            total_entries=f.integer("total_entries"),
            pending=f.integer("pending", default=0),
            manually_resolved=f.integer("manually_resolved", default=0),
            permanent_failures=f.integer("permanent_failures", default=0),
            cancelled=f.integer("cancelled", default=0),
            avg_resolution_time_minutes=_opt_number(f, "avg_resolution_time_minutes"),
            oldest_entry=f.opt_time("oldest_entry"),
            newest_entry=f.opt_time("newest_entry"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class DlqInvestigationEntry:
    """One pending DLQ entry of the investigation queue, most urgent first."""

    dlq_entry_uuid: uuid.UUID
    task_uuid: uuid.UUID
    original_state: str
    dlq_reason: str
    dlq_timestamp: datetime | None
    minutes_in_dlq: float
    priority_score: float
    current_state: str | None
    namespace: str | None
    task_name: str | None
    time_in_state_minutes: int | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> DlqInvestigationEntry:
        f = Fields(raw, "DLQ investigation queue entry", url)
        return cls(
            dlq_entry_uuid=f.ident("dlq_entry_uuid"),
            task_uuid=f.ident("task_uuid"),
            original_state=f.text("original_state"),
            dlq_reason=f.text("dlq_reason"),
            dlq_timestamp=f.opt_time("dlq_timestamp"),
            minutes_in_dlq=f.number("minutes_in_dlq"),
            priority_score=f.number("priority_score"),
            current_state=f.opt_text("current_state"),
            namespace=f.opt_text("namespace_name"),
            task_name=f.opt_text("task_name"),
            time_in_state_minutes=f.opt_integer("time_in_state_minutes"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class StalenessEntry:
    """One unfinished task and how long it has been in its state."""

    task_uuid: uuid.UUID
    current_state: str
    time_in_state_minutes: int
    task_age_minutes: int
    staleness_threshold_minutes: int
    health_status: str
    priority: int
    namespace: str | None
    task_name: str | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> StalenessEntry:
        f = Fields(raw, "staleness entry", url)
        return cls(
            task_uuid=f.ident("task_uuid"),
            current_state=f.text("current_state"),
            time_in_state_minutes=f.integer("time_in_state_minutes"),
            task_age_minutes=f.integer("task_age_minutes"),
            staleness_threshold_minutes=f.integer("staleness_threshold_minutes"),
            health_status=f.text("health_status"),
            priority=f.integer("priority", default=0),
            namespace=f.opt_text("namespace_name"),
            task_name=f.opt_text("task_name"),
            raw=f.raw,
        )


# ----------------------------------------------------------------------------------------
# Task summary (`GET /v1/tasks/{uuid}/summary`: tasker-core's TaskSummaryResponse)


@dataclass(frozen=True)
class SummaryTemplateStep:
    name: str
    handler: str | None
    dependencies: tuple[str, ...]
    retryable: bool
    max_attempts: int | None


@dataclass(frozen=True)
class SummaryStep:
    step_uuid: uuid.UUID
    name: str
    current_state: str
    attempts: int
    max_attempts: int | None
    dependencies_satisfied: bool
    retry_eligible: bool
    error_type: str | None
    error_retryable: bool | None
    created_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class DlqStatus:
    in_dlq: bool
    dlq_reason: str | None
    resolution_status: str | None


@dataclass(frozen=True)
class TaskSummary:
    """A task, its template's steps as expanded for it, each step's state and last error,
    and whether the task is in the DLQ."""

    task: Task
    template_steps: tuple[SummaryTemplateStep, ...]
    steps: tuple[SummaryStep, ...]
    dlq: DlqStatus
    links: dict[str, str]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> TaskSummary:
        f = Fields(raw, "task summary", url)
        template = Fields(f.mapping("template"), "task summary template", url)
        dlq = Fields(f.mapping("dlq"), "task summary DLQ status", url)
        steps = []
        for s in _objects(f, "steps", "task summary step"):
            error = Fields(s.mapping("error"), "step error", url)
            failed = s.raw.get("error") is not None
            steps.append(
                SummaryStep(
                    step_uuid=s.ident("step_uuid"),
                    name=s.text("name"),
                    current_state=s.text("current_state"),
                    attempts=s.integer("attempts", default=0),
                    max_attempts=s.opt_integer("max_attempts"),
                    dependencies_satisfied=s.flag("dependencies_satisfied"),
                    retry_eligible=s.flag("retry_eligible"),
                    error_type=error.opt_text("error_type") if failed else None,
                    error_retryable=error.flag("retryable") if failed else None,
                    created_at=s.opt_time("created_at"),
                    completed_at=s.opt_time("completed_at"),
                )
            )
        return cls(
            task=Task.parse(f.raw.get("task"), url),
            template_steps=tuple(
                SummaryTemplateStep(
                    name=t.text("name"),
                    handler=t.opt_text("handler"),
                    dependencies=t.texts("dependencies"),
                    retryable=t.flag("retryable"),
                    max_attempts=t.opt_integer("max_attempts"),
                )
                for t in _objects(template, "steps", "task summary template step")
            ),
            steps=tuple(steps),
            dlq=DlqStatus(
                in_dlq=dlq.flag("in_dlq"),
                dlq_reason=dlq.opt_text("dlq_reason"),
                resolution_status=dlq.opt_text("resolution_status"),
            ),
            links={
                str(key): value
                for key, value in f.mapping("links").items()
                if isinstance(value, str)
            },
            raw=f.raw,
        )


# ----------------------------------------------------------------------------------------
# Templates (tasker-core's list and detail answers of both services)


@dataclass(frozen=True)
class NamespaceSummary:
    name: str
    description: str | None
    template_count: int


@dataclass(frozen=True)
class TemplateSummary:
    namespace: str
    name: str
    version: str
    description: str | None
    step_count: int


@dataclass(frozen=True)
class TemplateList:
    """The orchestration's `GET /v1/templates`: tasker-core's `TemplateListResponse`."""

    namespaces: tuple[NamespaceSummary, ...]
    templates: tuple[TemplateSummary, ...]
    total_count: int
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> TemplateList:
        f = Fields(raw, "template list", url)
        templates = []
        for t in _objects(f, "templates", "template summary"):
            count = t.opt_integer("step_count")
            templates.append(
                TemplateSummary(
                    namespace=t.text("namespace"),
                    name=t.text("name"),
                    version=t.text("version"),
                    description=t.opt_text("description"),
                    step_count=len(t.items("steps")) if count is None else count,
                )
            )
        return cls(
            namespaces=tuple(
                NamespaceSummary(
                    name=n.text("name"),
                    description=n.opt_text("description"),
                    template_count=n.integer("template_count", default=0),
                )
                for n in _objects(f, "namespaces", "namespace summary")
            ),
            templates=tuple(templates),
            total_count=f.integer("total_count", default=len(templates)),
            raw=f.raw,
        )


@dataclass(frozen=True)
class TemplateStepDefinition:
    name: str
    description: str | None
    default_retryable: bool
    default_max_attempts: int | None
    handler: str | None
    dependencies: tuple[str, ...]


@dataclass(frozen=True)
class TemplateDetail:
    """The orchestration's template detail: tasker-core's `TemplateDetail`."""

    namespace: str
    name: str
    version: str
    description: str | None
    configuration: JsonObject
    steps: tuple[TemplateStepDefinition, ...]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> TemplateDetail:
        f = Fields(raw, "template detail", url)
        return cls(
            namespace=f.opt_text("namespace") or f.text("namespace_name"),
            name=f.text("name"),
            version=f.text("version"),
            description=f.opt_text("description"),
            configuration=f.mapping("configuration"),
            steps=tuple(
                TemplateStepDefinition(
                    name=s.text("name"),
                    description=s.opt_text("description"),
                    default_retryable=s.flag("default_retryable"),
                    default_max_attempts=s.opt_integer("default_max_attempts"),
                    handler=s.opt_text("handler")
                    if isinstance(s.raw.get("handler"), str)
                    else None,
                    dependencies=s.texts("dependencies"),
                )
                for s in _objects(f, "steps", "template step")
            ),
            raw=f.raw,
        )


@dataclass(frozen=True)
class WorkerTemplateList:
    """The worker's `GET /v1/templates`: what it can run."""

    supported_namespaces: tuple[str, ...]
    template_count: int
    worker_capabilities: tuple[str, ...]
    cache_stats: JsonObject | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> WorkerTemplateList:
        f = Fields(raw, "worker template list", url)
        return cls(
            supported_namespaces=f.texts("supported_namespaces"),
            template_count=f.integer("template_count"),
            worker_capabilities=f.texts("worker_capabilities"),
            cache_stats=f.mapping("cache_stats") if f.raw.get("cache_stats") is not None else None,
            raw=f.raw,
        )


@dataclass(frozen=True)
class HandlerMetadata:
    namespace: str
    name: str
    version: str
    handler_class: str
    registered_at: datetime | None


@dataclass(frozen=True)
class WorkerTemplate:
    """The worker's template detail: the template as the worker resolved it (`template`,
    kept as JSON: tasker-core sends its full TaskTemplate) and its handler metadata."""

    namespace: str
    name: str
    version: str
    template: JsonObject
    handler: HandlerMetadata
    cached: bool
    cache_age_seconds: int | None
    access_count: int | None
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> WorkerTemplate:
        f = Fields(raw, "worker template", url)
        h = f.nested("handler_metadata", "handler metadata")
        return cls(
            namespace=h.text("namespace"),
            name=h.text("name"),
            version=h.text("version"),
            template=f.mapping("template"),
            handler=HandlerMetadata(
                namespace=h.text("namespace"),
                name=h.text("name"),
                version=h.text("version"),
                handler_class=h.text("handler_class"),
                registered_at=h.opt_time("registered_at"),
            ),
            cached=f.flag("cached"),
            cache_age_seconds=f.opt_integer("cache_age_seconds"),
            access_count=f.opt_integer("access_count"),
            raw=f.raw,
        )


@dataclass(frozen=True)
class TemplateValidation:
    """`POST .../validate` on a worker: whether it can run the template."""

    valid: bool
    errors: tuple[str, ...]
    required_capabilities: tuple[str, ...]
    step_handlers: tuple[str, ...]
    raw: JsonObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: object, url: str) -> TemplateValidation:
        f = Fields(raw, "template validation", url)
        return cls(
            valid=f.flag("valid"),
            errors=tuple(str(error) for error in f.items("errors")),
            required_capabilities=f.texts("required_capabilities"),
            step_handlers=f.texts("step_handlers"),
            raw=f.raw,
        )
