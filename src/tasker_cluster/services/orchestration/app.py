"""The orchestration service's Starlette application."""

from __future__ import annotations

import os
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ... import __version__
from ..health import Check, database_check, is_healthy, is_ready, thread_check
from ..metrics import CONTENT_TYPE
from ..web import iso_now, service_app
from . import tasks_api
from .openapi import openapi_document
from .state import OrchestrationState

SHUTDOWN_SECONDS = 3.0


def _state(request: Request) -> OrchestrationState:
    state: OrchestrationState = request.app.state.orchestration
    return state


async def health(request: Request) -> JSONResponse:
    state = _state(request)
    return JSONResponse(
        {"status": "healthy", "timestamp": iso_now(), "instance_id": state.settings.instance_id}
    )


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive", "timestamp": iso_now()})


def _checks(state: OrchestrationState) -> dict[str, Check]:
    return {
        "database": database_check(state.database),
        "orchestration_loop": thread_check(
            state.loop.thread, "orchestration loop", "orchestration loop running"
        ),
    }


async def ready(request: Request) -> JSONResponse:
    state = _state(request)
    checks = await run_in_threadpool(_checks, state)
    ready_now = is_ready(checks)
    body = {
        "status": "ready" if ready_now else "not_ready",
        "timestamp": iso_now(),
        "instance_id": state.settings.instance_id,
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if ready_now else 503)


async def detailed(request: Request) -> JSONResponse:
    state = _state(request)
    checks = await run_in_threadpool(_checks, state)
    healthy = is_healthy(checks)
    return JSONResponse(
        {
            "status": "healthy" if healthy else "degraded",
            "timestamp": iso_now(),
            "instance_id": state.settings.instance_id,
            "checks": checks,
            "info": {
                "version": __version__,
                "database_backend": state.database.dialect.name,
                "pid": os.getpid(),
                "uptime_seconds": round(time.monotonic() - state.started_at, 3),
                "faults": state.settings.faults.describe(),
            },
        }
    )


async def metrics(request: Request) -> Response:
    return Response(_state(request).metrics.registry.render(), media_type=CONTENT_TYPE)


async def templates(request: Request) -> JSONResponse:
    registry = _state(request).templates
    return JSONResponse({"templates": [template.describe() for template in registry.all()]})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document(__version__, _state(request).templates.all()))


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/health/ready", ready, methods=["GET"]),
    Route("/health/live", live, methods=["GET"]),
    Route("/health/detailed", detailed, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/api-docs/openapi.json", openapi, methods=["GET"]),
    Route("/v1/templates", templates, methods=["GET"]),
    Route("/v1/tasks", tasks_api.tasks, methods=["GET", "POST"]),
    Route("/v1/tasks/{task_uuid}", tasks_api.task, methods=["GET", "DELETE"]),
    Route("/v1/tasks/{task_uuid}/transitions", tasks_api.task_transitions, methods=["GET"]),
    Route("/v1/tasks/{task_uuid}/workflow_steps", tasks_api.list_steps, methods=["GET"]),
    Route("/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}", tasks_api.get_step, methods=["GET"]),
    Route(
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit",
        tasks_api.step_audit,
        methods=["GET"],
    ),
]


def build_app(state: OrchestrationState) -> Starlette:
    """The ASGI app; its lifespan runs the orchestration loop."""

    app = service_app(
        ROUTES,
        start=state.loop.start,
        stop=state.loop.stop,
        shutdown_seconds=SHUTDOWN_SECONDS,
        requests=state.metrics.http_requests,
    )
    app.state.orchestration = state
    return app
