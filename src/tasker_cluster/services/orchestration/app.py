"""The orchestration service's Starlette application."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ... import __version__
from ..endpoints import ServiceEndpoints
from ..health import Check, database_check, thread_check
from ..metrics import MetricsRegistry
from ..web import iso_now, service_app
from . import tasks_api
from .openapi import openapi_document
from .state import OrchestrationState

SHUTDOWN_SECONDS = 3.0


def _identity(state: OrchestrationState) -> dict[str, Any]:
    return {"timestamp": iso_now(), "instance_id": state.settings.instance_id}


def _checks(state: OrchestrationState) -> dict[str, Check]:
    return {
        "database": database_check(state.database),
        "orchestration_loop": thread_check(
            state.loop.thread, "orchestration loop", "orchestration loop running"
        ),
    }


def _registry(state: OrchestrationState) -> MetricsRegistry:
    return state.metrics.registry


ENDPOINTS = ServiceEndpoints(OrchestrationState.of, _identity, _checks, _registry)


async def templates(request: Request) -> JSONResponse:
    registry = OrchestrationState.of(request).templates
    return JSONResponse({"templates": [template.describe() for template in registry.all()]})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(
        openapi_document(__version__, OrchestrationState.of(request).templates.all())
    )


ROUTES = [
    *ENDPOINTS.routes(),
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
