"""The health and metrics routes both services serve, each over what its state reports.

A service says who it is (`identity`: the fields after `status`), what it checks, what it
adds to `/health/detailed`'s `info`, and where its metrics are.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


def _healthy(message: str) -> Check:
    return {"status": "healthy", "message": message, "duration_ms": 0, "last_checked": iso_now()}


def _upstream(checks: dict[str, Check], names: dict[str, str | None]) -> dict[str, Check]:
    """Upstream's named checks (each one of ours, or None: a part we do not have, always
    healthy), followed by ours under their own names."""
    named = {
        upstream: checks[ours] if ours is not None else _healthy("not applicable: none here")
        for upstream, ours in names.items()
    }
    return {**named, **checks}


@dataclass(frozen=True)
class ServiceEndpoints(Generic[S]):
    """`identity`: the fields after `status` in `/health`; `readiness` and `detailed`: which
    of our checks stands for each of upstream's; `about`: what upstream's `/ready` and
    `/health/detailed` carry besides checks (`info` for orchestration, `worker_id` and
    `system_info` for a worker); `not_ready`: the 503 body."""

    state: Callable[[Request], S]
    identity: Callable[[S], dict[str, Any]]
    checks: Callable[[S], dict[str, Check]]
    registry: Callable[[S], MetricsRegistry]
    info: Callable[[S], dict[str, Any]] = lambda state: {}
    readiness: dict[str, str | None] = field(default_factory=dict)
    detailed_names: dict[str, str | None] = field(default_factory=dict)
    about: Callable[[S, dict[str, Any]], dict[str, Any]] = lambda state, info: {"info": info}
    not_ready: Callable[[dict[str, Any]], Any] = lambda body: body
    extra_ready_paths: tuple[str, ...] = ()
    extra_live_paths: tuple[str, ...] = ()

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            *(
                Route(path, self.ready, methods=["GET"])
                for path in ("/health/ready", *self.extra_ready_paths)
            ),
            *(
                Route(path, self.live, methods=["GET"])
                for path in ("/health/live", *self.extra_live_paths)
            ),
            Route("/health/detailed", self.detailed, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy", **self.identity(self.state(request))})

    async def live(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive", **self.identity(self.state(request))})

    def _info(self, state: S) -> dict[str, Any]:
        return {
            "version": __version__,
            "environment": state.settings.environment,
            "database_backend": state.database.dialect.name,
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - state.started_at, 3),
            **self.info(state),
            "faults": state.settings.faults.describe(),
        }

    async def ready(self, request: Request) -> JSONResponse:
        state = self.state(request)
        checks = await run_in_threadpool(self.checks, state)
        ready_now = is_ready(checks)
        body = {
            "status": "ready" if ready_now else "not_ready",
            **self.identity(state),
            "checks": _upstream(checks, self.readiness),
            **self.about(state, self._info(state)),
        }
        if not ready_now:
            return JSONResponse(self.not_ready(body), status_code=503)
        return JSONResponse(body)

    async def detailed(self, request: Request) -> JSONResponse:
        state = self.state(request)
        checks = await run_in_threadpool(self.checks, state)
        status = "healthy" if is_healthy(checks) else "degraded"
        return JSONResponse(
            {
                "status": status,
                **self.identity(state),
                "checks": _upstream(checks, self.detailed_names),
                **self.about(state, self._info(state)),
            }
        )

    async def metrics(self, request: Request) -> Response:
        registry = self.registry(self.state(request))
        return Response(registry.render(), media_type=CONTENT_TYPE)
