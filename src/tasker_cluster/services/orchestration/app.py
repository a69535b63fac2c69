"""The orchestration service's Starlette application."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ... import __version__
from ..endpoints import ServiceEndpoints
from ..health import Check, database_check, thread_check
from ..metrics import MetricsRegistry
from ..web import iso_now, service_app
from . import manual, operations, summary, tasks_api
from .openapi import openapi_document
from .state import OrchestrationState

SHUTDOWN_SECONDS = 3.0


def _identity(state: OrchestrationState) -> dict[str, Any]:
    return {"timestamp": iso_now(), "instance_id": state.settings.instance_id}


def _about(state: OrchestrationState, ours: dict[str, Any]) -> dict[str, Any]:
    """Upstream's `HealthInfo`, ours beside it."""
    healthy = state.loop.thread.alive
    return {
        "info": {
            **ours,
            "operational_state": "normal" if healthy else "stopped",
            "web_database_pool_size": API_CONNECTIONS,
            "orchestration_database_pool_size": 1,
            "circuit_breaker_state": "closed",
            "pool_utilization": None,
        }
    }


API_CONNECTIONS = 4
READINESS = {
    "web_database": "database",
    "orchestration_database": "database",
    "circuit_breaker": None,
    "orchestration_system": "orchestration_loop",
    "command_processor": "orchestration_loop",
}
DETAILED = {**READINESS, "pool_utilization": None, "queue_depth": None, "channel_saturation": None}


def _checks(state: OrchestrationState) -> dict[str, Check]:
    return {
        "database": database_check(state.database),
        "orchestration_loop": thread_check(
            state.loop.thread, "orchestration loop", "orchestration loop running"
        ),
    }


def _registry(state: OrchestrationState) -> MetricsRegistry:
    return state.metrics.registry


ENDPOINTS = ServiceEndpoints(
    OrchestrationState.of,
    _identity,
    _checks,
    _registry,
    readiness=READINESS,
    detailed_names=DETAILED,
    about=_about,
    not_ready=lambda body: "ServiceUnavailable",
    extra_ready_paths=("/ready",),
    extra_live_paths=("/live",),
)


async def _step(request: Request) -> Response:
    if request.method == "PATCH":
        return await manual.patch_step(request)
    return await tasks_api.get_step(request)


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(
        openapi_document(__version__, OrchestrationState.of(request).templates.all())
    )


ROUTES = [
    *ENDPOINTS.routes(),
    Route("/api-docs/openapi.json", openapi, methods=["GET"]),
    Route("/config", operations.config, methods=["GET"]),
    Route("/v1/templates", operations.templates, methods=["GET"]),
    Route("/v1/templates/{namespace}/{name}/{version}", operations.template, methods=["GET"]),
    Route("/v1/tasks", tasks_api.tasks, methods=["GET", "POST"]),
    Route("/v1/tasks/{task_uuid}", tasks_api.task, methods=["GET", "DELETE"]),
    Route("/v1/tasks/{task_uuid}/summary", summary.task_summary, methods=["GET"]),
    Route("/v1/tasks/{task_uuid}/transitions", tasks_api.task_transitions, methods=["GET"]),
    Route("/v1/tasks/{task_uuid}/workflow_steps", tasks_api.list_steps, methods=["GET"]),
    Route("/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}", _step, methods=["GET", "PATCH"]),
    Route(
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit",
        tasks_api.step_audit,
        methods=["GET"],
    ),
    Route(
        "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/transitions",
        tasks_api.step_transitions,
        methods=["GET"],
    ),
    Route("/v1/dlq", operations.dlq_list, methods=["GET"]),
    Route("/v1/dlq/entry/{dlq_entry_uuid}", operations.dlq_update, methods=["PATCH"]),
    Route("/v1/dlq/investigation-queue", operations.dlq_investigation_queue, methods=["GET"]),
    Route("/v1/dlq/staleness", operations.dlq_staleness, methods=["GET"]),
    Route("/v1/dlq/stats", operations.dlq_stats, methods=["GET"]),
    Route("/v1/dlq/task/{task_uuid}", operations.dlq_task, methods=["GET"]),
    Route("/v1/analytics/performance", operations.performance, methods=["GET"]),
    Route("/v1/analytics/bottlenecks", operations.bottlenecks, methods=["GET"]),
]


def build_app(state: OrchestrationState) -> Starlette:
    """The ASGI app; its lifespan runs the orchestration loop."""

    app = service_app(
        ROUTES,
        start=state.loop.start,
        stop=state.loop.stop,
        shutdown_seconds=SHUTDOWN_SECONDS,
        requests=state.metrics.http_requests,
        auth=state.auth,
    )
    app.state.orchestration = state
    return app
