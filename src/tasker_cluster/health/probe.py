"""Concurrent health probes: a thread pool of plain HTTP requests, a verdict per URL."""

from __future__ import annotations

import enum
import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

# http.client (with ssl and email) and the thread pool load with the first `HealthProber`: the
# connect look (`accepts_connections`) needs neither, and a start takes it until an instance
# accepts, while the instances it spawned boot and want the CPU.

MAX_PROBE_THREADS = 32
CONNECT_LOOK_SECONDS = 0.05


def accepts_connections(url: str) -> bool:
    """Whether the host and port of `url` accept a TCP connection right now: a cheap look
    (microseconds on loopback) before an HTTP probe, which is far dearer."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(CONNECT_LOOK_SECONDS)
        return probe.connect_ex((host, parts.port or 80)) == 0


class HealthState(enum.StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    NO_ANSWER = "no answer"


@dataclass(frozen=True)
class HealthProbe:
    """One health request: its verdict, status code, latency and a human explanation."""

    url: str
    state: HealthState
    status_code: int | None
    latency_ms: float | None
    detail: str
    answered_as: str | None = None


@dataclass(frozen=True)
class ProbeTarget:
    url: str
    expected_id: str


class HealthProber:
    """Probes many health URLs at once from a thread pool, with the standard library's HTTP
    client: a status command pays no HTTP library import (httpx with its backends costs up to
    a second here)."""

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        self._pool = ThreadPoolExecutor(
            max_workers=max(1, min(workers, MAX_PROBE_THREADS)), thread_name_prefix="health"
        )

    def __enter__(self) -> HealthProber:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def probe_many(self, targets: Sequence[ProbeTarget], timeout: float) -> list[HealthProbe]:
        """Probe every target concurrently; each request gives up after `timeout` seconds."""
        futures = [self._pool.submit(self.probe, target, timeout) for target in targets]
        return [future.result() for future in futures]

    def probe(self, target: ProbeTarget, timeout: float) -> HealthProbe:
        import http.client  # noqa: PLC0415 - loaded once, by the first probe

        parts = urlsplit(target.url)
        started = time.perf_counter()
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=max(timeout, 0.01)
        )
        try:
            try:
                connection.connect()
            except ConnectionRefusedError:
                return _no_answer(target, "connection refused")
            except (TimeoutError, OSError) as error:
                return _no_answer(
                    target, "timeout" if isinstance(error, TimeoutError) else str(error)
                )
            try:
                connection.request("GET", parts.path or "/", headers={"Connection": "close"})
                response = connection.getresponse()
                body = response.read()
            except TimeoutError:
                detail = f"accepted the connection but sent no answer within {timeout:g} s"
                return HealthProbe(target.url, HealthState.UNHEALTHY, None, None, detail)
            except (OSError, http.client.HTTPException) as error:
                detail = f"broken answer ({type(error).__name__}: {error})"
                return HealthProbe(target.url, HealthState.UNHEALTHY, None, None, detail)
        finally:
            connection.close()
        latency_ms = (time.perf_counter() - started) * 1000
        return _judge(target, response.status, _json_or_none(body), latency_ms)


def _no_answer(target: ProbeTarget, reason: str) -> HealthProbe:
    return HealthProbe(target.url, HealthState.NO_ANSWER, None, None, f"no answer ({reason})")


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _judge(target: ProbeTarget, status: int, body: Any, latency_ms: float) -> HealthProbe:
    answered_as = body.get("instance_id") if isinstance(body, dict) else None
    if answered_as is not None and answered_as != target.expected_id:
        detail = f"port answered as {answered_as}"
        return HealthProbe(
            target.url, HealthState.UNHEALTHY, status, latency_ms, detail, str(answered_as)
        )
    if status != 200:
        return HealthProbe(target.url, HealthState.UNHEALTHY, status, latency_ms, f"HTTP {status}")
    return HealthProbe(target.url, HealthState.HEALTHY, status, latency_ms, "", answered_as)
