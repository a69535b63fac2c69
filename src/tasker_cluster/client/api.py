"""The orchestration REST API as typed methods, shared by one-instance and cluster clients."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import httpx

from tasker_cluster.client.errors import ResponseFormatError
from tasker_cluster.client.models import CancelledTask, Step, Task, TaskCreated, TaskPage
from tasker_cluster.client.prometheus import Metrics, parse_metrics
from tasker_cluster.client.service_info import Health, Template
from tasker_cluster.client.task_request import TaskRequest
from tasker_cluster.client.transitions import StepTransition, TaskTransition

UuidLike = uuid.UUID | str


class ApiMethods(ABC):
    """Typed API calls on top of `_request`, which picks the instance and sends."""

    @abstractmethod
    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response: ...

    async def _json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[Any, str]:
        response = await self._request(method, path, body=body, params=params)
        try:
            return response.json(), str(response.url)
        except ValueError:
            raise ResponseFormatError(
                str(response.url), "response", f"not JSON: {response.text[:200]!r}"
            ) from None

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
        payload, url = await self._json("GET", f"/v1/tasks/{task_uuid}/workflow_steps")
        return tuple(Step.parse(item, url) for item in _json_list(payload, url, "step list"))

    async def get_step(self, task_uuid: UuidLike, step_uuid: UuidLike) -> Step:
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}"
        payload, url = await self._json("GET", path)
        return Step.parse(payload, url)

    async def step_audit(
        self, task_uuid: UuidLike, step_uuid: UuidLike
    ) -> tuple[StepTransition, ...]:
        path = f"/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit"
        payload, url = await self._json("GET", path)
        entries = _json_list(payload, url, "step audit")
        return tuple(StepTransition.parse(item, url) for item in entries)

    async def task_transitions(self, task_uuid: UuidLike) -> tuple[TaskTransition, ...]:
        payload, url = await self._json("GET", f"/v1/tasks/{task_uuid}/transitions")
        entries = _json_list(payload, url, "task transitions")
        return tuple(TaskTransition.parse(item, url) for item in entries)

    async def health(self) -> Health:
        payload, url = await self._json("GET", "/health")
        return Health.parse(payload, url)

    async def templates(self) -> tuple[Template, ...]:
        payload, url = await self._json("GET", "/v1/templates")
        return Template.parse_list(payload, url)

    async def metrics(self) -> Metrics:
        response = await self._request("GET", "/metrics")
        return parse_metrics(response.text, str(response.url))


def _json_list(payload: Any, url: str, what: str) -> list[Any]:
    if not isinstance(payload, list):
        raise ResponseFormatError(url, what, f"expected a JSON list, got {payload!r:.200}")
    return payload
