"""The worker service's Starlette application."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..endpoints import ServiceEndpoints
from ..health import Check, database_check, thread_check
from ..metrics import MetricsRegistry
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


def _checks(state: WorkerState) -> dict[str, Check]:
    in_flight = f"{state.runner.in_flight} steps in flight"
    return {
        "database": database_check(state.database),
        "queue_poller": thread_check(state.runner.poller, "queue poller", in_flight),
    }


def _info(state: WorkerState) -> dict[str, Any]:
    return {
        "namespaces": [queue.removesuffix("_queue") for queue in state.runner.queues],
        "concurrency": state.settings.worker_concurrency,
    }


def _registry(state: WorkerState) -> MetricsRegistry:
    return state.runner.metrics.registry


ENDPOINTS = ServiceEndpoints(_state, _identity, _checks, _registry, _info)


async def templates(request: Request) -> JSONResponse:
    return JSONResponse({"templates": [t.describe() for t in _state(request).templates]})


ROUTES = [
    *ENDPOINTS.routes(),
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
