"""Health checks both services report: `{status, message, duration_ms}` per check."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from .polling import PollingThread
from .store.database import Database

STALL_SECONDS = 10.0
Check = dict[str, Any]


def database_check(database: Database) -> Check:
    started = time.perf_counter()
    try:
        database.query("SELECT 1 AS ok")
        status, message = "healthy", f"{database.dialect.name} reachable"
    except Exception as error:
        status, message = "unhealthy", f"{type(error).__name__}: {error}"
    duration = int((time.perf_counter() - started) * 1000)
    return {"status": status, "message": message, "duration_ms": duration, "last_checked": _now()}


def thread_check(thread: PollingThread, what: str, healthy_message: str) -> Check:
    """Unhealthy if the thread died or stalled; degraded if its last iteration failed."""
    since = thread.seconds_since_iteration()
    if not thread.alive:
        status, message = "unhealthy", f"{what} is not running"
    elif since is None or since > STALL_SECONDS:
        status, message = (
            "unhealthy",
            f"{what} has not completed an iteration for {STALL_SECONDS:g} s",
        )
    elif thread.last_error:
        status, message = "degraded", f"{what}: last iteration failed: {thread.last_error}"
    else:
        status, message = "healthy", healthy_message
    return {"status": status, "message": message, "duration_ms": 0, "last_checked": _now()}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def is_ready(checks: dict[str, Check]) -> bool:
    return all(check["status"] != "unhealthy" for check in checks.values())


def is_healthy(checks: dict[str, Check]) -> bool:
    return all(check["status"] == "healthy" for check in checks.values())
