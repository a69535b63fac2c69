"""A tiny stand-in orchestration instance for client tests: health, errors, a metrics page.

Run as `python fake_service.py <listening socket fd> <instance id>`; the parent binds the socket,
so the port is known before this process starts and nothing races for it.
"""

from __future__ import annotations

import socket
import sys
import uuid
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

INSTANCE_ID = sys.argv[2] if len(sys.argv) > 2 else "fake"
STATE = {"healthy": True}


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def health(request: Request) -> Response:
    if not STATE["healthy"]:
        return error(503, "not_ready", f"{INSTANCE_ID} is switched to unhealthy")
    now = datetime.now(UTC).isoformat()
    return JSONResponse({"status": "healthy", "timestamp": now, "instance_id": INSTANCE_ID})


async def set_health(request: Request) -> Response:
    STATE["healthy"] = bool((await request.json())["healthy"])
    return JSONResponse({"healthy": STATE["healthy"]})


async def create_task(request: Request) -> Response:
    body = await request.json()
    if body.get("namespace") != "load_testing":
        return error(
            404, "template_not_found", f"no template {body.get('namespace')}/{body.get('name')}"
        )
    task_uuid = str(uuid.uuid4())
    return JSONResponse(
        {
            "task_uuid": task_uuid,
            "name": "fan_out",
            "namespace": "load_testing",
            "version": "1.0.0",
            "status": "pending",
            "context": {},
            "created_at": datetime.now(UTC).isoformat(),
            "completion_percentage": 0.0,
            "steps": [
                {
                    "workflow_step_uuid": str(uuid.uuid4()),
                    "task_uuid": task_uuid,
                    "named_step_uuid": str(uuid.uuid4()),
                    "name": name,
                    "current_state": "pending",
                    "dependencies_satisfied": True,
                    "retry_eligible": True,
                    "ready_for_execution": True,
                    "total_parents": 0,
                    "completed_parents": 0,
                    "attempts": 0,
                    "max_attempts": 3,
                }
                for name in ("a", "b")
            ],
            "served_by": INSTANCE_ID,
        },
        status_code=201,
    )


async def get_task(request: Request) -> Response:
    return error(404, "task_not_found", f"task {request.path_params['task_uuid']} not found")


async def metrics(request: Request) -> Response:
    return PlainTextResponse(
        "# TYPE tasker_tasks_created_total counter\n"
        f'tasker_tasks_created_total{{instance="{INSTANCE_ID}"}} 3\n'
    )


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/_fake/health", set_health, methods=["POST"]),
        Route("/v1/tasks", create_task, methods=["POST"]),
        Route("/v1/tasks/{task_uuid}", get_task),
        Route("/metrics", metrics),
    ]
)

if __name__ == "__main__":
    listener = socket.socket(fileno=int(sys.argv[1]))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[listener])
