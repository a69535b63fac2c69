"""The worker service's Starlette application."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ... import __version__
from ..auth import AuthSettings
from ..endpoints import ServiceEndpoints
from ..errors import TemplateNotFoundError
from ..handlers import HandlerRegistry
from ..health import Check, database_check, thread_check
from ..metrics import MetricsRegistry
from ..settings import ServiceSettings
from ..store.database import Database
from ..templates import TaskTemplate
from ..web import iso, iso_now, service_app
from .runner import WorkerRunner

SHUTDOWN_GRACE_SECONDS = 3.0


@dataclass
class WorkerState:
    settings: ServiceSettings
    worker_id: str
    database: Database
    runner: WorkerRunner
    templates: list[TaskTemplate]
    auth: AuthSettings = field(default_factory=AuthSettings)
    started_at: float = field(default_factory=time.monotonic)


def _state(request: Request) -> WorkerState:
    state: WorkerState = request.app.state.worker
    return state


def _about(state: WorkerState, ours: dict[str, Any]) -> dict[str, Any]:
    """Upstream's `WorkerSystemInfo`, ours beside it."""
    return {
        "system_info": {
            **ours,
            "uptime_seconds": int(time.monotonic() - state.started_at),
            "worker_type": "python-reference",
            "database_pool_size": 1,
            "command_processor_active": state.runner.poller.alive,
            "supported_namespaces": _namespaces(state),
            "pool_utilization": None,
        }
    }


def _namespaces(state: WorkerState) -> list[str]:
    return [queue.removesuffix("_queue") for queue in state.runner.queues]


READINESS: dict[str, str | None] = {
    "database": "database",
    "command_processor": "queue_poller",
    "queue_processing": "queue_poller",
}
DETAILED: dict[str, str | None] = {
    **READINESS,
    "event_system": None,
    "step_processing": "queue_poller",
    "circuit_breakers": None,
}


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


ENDPOINTS = ServiceEndpoints(
    _state,
    _identity,
    _checks,
    _registry,
    _info,
    readiness=READINESS,
    detailed_names=DETAILED,
    about=_about,
)


async def templates(request: Request) -> JSONResponse:
    return JSONResponse({"templates": [t.describe() for t in _state(request).templates]})


async def upstream_templates(request: Request) -> JSONResponse:
    """Upstream's worker `TemplateListResponse` (and our template list beside it)."""
    state = _state(request)
    wanted = request.query_params.get("namespace")
    chosen = [t for t in state.templates if wanted is None or t.namespace == wanted]
    return JSONResponse(
        {
            "supported_namespaces": _namespaces(state),
            "template_count": len(chosen),
            "worker_capabilities": sorted({s.handler for t in chosen for s in t.steps}),
            "cache_stats": None,
            "templates": [t.describe() for t in chosen],
        }
    )


def _template(request: Request) -> TaskTemplate:
    params = request.path_params
    key = (params["namespace"], params["name"], params["version"])
    for template in _state(request).templates:
        if template.key == key:
            return template
    raise TemplateNotFoundError(*key)


async def template_detail(request: Request) -> JSONResponse:
    template = _template(request)
    state = _state(request)
    return JSONResponse(
        {
            "template": template.detail(),
            "handler_metadata": {
                "namespace": template.namespace,
                "name": template.name,
                "version": template.version,
                "handler_class": "tasker_cluster.services.handlers",
                "registered_at": iso(time.time() - (time.monotonic() - state.started_at)),
            },
            "cached": False,
            "access_count": None,
            "cache_age_seconds": None,
        }
    )


async def validate_template(request: Request) -> JSONResponse:
    template = _template(request)
    handlers = sorted({step.handler for step in template.steps})
    known = set(HandlerRegistry.builtin().names())
    missing = [name for name in handlers if name not in known]
    return JSONResponse(
        {
            "valid": not missing,
            "errors": [f"no step handler {name!r}" for name in missing],
            "required_capabilities": handlers,
            "step_handlers": handlers,
        }
    )


async def config(request: Request) -> JSONResponse:
    state = _state(request)
    return JSONResponse(
        {
            "metadata": {
                "timestamp": iso_now(),
                "environment": state.settings.environment,
                "version": __version__,
            },
            "worker_id": state.worker_id,
            "worker_type": "python-reference",
            "auth": {
                "enabled": state.auth.enabled,
                "verification_method": state.auth.verification_method,
                "jwt_issuer": state.auth.jwt_issuer or "",
                "jwt_audience": state.auth.jwt_audience or "",
                "api_key_header": "X-API-Key",
                "api_key_count": len(state.auth.api_keys),
                "strict_validation": True,
                "allowed_algorithms": ["RS256"],
            },
            "messaging": {"backend": "queue-table", "queues": list(state.runner.queues)},
        }
    )


ROUTES = [
    *ENDPOINTS.routes(),
    Route("/templates", templates, methods=["GET"]),
    Route("/config", config, methods=["GET"]),
    Route("/v1/templates", upstream_templates, methods=["GET"]),
    Route("/v1/templates/{namespace}/{name}/{version}", template_detail, methods=["GET"]),
    Route(
        "/v1/templates/{namespace}/{name}/{version}/validate",
        validate_template,
        methods=["POST"],
    ),
]


def build_app(state: WorkerState) -> Starlette:
    """The ASGI app; its lifespan runs the step runner."""

    app = service_app(
        ROUTES,
        start=state.runner.start,
        stop=state.runner.stop,
        shutdown_seconds=SHUTDOWN_GRACE_SECONDS,
        requests=state.runner.metrics.http_requests,
        auth=state.auth,
    )
    app.state.worker = state
    return app
