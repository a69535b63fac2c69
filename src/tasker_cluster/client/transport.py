"""One shared httpx client for all instances; counts which instance answered each request."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tasker_cluster.client.errors import ApiError, InstanceUnreachableError

MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 40
# Servers commonly close idle connections after 5 s; dropping ours sooner avoids sending a
# request on a connection the server is closing at that moment.
KEEPALIVE_EXPIRY = 2.0


@dataclass(frozen=True)
class ApiCall:
    """One API request, whichever instance it is sent to."""

    method: str
    path: str
    body: Any = None
    params: dict[str, Any] | None = None


class Transport:
    """Sends requests to instances by base URL and turns HTTP errors into `ApiError`.

    `headers` (the credentials) go with every request, health probes included, whether the
    httpx client is ours or given.
    """

    def __init__(
        self,
        request_timeout: float,
        connect_timeout: float,
        http: httpx.AsyncClient | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.headers = dict(headers or {})
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(request_timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS,
                max_keepalive_connections=MAX_KEEPALIVE,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
            trust_env=False,
        )
        self.served: Counter[str] = Counter()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def request(self, base_url: str, call: ApiCall) -> httpx.Response:
        """Send `call` to the instance at `base_url`; `ApiError` on 4xx/5xx.

        A connection failure raises `InstanceUnreachableError` naming the instance, with the
        httpx transport error as its `__cause__`. A GET whose connection the server closed
        before answering is sent once more (on a fresh connection): it cannot have changed
        anything.
        """
        url = base_url + call.path
        try:
            try:
                response = await self._send(url, call)
            except httpx.RemoteProtocolError:
                if call.method != "GET":
                    raise
                response = await self._send(url, call)
        except httpx.TransportError as error:
            reason = describe_transport_error(error)
            raise InstanceUnreachableError(call.method, url, reason) from error
        self.served[base_url] += 1
        if response.status_code >= 400:
            raise api_error(call.method, str(response.url), response)
        return response

    async def _send(self, url: str, call: ApiCall) -> httpx.Response:
        return await self.http.request(
            call.method, url, json=call.body, params=call.params, headers=self.headers
        )


def api_error(method: str, url: str, response: httpx.Response) -> ApiError:
    """Build an `ApiError` from `{"error": {"code", "message"}}` (tasker-core's wire body; the
    reference services add `kind`), from tasker-core's
    `ApiError` (`{"NotFound": {"message"}}`, or a bare string such as `"Unauthorized"`), or
    from the raw text."""
    code = "http_error"
    kind: str | None = None
    message = response.text.strip()[:500] or response.reason_phrase
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        code = str(error.get("code", code))
        message = str(error.get("message", message))
        kind = str(error["kind"]) if error.get("kind") else None
    elif isinstance(payload, str) and payload:
        # a bare variant ("ServiceUnavailable"); the reference services add theirs as headers
        code = response.headers.get("x-tasker-error-code", payload)
        kind = response.headers.get("x-tasker-error-kind")
        message = response.headers.get("x-tasker-error-message", payload)
    elif isinstance(payload, dict) and len(payload) == 1:
        ((variant, detail),) = payload.items()
        code = str(variant)
        if isinstance(detail, dict):
            message = str(detail.get("message") or detail.get("reason") or detail)
    if response.status_code == UNAUTHORIZED:
        message += f" ({_credentials_hint(response.request)})"
    return ApiError(method, url, response.status_code, code, message, kind)


UNAUTHORIZED = 401


def _credentials_hint(request: httpx.Request) -> str:
    """What the client sent (never the secret) and how to give it credentials."""
    sent = [name for name in ("X-API-Key", "Authorization") if name in request.headers]
    if sent:
        return f"the client sent {' and '.join(sent)}; check the key or token"
    return (
        "the client sent no credentials: give ClusterConfig api_key= or jwt=, or set "
        "TASKER_TEST_API_KEY or TASKER_TEST_JWT"
    )


def describe_transport_error(error: httpx.TransportError) -> str:
    """A short reason such as 'connection refused' or 'timed out (ReadTimeout)'."""
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__
