"""The worker service's Starlette application."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ... import __version__
from ..health import Check, database_check, is_healthy, is_ready, thread_check
from ..metrics import CONTENT_TYPE
from ..settings import ServiceSettings
from ..store.database import Database
from ..templates import TaskTemplate
from ..web import iso_now, service_app
from .runner import WorkerRunner

SHUTDOWN_GRACE_SECONDS = 3.0


@dataclass
class WorkerState:
    settings: ServiceSettings
    worker_id: str
    database: Database
    runner: WorkerRunner
    templates: list[TaskTemplate]
    started_at: float = field(default_factory=time.monotonic)


def _state(request: Request) -> WorkerState:
    state: WorkerState = request.app.state.worker
    return state


def _identity(state: WorkerState) -> dict[str, Any]:
    return {
        "timestamp": iso_now(),
        "worker_id": state.worker_id,
        "instance_id": state.settings.instance_id,
    }


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "healthy", **_identity(_state(request))})


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive", "timestamp": iso_now()})


def _checks(state: WorkerState) -> dict[str, Check]:
    in_flight = f"{state.runner.in_flight} steps in flight"
    return {
        "database": database_check(state.database),
        "queue_poller": thread_check(state.runner.poller, "queue poller", in_flight),
    }


async def ready(request: Request) -> JSONResponse:
    state = _state(request)
    checks = await run_in_threadpool(_checks, state)
    ready_now = is_ready(checks)
    body = {"status": "ready" if ready_now else "not_ready", **_identity(state), "checks": checks}
    return JSONResponse(body, status_code=200 if ready_now else 503)


async def detailed(request: Request) -> JSONResponse:
    state = _state(request)
    checks = await run_in_threadpool(_checks, state)
    healthy = is_healthy(checks)
    info = {
        "version": __version__,
        "database_backend": state.database.dialect.name,
        "pid": os.getpid(),
        "uptime_seconds": round(time.monotonic() - state.started_at, 3),
        "namespaces": [queue.removesuffix("_queue") for queue in state.runner.queues],
        "concurrency": state.settings.worker_concurrency,
        "faults": state.settings.faults.describe(),
    }
    body = {"status": "healthy" if healthy else "degraded", **_identity(state)}
    return JSONResponse({**body, "checks": checks, "info": info})


async def metrics(request: Request) -> Response:
    return Response(_state(request).runner.metrics.registry.render(), media_type=CONTENT_TYPE)


async def templates(request: Request) -> JSONResponse:
    return JSONResponse({"templates": [t.describe() for t in _state(request).templates]})


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/health/ready", ready, methods=["GET"]),
    Route("/health/live", live, methods=["GET"]),
    Route("/health/detailed", detailed, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/templates", templates, methods=["GET"]),
]


def build_app(state: WorkerState) -> Starlette:
    """The ASGI app; its lifespan runs the step runner."""

    app = service_app(
        ROUTES,
        start=state.runner.start,
        stop=state.runner.stop,
        shutdown_seconds=SHUTDOWN_GRACE_SECONDS,
        requests=state.runner.metrics.http_requests,
    )
    app.state.worker = state
    return app
