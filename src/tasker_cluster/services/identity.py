"""Instance identity: the environment allowlist, the worker id and instance-aware log lines."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import InvalidEnvironmentError

IDENTIFIER_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$"


@dataclass(frozen=True)
class EnvRule:
    """The pattern a variable must match and, for numbers, the inclusive range it must lie in."""

    pattern: str
    minimum: int | None = None
    maximum: int | None = None

    def check(self, variable: str, value: str) -> None:
        if not re.fullmatch(self.pattern, value):
            raise InvalidEnvironmentError(variable, value, f"does not match {self.pattern}")
        if self.minimum is None or self.maximum is None:
            return
        number = int(value.rsplit(":", 1)[-1])
        if not self.minimum <= number <= self.maximum:
            raise InvalidEnvironmentError(
                variable, value, f"is not in {self.minimum}..{self.maximum}"
            )


ENV_RULES: dict[str, EnvRule] = {
    "TASKER_INSTANCE_ID": EnvRule(IDENTIFIER_PATTERN),
    "TASKER_WORKER_ID": EnvRule(IDENTIFIER_PATTERN),
    "TASKER_INSTANCE_PORT": EnvRule(r"^[0-9]{1,5}$", 1024, 65535),
    "PORT": EnvRule(r"^[0-9]{1,5}$", 1, 65535),
    "TASKER_WEB_BIND_ADDRESS": EnvRule(
        r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$", 1, 65535
    ),
    "TASKER_ENV": EnvRule(r"^(test|development|production)$"),
    "DATABASE_URL": EnvRule(r"^(postgres|postgresql)://\S*$|^sqlite:///\S+$"),
    "TASKER_CLUSTER_DIR": EnvRule(r"^[^\x00]+$"),
    "TASKER_WORKER_CONCURRENCY": EnvRule(r"^[0-9]{1,2}$", 1, 64),
    "TASKER_WORKER_NAMESPACES": EnvRule(r"^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$"),
    "TASKER_VISIBILITY_TIMEOUT_SECONDS": EnvRule(r"^[0-9]{1,4}$", 1, 3600),
    "TASKER_TASK_LEASE_SECONDS": EnvRule(r"^[0-9]{1,4}$", 1, 3600),
    "TASKER_POLL_INTERVAL_MS": EnvRule(r"^[0-9]{1,5}$", 5, 10000),
    "TASKER_WAKEUPS": EnvRule(r"^(on|off)$"),
    "TASKER_FAULTS": EnvRule(r"^[a-z_]+(,[a-z_]+)*$"),
    "TASKER_LOG_LEVEL": EnvRule(r"^(DEBUG|INFO|WARNING|ERROR)$"),
}


def validated_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The allowlisted variables that are set (an empty value counts as unset), all checked.

    Raises `InvalidEnvironmentError` for the first variable, in allowlist order, that breaks
    its rule.
    """
    values: dict[str, str] = {}
    for variable, rule in ENV_RULES.items():
        value = environ.get(variable, "")
        if value:
            rule.check(variable, value)
            values[variable] = value
    return values


def resolve_worker_id(environ: Mapping[str, str], configured: str | None = None) -> str:
    """The worker id: `TASKER_WORKER_ID`, `TASKER_INSTANCE_ID`, `configured`, `worker-<uuid>`."""
    for variable in ("TASKER_WORKER_ID", "TASKER_INSTANCE_ID"):
        candidate = environ.get(variable, "")
        if candidate:
            ENV_RULES[variable].check(variable, candidate)
            return candidate
    if configured:
        ENV_RULES["TASKER_WORKER_ID"].check("worker id", configured)
        return configured
    return f"worker-{uuid.uuid4()}"


def log_format(instance_id: str | None) -> str:
    prefix = f"[{instance_id}] " if instance_id else ""
    return "%(asctime)s " + prefix + "%(levelname)s %(name)s: %(message)s"


class UtcFormatter(logging.Formatter):
    """`%(asctime)s` as ISO-8601 UTC with milliseconds: `2026-01-31T12:00:00.123Z`."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def configure_logging(instance_id: str | None, level: str = "INFO") -> None:
    """Route every logger (uvicorn's included) to stderr as
    `<ISO-8601 UTC time> [<instance>] LEVEL logger: message`, so lines of many instances merge
    in time order."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(UtcFormatter(log_format(instance_id)))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
