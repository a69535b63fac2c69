"""Clients bound to one instance: an orchestration API client, a worker client, a probe."""

from __future__ import annotations

import httpx

from tasker_cluster.client.api import ApiMethods, ServiceMethods, WorkerMethods
from tasker_cluster.client.transport import ApiCall, Transport, api_error, describe_transport_error


class _OneInstance(ServiceMethods):
    """A client bound to the instance at `url`, number `index` of its service."""

    def __init__(self, index: int, url: str, transport: Transport) -> None:
        self.index = index
        self.url = url
        self._transport = transport

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.index}, {self.url!r})"

    async def _send(self, call: ApiCall) -> httpx.Response:
        return await self._transport.request(self.url, call)


class InstanceClient(_OneInstance, ApiMethods):
    """The API of one orchestration instance."""


class WorkerClient(_OneInstance, WorkerMethods):
    """The API of one worker instance: health, metrics, templates, config, validation."""

    TEMPLATES_PATH = "/templates"


async def probe_health(transport: Transport, url: str, timeout: float) -> str | None:
    """None when `GET /health` answers 200 with status "healthy"; otherwise why not."""
    try:
        response = await transport.http.get(
            url + "/health", timeout=timeout, headers=transport.headers
        )
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
