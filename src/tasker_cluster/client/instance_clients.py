"""Clients bound to one instance: an orchestration API client, a worker client, a probe."""

from __future__ import annotations

from typing import Any

import httpx

from tasker_cluster.client.api import ApiMethods
from tasker_cluster.client.errors import InstanceUnreachableError
from tasker_cluster.client.prometheus import Metrics, parse_metrics
from tasker_cluster.client.service_info import Health, Template
from tasker_cluster.client.transport import Transport, api_error, describe_transport_error


class InstanceClient(ApiMethods):
    """The API of one orchestration instance."""

    def __init__(self, index: int, url: str, transport: Transport) -> None:
        self.index = index
        self.url = url
        self._transport = transport

    def __repr__(self) -> str:
        return f"InstanceClient({self.index}, {self.url!r})"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await _send(self._transport, self.url, method, path, body=body, params=params)


class WorkerClient:
    """Health, metrics and templates of one worker instance."""

    def __init__(self, index: int, url: str, transport: Transport) -> None:
        self.index = index
        self.url = url
        self._transport = transport

    def __repr__(self) -> str:
        return f"WorkerClient({self.index}, {self.url!r})"

    async def _get(self, path: str) -> httpx.Response:
        return await _send(self._transport, self.url, "GET", path)

    async def health(self) -> Health:
        response = await self._get("/health")
        return Health.parse(response.json(), str(response.url))

    async def metrics(self) -> Metrics:
        response = await self._get("/metrics")
        return parse_metrics(response.text, str(response.url))

    async def templates(self) -> tuple[Template, ...]:
        response = await self._get("/templates")
        return Template.parse_list(response.json(), str(response.url))


async def _send(
    transport: Transport,
    url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """One request to the instance at `url`; a connection failure names the instance."""
    try:
        return await transport.request(url, method, path, body=body, params=params)
    except httpx.TransportError as error:
        reason = describe_transport_error(error)
        raise InstanceUnreachableError(method, url + path, reason) from error


async def probe_health(transport: Transport, url: str, timeout: float) -> str | None:
    """None when `GET /health` answers 200 with status "healthy"; otherwise why not."""
    try:
        response = await transport.http.get(url + "/health", timeout=timeout)
    except httpx.TransportError as error:
        return describe_transport_error(error)
    if response.status_code != 200:
        failure = api_error("GET", str(response.url), response)
        return f"HTTP {failure.status}: {failure.message}"
    try:
        status = response.json().get("status")
    except (ValueError, AttributeError):
        return f"health answer is not a JSON object: {response.text[:100]!r}"
    return None if status == "healthy" else f"status {status!r}"
