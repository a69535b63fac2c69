"""Concurrent httpx health probes: one shared client and thread pool, a verdict per URL."""

from __future__ import annotations

import enum
import socket
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

MAX_PROBE_THREADS = 32
CONNECT_LOOK_SECONDS = 0.05


def import_httpx() -> ModuleType:
    """httpx, imported only by the commands that probe, and without its command-line client.

    httpx imports its CLI (click, rich, pygments) whenever those happen to be installed, which
    triples its import time; a None entry in `sys.modules` makes that optional import fail fast.
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx  # noqa: PLC0415

    return httpx


def accepts_connections(url: str) -> bool:
    """Whether the host and port of `url` accept a TCP connection right now: a cheap look
    (microseconds on loopback) before an HTTP probe, which is far dearer."""
    host, _, port = url.partition("://")[2].split("/", 1)[0].rpartition(":")
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(CONNECT_LOOK_SECONDS)
        return probe.connect_ex((host.strip("[]"), int(port))) == 0


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
    """Probes many health URLs at once with a shared client and thread pool."""

    def __init__(self, workers: int) -> None:
        httpx = import_httpx()
        self._httpx = httpx
        self._client = httpx.Client(
            trust_env=False,
            verify=False,  # health URLs are plain http; loading CA certificates costs ~0.2 s
            follow_redirects=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
        )
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
        self._client.close()

    def probe_many(self, targets: Sequence[ProbeTarget], timeout: float) -> list[HealthProbe]:
        """Probe every target concurrently; each request gives up after `timeout` seconds."""
        futures = [self._pool.submit(self.probe, target, timeout) for target in targets]
        return [future.result() for future in futures]

    def probe(self, target: ProbeTarget, timeout: float) -> HealthProbe:
        httpx = self._httpx
        started = time.perf_counter()
        try:
            response = self._client.get(target.url, timeout=httpx.Timeout(max(timeout, 0.01)))
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            reason = "connection refused" if isinstance(error, httpx.ConnectError) else "timeout"
            return HealthProbe(
                target.url, HealthState.NO_ANSWER, None, None, f"no answer ({reason})"
            )
        except httpx.TimeoutException:
            detail = f"accepted the connection but sent no answer within {timeout:g} s"
            return HealthProbe(target.url, HealthState.UNHEALTHY, None, None, detail)
        except httpx.HTTPError as error:
            detail = f"broken answer ({type(error).__name__}: {error})"
            return HealthProbe(target.url, HealthState.UNHEALTHY, None, None, detail)
        latency_ms = (time.perf_counter() - started) * 1000
        return _judge(target, response.status_code, _json_or_none(response), latency_ms)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
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
