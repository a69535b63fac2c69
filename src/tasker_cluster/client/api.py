"""The orchestration REST API as typed methods, shared by one-instance and cluster clients."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from tasker_cluster.client.errors import ApiError, ResponseFormatError
from tasker_cluster.client.models import CancelledTask, Step, Task, TaskCreated, TaskPage
from tasker_cluster.client.prometheus import Metrics, parse_metrics
from tasker_cluster.client.service_info import Health, Template
from tasker_cluster.client.task_request import TaskRequest
from tasker_cluster.client.transitions import StepAudit, StepTransition, TaskTransition
from tasker_cluster.client.transport import ApiCall

if TYPE_CHECKING:
    from tasker_cluster.client.db_transitions import DatabaseTransitions

NOT_FOUND = 404

UuidLike = uuid.UUID | str
T = TypeVar("T")


class ServiceMethods(ABC):
    """What every service answers (health, metrics, templates) on top of `_send`.

    `_send` picks the instance and sends; `TEMPLATES_PATH` is where the service lists its
    templates.
    """

    TEMPLATES_PATH = "/v1/templates"

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
    ) -> TaskPage:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if namespace is not None:
            params["namespace"] = namespace
        if status is not None:
            params["status"] = status
        payload, url = await self._json("GET", "/v1/tasks", params=params)
        return TaskPage.parse(payload, url)

    async def cancel_task(self, task_uuid: UuidLike) -> CancelledTask:
        payload, url = await self._json("DELETE", f"/v1/tasks/{task_uuid}")
        return CancelledTask.parse(payload, url)

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
        """`PATCH` a step with a `StepManualAction` (see `manual_action`)."""
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}"
        payload, url = await self._json("PATCH", path, body=dict(action))
        return Step.parse(payload, url)

    async def task_summary(self, task_uuid: UuidLike) -> Any:
        payload, _ = await self._json("GET", f"/v1/tasks/{task_uuid}/summary")
        return payload

    async def template(self, namespace: str, name: str, version: str) -> Any:
        payload, _ = await self._json("GET", f"/v1/templates/{namespace}/{name}/{version}")
        return payload

    async def orchestration_config(self) -> Any:
        payload, _ = await self._json("GET", "/config")
        return payload

    async def dlq(self, **params: Any) -> Any:
        payload, _ = await self._json("GET", "/v1/dlq", params=params or None)
        return payload

    async def task_transitions(self, task_uuid: UuidLike) -> tuple[TaskTransition, ...]:
        path = f"/v1/tasks/{task_uuid}/transitions"
        try:
            return await self._json_items(path, "task transitions", TaskTransition.parse)
        except ApiError as error:
            if error.status != NOT_FOUND or self.transitions_fallback is None:
                raise
            return await self.transitions_fallback.task_transitions(task_uuid)

    async def _json_items(
        self, path: str, what: str, parse: Callable[[object, str], T]
    ) -> tuple[T, ...]:
        """`GET path`: a JSON list described as `what`, each entry read with `parse`."""
        payload, url = await self._json("GET", path)
        if not isinstance(payload, list):
            raise ResponseFormatError(url, what, f"expected a JSON list, got {payload!r:.200}")
        return tuple(parse(item, url) for item in payload)
