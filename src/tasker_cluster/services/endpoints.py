"""The health and metrics routes both services serve, each over what its state reports.

A service says who it is (`identity`: the fields after `status`), what it checks, what it
adds to `/health/detailed`'s `info`, and where its metrics are.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from .health import Check, is_healthy, is_ready
from .metrics import CONTENT_TYPE, MetricsRegistry
from .settings import ServiceSettings
from .store.database import Database
from .web import iso_now


class ServiceState(Protocol):
    @property
    def settings(self) -> ServiceSettings: ...

    @property
    def database(self) -> Database: ...

    @property
    def started_at(self) -> float: ...


S = TypeVar("S", bound=ServiceState)


@dataclass(frozen=True)
class ServiceEndpoints(Generic[S]):
    state: Callable[[Request], S]
    identity: Callable[[S], dict[str, Any]]
    checks: Callable[[S], dict[str, Check]]
    registry: Callable[[S], MetricsRegistry]
    info: Callable[[S], dict[str, Any]] = lambda state: {}

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/health/ready", self.ready, methods=["GET"]),
            Route("/health/live", self.live, methods=["GET"]),
            Route("/health/detailed", self.detailed, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy", **self.identity(self.state(request))})

    async def live(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive", "timestamp": iso_now()})

    async def ready(self, request: Request) -> JSONResponse:
        state = self.state(request)
        checks = await run_in_threadpool(self.checks, state)
        ready_now = is_ready(checks)
        body = {
            "status": "ready" if ready_now else "not_ready",
            **self.identity(state),
            "checks": checks,
        }
        return JSONResponse(body, status_code=200 if ready_now else 503)

    async def detailed(self, request: Request) -> JSONResponse:
        state = self.state(request)
        checks = await run_in_threadpool(self.checks, state)
        info = {
            "version": __version__,
            "database_backend": state.database.dialect.name,
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - state.started_at, 3),
            **self.info(state),
            "faults": state.settings.faults.describe(),
        }
        status = "healthy" if is_healthy(checks) else "degraded"
        return JSONResponse(
            {"status": status, **self.identity(state), "checks": checks, "info": info}
        )

    async def metrics(self, request: Request) -> Response:
        registry = self.registry(self.state(request))
        return Response(registry.render(), media_type=CONTENT_TYPE)
