"""Service settings read once, at start, from the validated environment."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import DATA_DIR, DATABASE_FILE
from .auth import AuthSettings
from .faults import Faults
from .identity import validated_environment


class ServiceKind(enum.StrEnum):
    ORCHESTRATION = "orchestration"
    WORKER = "worker"


DEFAULT_PORTS = {ServiceKind.ORCHESTRATION: 8080, ServiceKind.WORKER: 8300}
DEFAULT_BIND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServiceSettings:
    kind: ServiceKind
    instance_id: str | None
    host: str
    port: int
    database_url: str
    environment: str = "development"
    poll_interval_seconds: float = 0.05
    wakeups: bool = True  # TASKER_WAKEUPS=off: no wake-up watcher, the loops only poll
    visibility_timeout_seconds: float = 30.0
    task_lease_seconds: float = 10.0
    worker_concurrency: int = 4
    worker_namespaces: tuple[str, ...] | None = None
    faults: Faults = field(default_factory=Faults)
    log_level: str = "INFO"
    auth: AuthSettings = field(default_factory=AuthSettings)

    @classmethod
    def from_environ(
        cls, kind: ServiceKind, environ: Mapping[str, str], cwd: Path | None = None
    ) -> ServiceSettings:
        """Settings from `environ`; raises `InvalidEnvironmentError` naming the bad variable."""
        env = validated_environment(environ)
        host, port = _bind_address(kind, env)
        namespaces = env.get("TASKER_WORKER_NAMESPACES")
        return cls(
            kind=kind,
            instance_id=env.get("TASKER_INSTANCE_ID"),
            host=host,
            port=port,
            database_url=env.get("DATABASE_URL") or default_database_url(env, cwd or Path.cwd()),
            environment=env.get("TASKER_ENV", "development"),
            poll_interval_seconds=int(env.get("TASKER_POLL_INTERVAL_MS", "50")) / 1000,
            wakeups=env.get("TASKER_WAKEUPS", "on") == "on",
            visibility_timeout_seconds=float(env.get("TASKER_VISIBILITY_TIMEOUT_SECONDS", "30")),
            task_lease_seconds=float(env.get("TASKER_TASK_LEASE_SECONDS", "10")),
            worker_concurrency=int(env.get("TASKER_WORKER_CONCURRENCY", "4")),
            worker_namespaces=tuple(namespaces.split(",")) if namespaces else None,
            faults=Faults.parse(env.get("TASKER_FAULTS", "")),
            log_level=env.get("TASKER_LOG_LEVEL", "INFO"),
            auth=AuthSettings.from_environ(environ),
        )

    @property
    def display_id(self) -> str:
        return self.instance_id or self.kind.value


def _bind_address(kind: ServiceKind, env: Mapping[str, str]) -> tuple[str, int]:
    bind = env.get("TASKER_WEB_BIND_ADDRESS")
    if bind:
        host, _, port = bind.rpartition(":")
        return host.strip("[]"), int(port)
    port_text = env.get("TASKER_INSTANCE_PORT") or env.get("PORT")
    return DEFAULT_BIND_HOST, int(port_text) if port_text else DEFAULT_PORTS[kind]


def default_database_url(env: Mapping[str, str], cwd: Path) -> str:
    base = Path(env["TASKER_CLUSTER_DIR"]) if "TASKER_CLUSTER_DIR" in env else cwd
    return f"sqlite:///{(base / DATA_DIR / DATABASE_FILE).absolute()}"
