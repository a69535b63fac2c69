"""The orchestration REST API as typed methods, shared by one-instance and cluster clients."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from tasker_cluster.client.errors import ResponseFormatError
from tasker_cluster.client.models import CancelledTask, Step, Task, TaskCreated, TaskPage
from tasker_cluster.client.prometheus import Metrics, parse_metrics
from tasker_cluster.client.service_info import Health, Template
from tasker_cluster.client.task_request import TaskRequest
from tasker_cluster.client.transitions import StepTransition, TaskTransition
from tasker_cluster.client.transport import ApiCall

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
    """The orchestration REST API as typed calls, shared by one-instance and cluster clients."""

    async def create_task(self, request: TaskRequest | Mapping[str, Any]) -> TaskCreated:
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

    async def list_steps(self, task_uuid: UuidLike) -> tuple[Step, ...]:
        path = f"/v1/tasks/{task_uuid}/workflow_steps"
        return await self._json_items(path, "step list", Step.parse)

    async def get_step(self, task_uuid: UuidLike, step_uuid: UuidLike) -> Step:
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}"
        payload, url = await self._json("GET", path)
        return Step.parse(payload, url)

    async def step_audit(
        self, task_uuid: UuidLike, step_uuid: UuidLike
    ) -> tuple[StepTransition, ...]:
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit"
        return await self._json_items(path, "step audit", StepTransition.parse)

    async def task_transitions(self, task_uuid: UuidLike) -> tuple[TaskTransition, ...]:
        path = f"/v1/tasks/{task_uuid}/transitions"
        return await self._json_items(path, "task transitions", TaskTransition.parse)

    async def _json_items(
        self, path: str, what: str, parse: Callable[[object, str], T]
    ) -> tuple[T, ...]:
        """`GET path`: a JSON list described as `what`, each entry read with `parse`."""
        payload, url = await self._json("GET", path)
        if not isinstance(payload, list):
            raise ResponseFormatError(url, what, f"expected a JSON list, got {payload!r:.200}")
        return tuple(parse(item, url) for item in payload)
