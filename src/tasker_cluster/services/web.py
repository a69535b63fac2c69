"""HTTP plumbing both services share: JSON errors, request metrics, and running uvicorn."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import AuthMiddleware, AuthSettings
from .errors import (
    STRING_VARIANTS,
    MethodNotAllowedError,
    RequestError,
    RouteNotFoundError,
    ServiceError,
    ServiceUnavailableError,
)
from .metrics import Counter
from .store.database import DatabaseUnavailableError, TransientError

logger = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_SECONDS = 3


class PortUnavailableError(ServiceError):
    def __init__(self, host: str, port: int, detail: str) -> None:
        self.host = host
        self.port = port
        self.detail = detail
        super().__init__(
            f"cannot listen on {host}:{port}: {detail}; choose a free port with"
            " TASKER_WEB_BIND_ADDRESS, TASKER_INSTANCE_PORT or PORT"
        )


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# tasker-core's wire code of each `ApiError` variant, as its `IntoResponse` writes it
UPSTREAM_CODES = {
    "BadRequest": "BAD_REQUEST",
    "NotFound": "NOT_FOUND",
    "Conflict": "CONFLICT",
    "ServiceUnavailable": "SERVICE_UNAVAILABLE",
    "Unauthorized": "AUTHENTICATION_FAILED",
    "Forbidden": "AUTHORIZATION_FAILED",
    "Internal": "INTERNAL_ERROR",
}


def error_body(kind: str, message: str, variant: str = "BadRequest") -> Any:
    """tasker-core's `ApiError`: `{"<Variant>": {"message"}}` as its document describes it,
    beside `{"error": {"code", "message"}}` as its server sends it (`code` upper-case, e.g.
    `NOT_FOUND`), with ours, `kind` (e.g. `task_not_found`), added; or the bare variant name
    for the variants that carry nothing."""
    if variant in STRING_VARIANTS:
        return variant
    code = UPSTREAM_CODES.get(variant, "BAD_REQUEST")
    return {
        variant: {"message": message},
        "error": {"code": code, "message": message, "kind": kind},
    }


ERROR_CODE_HEADER = "X-Tasker-Error-Code"
ERROR_KIND_HEADER = "X-Tasker-Error-Kind"
ERROR_MESSAGE_HEADER = "X-Tasker-Error-Message"


def error_headers(kind: str, message: str, variant: str) -> dict[str, str]:
    """What a bare-string `ApiError` has no room for, as headers: the upper-case code, our
    kind and the message (printable ASCII; other characters escaped)."""
    text = message.encode("ascii", "backslashreplace").decode("ascii")
    return {
        ERROR_CODE_HEADER: UPSTREAM_CODES.get(variant, "BAD_REQUEST"),
        ERROR_KIND_HEADER: kind,
        ERROR_MESSAGE_HEADER: "".join(c for c in text if c >= " "),
    }


def error_response(kind: str, message: str, variant: str, status: int) -> JSONResponse:
    headers = error_headers(kind, message, variant) if variant in STRING_VARIANTS else None
    return JSONResponse(error_body(kind, message, variant), status_code=status, headers=headers)


def request_error_response(error: RequestError) -> JSONResponse:
    return error_response(error.code, str(error), error.variant, error.status)


async def handle_request_error(request: Request, error: Exception) -> Response:
    if isinstance(error, RequestError):
        return request_error_response(error)
    if isinstance(error, HTTPException) and error.status_code == 405:
        response = request_error_response(MethodNotAllowedError(request.method, request.url.path))
        response.headers.update(error.headers or {})
        return response
    if isinstance(error, HTTPException) and error.status_code == 404:
        return request_error_response(RouteNotFoundError(request.method, request.url.path))
    if isinstance(error, HTTPException):
        return JSONResponse(error_body("http_error", str(error.detail)), error.status_code)
    if isinstance(error, DatabaseUnavailableError | TransientError):
        return request_error_response(ServiceUnavailableError(str(error)))
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(
        "internal_error", f"internal error: {type(error).__name__}", "Internal", 500
    )


EXCEPTION_HANDLERS = {
    RequestError: handle_request_error,
    HTTPException: handle_request_error,
    DatabaseUnavailableError: handle_request_error,
    TransientError: handle_request_error,
    Exception: handle_request_error,
}


class RequestMetricsMiddleware:
    """Counts requests by method, route template (not raw path) and status."""

    def __init__(self, app: ASGIApp, counter: Counter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.counter.inc(method=scope["method"], route=template, status=str(status))


def bind_socket(host: str, port: int) -> socket.socket:
    """Listen before anything slow happens, so a taken port fails the start at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # With an explicit IPPROTO_TCP asyncio sets TCP_NODELAY on accepted connections; without
    # it every request on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise PortUnavailableError(host, port, error.strerror or str(error)) from error
    sock.set_inheritable(True)
    return sock


def serve(app: ASGIApp, sock: socket.socket) -> None:
    """Run uvicorn on `sock` until SIGTERM/SIGINT, then shut down gracefully and return."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        loop="asyncio",
        http="h11",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal it caught once it has shut down; with these handlers in
    # place that re-raise is harmless and the process ends with status 0.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, frame: None)
    server.run(sockets=[sock])


def service_app(
    routes: Sequence[BaseRoute],
    *,
    start: Callable[[], None],
    stop: Callable[[float], None],
    shutdown_seconds: float,
    requests: Counter,
    auth: AuthSettings | None = None,
) -> Starlette:
    """A service's ASGI app: `start` its background work with the server, `stop` it after."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        start()
        try:
            yield
        finally:
            await run_in_threadpool(stop, shutdown_seconds)

    return Starlette(
        routes=list(routes),
        middleware=[
            Middleware(RequestMetricsMiddleware, counter=requests),
            Middleware(AuthMiddleware, settings=auth or AuthSettings()),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
