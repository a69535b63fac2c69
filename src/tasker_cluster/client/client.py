"""`OrchestrationCluster`: one async client for all orchestration instances of a cluster."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

import httpx

from tasker_cluster.client.api import ApiMethods
from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.db_transitions import DatabaseTransitions
from tasker_cluster.client.errors import (
    ClusterNotHealthyError,
    InstanceUnreachableError,
    NoHealthyInstanceError,
)
from tasker_cluster.client.instance_clients import InstanceClient, WorkerClient, probe_health
from tasker_cluster.client.strategies import Strategy
from tasker_cluster.client.transport import ApiCall, Transport
from tasker_cluster.wait import Deadline, WaitTimeoutError, wait_for_async

logger = logging.getLogger(__name__)

_RETRYABLE_READ_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


class OrchestrationCluster(ApiMethods):
    """All orchestration instances behind one client; the strategy picks one per call.

    Use as `async with OrchestrationCluster(config) as cluster:`; `client(i)` talks to one
    instance. `request_counts()` tells which instance answered how many API calls (health probes
    made by `wait_for_healthy` and the first-healthy strategy are not counted).
    """

    def __init__(
        self,
        config: ClusterConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        _transport: Transport | None = None,
    ) -> None:
        self.config = config
        self._transport = _transport or Transport(
            config.request_timeout, config.health_timeout, http_client, config.auth_headers()
        )
        self._selector = config.strategy.selector(config.orchestration_urls, self._probe_index)
        urls = config.orchestration_urls
        self._clients = tuple(InstanceClient(i, url, self._transport) for i, url in enumerate(urls))
        if config.database_url is not None:
            self.transitions_fallback = DatabaseTransitions(config.database_url)
            for client in self._clients:
                client.transitions_fallback = self.transitions_fallback
        self._workers = tuple(
            WorkerClient(i, url, self._transport) for i, url in enumerate(config.worker_urls)
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, strategy: Strategy | None = None
    ) -> OrchestrationCluster:
        return cls(ClusterConfig.from_env(environ, strategy))

    @classmethod
    def with_orchestration_instances(
        cls, count: int, base_port: int, host: str = "127.0.0.1"
    ) -> OrchestrationCluster:
        return cls(ClusterConfig.with_orchestration_instances(count, base_port, host))

    def with_strategy(self, strategy: Strategy) -> OrchestrationCluster:
        """A view with another strategy that shares this cluster's connections and counts."""
        config = dataclasses.replace(self.config, strategy=strategy)
        return OrchestrationCluster(config, _transport=self._transport)

    def use_credentials(self, api_key: str | None = None, jwt: str | None = None) -> None:
        """Send `api_key` (`X-API-Key`) and/or `jwt` (`Authorization: Bearer`) with every
        request from now on, for this client and the views sharing its connections; a value
        left out keeps the current one."""
        self.config = self.config.with_credentials(api_key, jwt)
        self._transport.headers = self.config.auth_headers()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    @property
    def instance_count(self) -> int:
        return len(self._clients)

    @property
    def urls(self) -> tuple[str, ...]:
        return self.config.orchestration_urls

    def client(self, index: int) -> InstanceClient:
        return self._clients[index]

    def all_clients(self) -> tuple[InstanceClient, ...]:
        return self._clients

    def worker(self, index: int) -> WorkerClient:
        return self._workers[index]

    def all_workers(self) -> tuple[WorkerClient, ...]:
        return self._workers

    def request_counts(self) -> dict[str, int]:
        """API calls answered per orchestration or worker URL since the client was made."""
        counts = dict.fromkeys((*self.urls, *self.config.worker_urls), 0)
        counts.update(self._transport.served)
        return counts

    async def _send(self, call: ApiCall) -> httpx.Response:
        failed: list[tuple[str, str]] = []
        for _ in range(self.instance_count):
            index = await self._selector.select()
            url = self.urls[index]
            try:
                return await self._transport.request(url, call)
            except InstanceUnreachableError as error:
                if not (self._selector.fails_over and _may_fail_over(call.method, error)):
                    raise
                logger.warning(
                    "%s %s failed (%s); failing over", call.method, error.url, error.reason
                )
                self._selector.mark_down(index, error.reason)
                failed.append((url, error.reason))
        raise NoHealthyInstanceError(failed)

    async def _probe_index(self, index: int) -> str | None:
        return await probe_health(self._transport, self.urls[index], self.config.health_timeout)

    async def probe(self, url: str, timeout: float | None = None) -> str | None:
        """Health-check any base URL: None when healthy, else why not."""
        return await probe_health(self._transport, url, timeout or self.config.health_timeout)

    async def wait_for_healthy(self, timeout: float = 30.0, include_workers: bool = True) -> None:
        """Probe every instance concurrently until all are healthy, under one deadline."""
        urls: Sequence[str] = self.urls + (self.config.worker_urls if include_workers else ())
        deadline = Deadline(timeout)
        results = await asyncio.gather(*(self._wait_one(url, deadline) for url in urls))
        unhealthy = {url: error for url, error in zip(urls, results, strict=True) if error}
        if unhealthy:
            raise ClusterNotHealthyError(timeout, unhealthy)

    async def _wait_one(self, url: str, deadline: Deadline) -> str | None:
        """Probe `url` until it is healthy (None) or the deadline passes (the last error)."""
        last_error: str | None = None

        async def healthy() -> bool:
            nonlocal last_error
            probe_timeout = max(0.05, min(self.config.health_timeout, deadline.remaining()))
            last_error = await probe_health(self._transport, url, probe_timeout)
            return last_error is None

        try:
            await wait_for_async(
                healthy,
                deadline,
                f"{url} to be healthy",
                interval=self.config.health_retry_interval,
            )
        except WaitTimeoutError:
            return last_error
        return None


def _may_fail_over(method: str, error: InstanceUnreachableError) -> bool:
    """A request that never reached the instance, or a read that is safe to repeat."""
    cause = error.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return method == "GET" and isinstance(cause, _RETRYABLE_READ_ERRORS)
