"""The orchestration REST API as typed methods, shared by one-instance and cluster clients."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from tasker_cluster.api.task_request import TaskRequest
from tasker_cluster.client.errors import ApiError, ResponseFormatError
from tasker_cluster.client.models import (
    BottleneckAnalysis,
    DlqEntry,
    DlqInvestigationEntry,
    DlqInvestigationResult,
    DlqStats,
    HealthReport,
    OrchestrationConfig,
    PerformanceMetrics,
    StalenessEntry,
    Step,
    Task,
    TaskCreated,
    TaskPage,
    TaskSummary,
    TemplateDetail,
    TemplateList,
    TemplateValidation,
    WorkerConfig,
    WorkerTemplate,
    WorkerTemplateList,
)
from tasker_cluster.client.prometheus import Metrics, parse_metrics
from tasker_cluster.client.service_info import Health, Template
from tasker_cluster.client.transitions import StepAudit, StepTransition, TaskTransition
from tasker_cluster.client.transport import ApiCall

if TYPE_CHECKING:
    from tasker_cluster.client.db_transitions import DatabaseTransitions

NOT_FOUND = 404

UuidLike = uuid.UUID | str
T = TypeVar("T")


def _query(**values: Any) -> dict[str, Any] | None:
    """The query parameters whose value is not None (None when there are none)."""
    params = {name: value for name, value in values.items() if value is not None}
    return params or None


class ServiceMethods(ABC):
    """What every service answers (health, metrics, templates) on top of `_send`.

    `_send` picks the instance and sends; `TEMPLATES_PATH` is where the service lists its
    templates.
    """

    TEMPLATES_PATH = "/v1/templates"
    READY_PATH = "/ready"
    LIVE_PATH = "/live"

    @abstractmethod
    async def _send(self, call: ApiCall) -> httpx.Response: ...

    async def _json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[Any, str]:
        response = await self._send(ApiCall(method, path, body, params))
        try:
            return response.json(), str(response.url)
        except ValueError:
            raise ResponseFormatError(
                str(response.url), "response", f"not JSON: {response.text[:200]!r}"
            ) from None

    async def health(self) -> Health:
        payload, url = await self._json("GET", "/health")
        return Health.parse(payload, url)

    async def detailed_health(self) -> HealthReport:
        """`GET /health/detailed`: every subsystem check."""
        payload, url = await self._json("GET", "/health/detailed")
        return HealthReport.parse(payload, url)

    async def readiness(self) -> HealthReport:
        """The readiness probe (an `ApiError` with status 503 when not ready)."""
        payload, url = await self._json("GET", self.READY_PATH)
        return HealthReport.parse(payload, url)

    async def liveness(self) -> Health:
        """The liveness probe: `status` is "alive"."""
        payload, url = await self._json("GET", self.LIVE_PATH)
        return Health.parse(payload, url)

    async def templates(self) -> tuple[Template, ...]:
        payload, url = await self._json("GET", self.TEMPLATES_PATH)
        return Template.parse_list(payload, url)

    async def metrics(self) -> Metrics:
        response = await self._send(ApiCall("GET", "/metrics"))
        return parse_metrics(response.text, str(response.url))


class ApiMethods(ServiceMethods):
    """The orchestration REST API as typed calls, shared by one-instance and cluster clients.

    `transitions_fallback` (a `DatabaseTransitions`) answers the transition reads of a
    deployment whose API has no transitions route (tasker-core's: 404).
    """

    transitions_fallback: DatabaseTransitions | None = None

    async def create_task(self, request: TaskRequest | Mapping[str, Any]) -> TaskCreated:
        """Create a task; the answer is tasker-core's full `TaskResponse`.

        A `TaskRequest` carries an idempotency key (one uuid per request object), so sending
        the same request again, to any instance, answers the task it created.
        """
        body = request.to_json() if isinstance(request, TaskRequest) else dict(request)
        payload, url = await self._json("POST", "/v1/tasks", body=body)
        return TaskCreated.parse(payload, url)

    async def get_task(self, task_uuid: UuidLike) -> Task:
        payload, url = await self._json("GET", f"/v1/tasks/{task_uuid}")
        return Task.parse(payload, url)

    async def list_tasks(
        self,
        page: int = 1,
        per_page: int = 25,
        namespace: str | None = None,
        status: str | None = None,
        *,
        initiator: str | None = None,
        source_system: str | None = None,
    ) -> TaskPage:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        params.update(
            _query(
                namespace=namespace,
                status=status,
                initiator=initiator,
                source_system=source_system,
            )
            or {}
        )
        payload, url = await self._json("GET", "/v1/tasks", params=params)
        return TaskPage.parse(payload, url)

    async def cancel_task(self, task_uuid: UuidLike) -> Task:
        """Cancel an unfinished task; the answer is the task (`status` "cancelled")."""
        payload, url = await self._json("DELETE", f"/v1/tasks/{task_uuid}")
        return Task.parse(payload, url)

    async def list_tasks_filtered(self, **filters: Any) -> TaskPage:
        payload, url = await self._json("GET", "/v1/tasks", params=filters)
        return TaskPage.parse(payload, url)

    async def list_steps(self, task_uuid: UuidLike) -> tuple[Step, ...]:
        path = f"/v1/tasks/{task_uuid}/workflow_steps"
        return await self._json_items(path, "step list", Step.parse)

    async def get_step(self, task_uuid: UuidLike, step_uuid: UuidLike) -> Step:
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}"
        payload, url = await self._json("GET", path)
        return Step.parse(payload, url)

    async def step_audit(self, task_uuid: UuidLike, step_uuid: UuidLike) -> tuple[StepAudit, ...]:
        """tasker-core's audit: one record per result recorded for the step."""
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit"
        return await self._json_items(path, "step audit", StepAudit.parse)

    async def step_transitions(
        self, task_uuid: UuidLike, step_uuid: UuidLike
    ) -> tuple[StepTransition, ...]:
        """Every state transition of the step (the reference services' own route)."""
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/transitions"
        try:
            return await self._json_items(path, "step transitions", StepTransition.parse)
        except ApiError as error:
            if error.status != NOT_FOUND or self.transitions_fallback is None:
                raise
            return await self.transitions_fallback.step_transitions(task_uuid, step_uuid)

    async def update_step(
        self, task_uuid: UuidLike, step_uuid: UuidLike, action: Mapping[str, Any]
    ) -> Step:
        """`PATCH` a step with a `StepManualAction` (`models.resolve_manually`,
        `reset_for_retry` or `complete_manually` build one); the answer is the step."""
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}"
        payload, url = await self._json("PATCH", path, body=dict(action))
        return Step.parse(payload, url)

    async def task_summary(self, task_uuid: UuidLike) -> TaskSummary:
        """The task, its steps' states and errors and its DLQ status in one read."""
        payload, url = await self._json("GET", f"/v1/tasks/{task_uuid}/summary")
        return TaskSummary.parse(payload, url)

    async def template_list(self, namespace: str | None = None) -> TemplateList:
        """`GET /v1/templates` as tasker-core answers it: namespaces, summaries, a count."""
        params = _query(namespace=namespace)
        payload, url = await self._json("GET", self.TEMPLATES_PATH, params=params)
        return TemplateList.parse(payload, url)

    async def template(self, namespace: str, name: str, version: str) -> TemplateDetail:
        payload, url = await self._json("GET", f"/v1/templates/{namespace}/{name}/{version}")
        return TemplateDetail.parse(payload, url)

    async def orchestration_config(self) -> OrchestrationConfig:
        """`GET /config`: what is configured (auth, messaging, pools), never a secret."""
        payload, url = await self._json("GET", "/config")
        return OrchestrationConfig.parse(payload, url)

    async def performance_metrics(self, hours: int | None = None) -> PerformanceMetrics:
        """Task and step counts and rates of the last `hours` (the service's default: 24)."""
        payload, url = await self._json(
            "GET", "/v1/analytics/performance", params=_query(hours=hours)
        )
        return PerformanceMetrics.parse(payload, url)

    async def bottlenecks(
        self, limit: int | None = None, min_executions: int | None = None
    ) -> BottleneckAnalysis:
        params = _query(limit=limit, min_executions=min_executions)
        payload, url = await self._json("GET", "/v1/analytics/bottlenecks", params=params)
        return BottleneckAnalysis.parse(payload, url)

    async def dlq(
        self,
        resolution_status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> tuple[DlqEntry, ...]:
        """The DLQ entries, newest first, optionally of one `resolution_status`."""
        params = _query(resolution_status=resolution_status, limit=limit, offset=offset)
        return await self._json_items("/v1/dlq", "DLQ entry list", DlqEntry.parse, params)

    async def dlq_entry(self, task_uuid: UuidLike) -> DlqEntry:
        """The DLQ entry of a task (an `ApiError` with status 404 when it has none)."""
        payload, url = await self._json("GET", f"/v1/dlq/task/{task_uuid}")
        return DlqEntry.parse(payload, url)

    async def update_dlq_investigation(
        self,
        dlq_entry_uuid: UuidLike,
        resolution_status: str | None = None,
        resolution_notes: str | None = None,
        resolved_by: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DlqInvestigationResult:
        """Record the investigation of a DLQ entry; fields left None are unchanged."""
        body = {
            "resolution_status": resolution_status,
            "resolution_notes": resolution_notes,
            "resolved_by": resolved_by,
            "metadata": dict(metadata) if metadata is not None else None,
        }
        path = f"/v1/dlq/entry/{dlq_entry_uuid}"
        payload, url = await self._json("PATCH", path, body=body)
        return DlqInvestigationResult.parse(payload, url)

    async def dlq_stats(self) -> tuple[DlqStats, ...]:
        return await self._json_items("/v1/dlq/stats", "DLQ statistics", DlqStats.parse)

    async def dlq_investigation_queue(
        self, limit: int | None = None
    ) -> tuple[DlqInvestigationEntry, ...]:
        """The pending DLQ entries, most urgent first."""
        path, what = "/v1/dlq/investigation-queue", "DLQ investigation queue"
        return await self._json_items(path, what, DlqInvestigationEntry.parse, _query(limit=limit))

    async def dlq_staleness(self, limit: int | None = None) -> tuple[StalenessEntry, ...]:
        """The unfinished tasks, longest in their state first."""
        path, what = "/v1/dlq/staleness", "staleness report"
        return await self._json_items(path, what, StalenessEntry.parse, _query(limit=limit))

    async def task_transitions(self, task_uuid: UuidLike) -> tuple[TaskTransition, ...]:
        path = f"/v1/tasks/{task_uuid}/transitions"
        try:
            return await self._json_items(path, "task transitions", TaskTransition.parse)
        except ApiError as error:
            if error.status != NOT_FOUND or self.transitions_fallback is None:
                raise
            return await self.transitions_fallback.task_transitions(task_uuid)

    async def _json_items(
        self,
        path: str,
        what: str,
        parse: Callable[[object, str], T],
        params: dict[str, Any] | None = None,
    ) -> tuple[T, ...]:
        """`GET path`: a JSON list described as `what`, each entry read with `parse`."""
        payload, url = await self._json("GET", path, params=params)
        if not isinstance(payload, list):
            raise ResponseFormatError(url, what, f"expected a JSON list, got {payload!r:.200}")
        return tuple(parse(item, url) for item in payload)


class WorkerMethods(ServiceMethods):
    """The worker REST API (tasker-core's worker document) on top of `ServiceMethods`."""

    READY_PATH = "/health/ready"
    LIVE_PATH = "/health/live"

    async def worker_config(self) -> WorkerConfig:
        """`GET /config`: the worker's id, type, auth and queues, never a secret."""
        payload, url = await self._json("GET", "/config")
        return WorkerConfig.parse(payload, url)

    async def template_list(
        self, namespace: str | None = None, include_cache_stats: bool | None = None
    ) -> WorkerTemplateList:
        """`GET /v1/templates`: the namespaces and handlers this worker supports."""
        params = _query(
            namespace=namespace,
            include_cache_stats=None
            if include_cache_stats is None
            else str(include_cache_stats).lower(),
        )
        payload, url = await self._json("GET", "/v1/templates", params=params)
        return WorkerTemplateList.parse(payload, url)

    async def template(self, namespace: str, name: str, version: str) -> WorkerTemplate:
        payload, url = await self._json("GET", f"/v1/templates/{namespace}/{name}/{version}")
        return WorkerTemplate.parse(payload, url)

    async def validate_template(
        self, namespace: str, name: str, version: str
    ) -> TemplateValidation:
        """Whether this worker has a handler for every step of the template."""
        path = f"/v1/templates/{namespace}/{name}/{version}/validate"
        payload, url = await self._json("POST", path)
        return TemplateValidation.parse(payload, url)
