"""Turn a `LayeredConfig` into `ClusterSettings`, collecting every invalid value at once.

The rules per service type (count, port, command, directory, program) come first, then the
rules that depend on the counts of all types (ids, single-instance limits, port overlaps),
then `build_settings`, which applies them all.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from tasker_cluster.config.errors import ConfigError
from tasker_cluster.config.layers import LayeredConfig
from tasker_cluster.config.model import (
    INSTANCE_ID_PATTERN,
    ROLES,
    ClusterSettings,
    ServiceType,
    default_role,
    key_part,
    type_name,
)
from tasker_cluster.config.placeholders import PlaceholderValues, resolve_workdir, substitute
from tasker_cluster.config.problems import ConfigProblem
from tasker_cluster.config.reader import ConfigReader

TYPE_KEY = re.compile(r"^TASKER_([A-Z][A-Z0-9_]*?)_(INSTANCES|BASE_PORT|COMMAND)$")
TYPE_KEY_SUFFIXES = (
    "INSTANCES",
    "BASE_PORT",
    "COMMAND",
    "WORKDIR",
    "HEALTH_PATH",
    "LEGACY_NAME",
    "ROLE",
)
GLOBAL_KEYS = frozenset(
    {"TASKER_MULTI_INSTANCE_MODE", "TASKER_BIND_HOST", "TASKER_CLUSTER_DIR", "TASKER_PROJECT_ROOT"}
)
PER_INSTANCE_KEYS = frozenset(
    {
        "TASKER_INSTANCE_ID",
        "TASKER_INSTANCE_PORT",
        "TASKER_WEB_BIND_ADDRESS",
        "PORT",
        "TASKER_WORKER_ID",
        "TASKER_CLUSTER_DIR",
    }
)
_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")

MAX_INSTANCES = 100
SUGGESTED_PORTS = {
    "orchestration": 8080,
    "worker-rust": 8100,
    "worker-ruby": 8200,
    "worker-python": 8300,
    "worker-ts": 8400,
}
LEGACY_NAMES = {
    "worker-rust": "rust-worker",
    "worker-ruby": "ruby-worker",
    "worker-python": "python-worker",
    "worker-ts": "ts-worker",
}


def read_service(
    reader: ConfigReader, name: str, project_root: Path, cluster_dir: Path
) -> ServiceType:
    prefix = f"TASKER_{key_part(name)}"
    count = reader.integer(
        f"{prefix}_INSTANCES",
        0,
        MAX_INSTANCES,
        f"an instance count must be a whole number from 0 to {MAX_INSTANCES}",
        "set it to a number such as 2",
    )
    base_port = reader.integer(
        f"{prefix}_BASE_PORT",
        1024,
        65535,
        "a port must be 1024-65535",
        f"set it to a free port such as {SUGGESTED_PORTS.get(name, 9000)}",
    )
    service = ServiceType(
        name=name,
        instances=count or 0,
        base_port=base_port,
        command=reader.arguments(f"{prefix}_COMMAND"),
        workdir=reader.text(f"{prefix}_WORKDIR") or "{project_root}",
        health_path=reader.text(f"{prefix}_HEALTH_PATH") or "/health",
        legacy_name=reader.text(f"{prefix}_LEGACY_NAME") or LEGACY_NAMES.get(name, name),
        role=(reader.text(f"{prefix}_ROLE") or default_role(name)).strip().lower(),
    )
    if service.role not in ROLES:
        reader.problem(
            service.key("ROLE"),
            f"a role must be one of {', '.join(ROLES)}",
            f"set it to {default_role(name)}",
        )
    if not service.health_path.startswith("/") or any(c.isspace() for c in service.health_path):
        reader.problem(
            service.key("HEALTH_PATH"),
            "a health path must start with / and contain no spaces",
            "set it to a path such as /health",
        )
    if service.instances > 0:
        _check_runnable(reader, service, project_root, cluster_dir)
    return service


def _check_runnable(
    reader: ConfigReader, service: ServiceType, project_root: Path, cluster_dir: Path
) -> None:
    asked = f"{service.name} is asked to run {service.instances} instance(s)"
    if reader.config.raw(service.key("BASE_PORT")) is None:
        reader.problem(
            service.key("BASE_PORT"),
            f"{asked} and needs a base port",
            f"set it to a free port such as {SUGGESTED_PORTS.get(service.name, 9000)}",
        )
    sample = PlaceholderValues(
        f"{service.name}-1", 1, service.base_port or 0, "127.0.0.1", project_root, cluster_dir
    )
    workdir = resolve_workdir(service.workdir, sample)
    if not workdir.is_dir():
        reader.problem(
            service.key("WORKDIR"),
            f"the directory {workdir} does not exist",
            "set it to the directory the command runs in",
        )
    command_key = service.key("COMMAND")
    raw_command = reader.config.raw(command_key)
    if raw_command is None:
        reader.problem(
            command_key,
            f"{asked} but has no start command",
            "set it, or pick a profile that defines it (e.g. config/dotenv/tasker-core.env)",
        )
    elif not service.command and not reader.has_problem(command_key):
        reader.problem(command_key, "the command is empty", "set a start command")
    elif service.command and not reader.has_problem(command_key):
        _check_program(reader, command_key, substitute(service.command[0], sample), workdir)


def _check_program(reader: ConfigReader, key: str, program: str, workdir: Path) -> None:
    if "/" in program:
        path = workdir / program
        if not (path.is_file() and os.access(path, os.X_OK)):
            reader.problem(
                key,
                f"the program {program!r} is not an executable file",
                "install it, or give its full path",
            )
    elif shutil.which(program, path=reader.config.raw("PATH") or os.defpath) is None:
        reader.problem(
            key,
            f"the program {program!r} is not an executable file on PATH",
            "install it, or give its full path",
        )


def port_span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def check_plan(
    problems: list[ConfigProblem],
    config: LayeredConfig,
    services: Sequence[ServiceType],
    multi_instance: bool,
    id_pattern: re.Pattern[str],
) -> None:
    """Append a problem for every id or port conflict among the services asked to run."""

    def add(key: str, rule: str, fix: str) -> None:
        problems.append(ConfigProblem(key, config.raw(key), config.origin(key), rule, fix))

    owners: dict[str, str] = {}
    taken: list[tuple[str, int, int]] = []
    for service in (s for s in services if s.instances > 0):
        if not multi_instance and service.instances > 1:
            add(
                service.key("INSTANCES"),
                "single-instance mode runs at most one instance of each type",
                "set it to 0 or 1, or set TASKER_MULTI_INSTANCE_MODE=true",
            )
        count = service.instances if multi_instance else 1
        id_key = service.key("INSTANCES" if multi_instance else "LEGACY_NAME")
        for number in range(1, count + 1):
            instance_id = service.instance_id(number, multi_instance)
            if not id_pattern.match(instance_id):
                add(
                    id_key,
                    f"instance id {instance_id!r} does not match {id_pattern.pattern}",
                    "use a service type name of letters, digits and dashes, at most 60 long"
                    if multi_instance
                    else "set it to a name of letters, digits and dashes, at most 64 long",
                )
                break
            if instance_id in owners:
                add(
                    id_key,
                    f"instance id {instance_id!r} is also used by {owners[instance_id]}",
                    "give every service type its own name",
                )
                break
            owners[instance_id] = service.name
        if service.base_port is None:
            continue
        last = service.base_port + count - 1
        if last > 65535:
            add(
                service.key("BASE_PORT"),
                f"{count} instance(s) need ports {port_span(service.base_port, last)}, "
                "beyond 65535",
                "choose a lower base port or fewer instances",
            )
            continue
        for other, low, high in taken:
            if service.base_port <= high and low <= last:
                add(
                    service.key("BASE_PORT"),
                    f"ports {port_span(service.base_port, last)} of {service.name} overlap "
                    f"ports {port_span(low, high)} of {other}",
                    f"choose a base port outside {port_span(low, high)}",
                )
        taken.append((service.name, service.base_port, last))


def discover_service_names(config: LayeredConfig) -> list[str]:
    """Every type named by a `TASKER_<TYPE>_INSTANCES`, `_BASE_PORT` or `_COMMAND` key."""
    return sorted({type_name(m.group(1)) for key in config.names() if (m := TYPE_KEY.match(key))})


def is_cluster_key(key: str, service_names: list[str]) -> bool:
    """Keys that configure the cluster itself; all others pass through to the instances."""
    if key in GLOBAL_KEYS:
        return True
    prefixes = {f"TASKER_{key_part(name)}_" for name in service_names}
    return any(key == f"{p}{suffix}" for p in prefixes for suffix in TYPE_KEY_SUFFIXES)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host))
    return True


def _display_order(service: ServiceType) -> tuple[int, str]:
    """The design's types in its order (orchestration first), then any others by name."""
    known = list(SUGGESTED_PORTS)
    return (known.index(service.name) if service.name in known else len(known), service.name)


def _cluster_dir(reader: ConfigReader, project_root: Path) -> Path:
    cluster_dir = Path(reader.text("TASKER_CLUSTER_DIR") or project_root).expanduser()
    if not cluster_dir.is_absolute():
        cluster_dir = project_root / cluster_dir
    if cluster_dir.exists() and not cluster_dir.is_dir():
        reader.problem(
            "TASKER_CLUSTER_DIR", "it exists and is not a directory", "choose another path"
        )
    return cluster_dir.resolve()


def build_settings(config: LayeredConfig) -> ClusterSettings:
    """Validate everything and build the settings; raises `ConfigError` listing every problem."""
    reader = ConfigReader(config)
    project_root = Path(reader.text("TASKER_PROJECT_ROOT") or ".").expanduser().resolve()
    cluster_dir = _cluster_dir(reader, project_root)
    multi_instance = reader.flag("TASKER_MULTI_INSTANCE_MODE", True)
    bind_host = (reader.text("TASKER_BIND_HOST") or "127.0.0.1").strip()
    if not _valid_host(bind_host):
        reader.problem(
            "TASKER_BIND_HOST",
            "a bind host must be an IP address or a host name",
            "set it to 127.0.0.1",
        )
    names = discover_service_names(config)
    services = sorted(
        (read_service(reader, name, project_root, cluster_dir) for name in names),
        key=_display_order,
    )
    check_plan(reader.problems, config, services, multi_instance, INSTANCE_ID_PATTERN)
    passthrough = {
        key: reader.text(key) or ""
        for key in config.names()
        if key not in PER_INSTANCE_KEYS and not is_cluster_key(key, names)
    }
    if reader.problems:
        raise ConfigError(reader.problems)
    return ClusterSettings(
        project_root=project_root,
        cluster_dir=cluster_dir,
        multi_instance=multi_instance,
        bind_host=bind_host,
        service_types=tuple(services),
        passthrough=passthrough,
        layers=config.layers,
    )
