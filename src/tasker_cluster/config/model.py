"""Validated cluster settings: frozen dataclasses derived from the merged configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tasker_cluster.config.errors import UnknownServiceError
from tasker_cluster.config.layers import ConfigLayer
from tasker_cluster.layout import DATA_DIR, LOCK_FILE, LOG_SUFFIX, LOGS_DIR, PIDS_DIR

INSTANCE_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$")
WILDCARD_HOSTS = frozenset({"0.0.0.0", "", "::", "[::]"})
ORCHESTRATION_ROLE = "orchestration"
WORKER_ROLE = "worker"
ROLES = (ORCHESTRATION_ROLE, WORKER_ROLE)


def type_name(key_part: str) -> str:
    """`WORKER_PYTHON` -> `worker-python`."""
    return key_part.lower().replace("_", "-")


def key_part(service: str) -> str:
    """`worker-python` -> `WORKER_PYTHON`."""
    return service.upper().replace("-", "_")


def instances_key(service: str) -> str:
    """`worker-python` -> `TASKER_WORKER_PYTHON_INSTANCES`, the key that holds its count."""
    return f"TASKER_{key_part(service)}_INSTANCES"


def default_role(service: str) -> str:
    """The role of a type whose `TASKER_<TYPE>_ROLE` is not set: a type with `worker` as one
    of its dash-separated words (`worker-python`, `rust-worker`) is a worker, any other one
    orchestration."""
    return WORKER_ROLE if WORKER_ROLE in service.split("-") else ORCHESTRATION_ROLE


def port_name(key_part: str) -> str:
    """`GRPC` -> `grpc`: the name of a port besides the REST one (`TASKER_<TYPE>_GRPC_...`)."""
    return key_part.lower().replace("_", "-")


def default_port_variable(port: str, role: str) -> str:
    """The variable an instance reads its `port` bind address from, as tasker-core names it:
    `TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS` / `TASKER_WORKER_GRPC_BIND_ADDRESS` for gRPC,
    `TASKER_<NAME>_BIND_ADDRESS` for any other port."""
    if port == "grpc":
        return f"TASKER_{role.upper()}_GRPC_BIND_ADDRESS"
    return f"TASKER_{key_part(port)}_BIND_ADDRESS"


@dataclass(frozen=True)
class NamedPort:
    """A port of a type besides its REST port: instance `n` listens on `base_port + n - 1` and
    is handed `host:port` in `variable`."""

    name: str
    base_port: int
    variable: str
    base_port_key: str

    def port(self, number: int) -> int:
        return self.base_port + number - 1


@dataclass(frozen=True)
class ServiceType:
    """One kind of service: how many instances, from which ports, run how, checked where.

    `environment_files` are read into every instance's environment under the cluster's own
    values; `prepare` is a shell command line run once per start before any instance of the
    type spawns; `start_after` names types that must be healthy first.
    """

    name: str
    instances: int
    base_port: int | None
    command: tuple[str, ...]
    workdir: str
    health_path: str
    legacy_name: str
    role: str = ORCHESTRATION_ROLE
    ports: tuple[NamedPort, ...] = ()
    environment_files: tuple[Path, ...] = ()
    file_environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    prepare: str | None = None
    prepare_timeout: float = 1800.0
    start_after: tuple[str, ...] = ()
    start_timeout: float | None = None

    @property
    def env_prefix(self) -> str:
        return f"TASKER_{key_part(self.name)}"

    def key(self, suffix: str) -> str:
        return f"{self.env_prefix}_{suffix}"

    @property
    def is_worker(self) -> bool:
        return self.role == WORKER_ROLE

    def instance_id(self, number: int, multi_instance: bool) -> str:
        return f"{self.name}-{number}" if multi_instance else self.legacy_name

    def port(self, number: int) -> int:
        if self.base_port is None:
            raise ValueError(f"{self.name} has no base port")
        return self.base_port + number - 1


@dataclass(frozen=True)
class ClusterSettings:
    """Everything the lifecycle needs, validated; `layers` keeps the sources for messages."""

    project_root: Path
    cluster_dir: Path
    multi_instance: bool
    bind_host: str
    service_types: tuple[ServiceType, ...]
    passthrough: Mapping[str, str] = field(repr=False)
    layers: tuple[ConfigLayer, ...] = field(repr=False, compare=False)
    log_max_bytes: int = 10 * 1024 * 1024
    log_keep: int = 3

    @property
    def pids_dir(self) -> Path:
        return self.cluster_dir / PIDS_DIR

    @property
    def logs_dir(self) -> Path:
        return self.cluster_dir / LOGS_DIR

    @property
    def data_dir(self) -> Path:
        """Where the reference services keep the embedded SQLite database by default."""
        return self.cluster_dir / DATA_DIR

    @property
    def lock_path(self) -> Path:
        return self.pids_dir / LOCK_FILE

    def log_path(self, instance_id: str) -> Path:
        """`<cluster dir>/.logs/<id>.log`, where the instance's stdout and stderr go."""
        return self.logs_dir / f"{instance_id}{LOG_SUFFIX}"

    def role_of(self, service: str) -> str:
        """The role of a configured type, or the default role of an unknown (recorded) one."""
        known = {s.name: s.role for s in self.service_types}
        return known.get(service, default_role(service))

    @property
    def probe_host(self) -> str:
        """The host a health probe connects to (loopback when the bind host is a wildcard)."""
        if self.bind_host in WILDCARD_HOSTS:
            return "127.0.0.1"
        return f"[{self.bind_host}]" if ":" in self.bind_host else self.bind_host

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(service.name for service in self.service_types)

    def service_type(self, name: str) -> ServiceType:
        for service in self.service_types:
            if service.name == name:
                return service
        raise UnknownServiceError(name, self.service_names)

    def default_counts(self) -> dict[str, int]:
        return {service.name: service.instances for service in self.service_types}

    def service_of(self, instance_id: str) -> str | None:
        """The service type an instance id belongs to, or None if it matches no type."""
        for service in self.service_types:
            if self.multi_instance:
                number = instance_id.removeprefix(f"{service.name}-")
                if number != instance_id and number.isdigit():
                    return service.name
            elif instance_id == service.legacy_name:
                return service.name
        return None
