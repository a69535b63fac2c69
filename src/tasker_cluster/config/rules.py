"""Turn a `LayeredConfig` into `ClusterSettings`, collecting every invalid value at once.

The rules per service type (count, port, command, directory, program) come first, then the
rules that depend on the counts of all types (ids, single-instance limits, port overlaps),
then `build_settings`, which applies them all.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tasker_cluster.config.errors import ConfigError
from tasker_cluster.config.layers import INCLUDE_KEY, LayeredConfig, read_env_file
from tasker_cluster.config.model import (
    INSTANCE_ID_PATTERN,
    ROLES,
    ClusterSettings,
    NamedPort,
    ServiceType,
    default_port_variable,
    default_role,
    key_part,
    port_name,
    type_name,
)
from tasker_cluster.config.placeholders import PlaceholderValues, resolve_workdir, substitute
from tasker_cluster.config.problems import ConfigProblem
from tasker_cluster.config.reader import ConfigReader

TYPE_KEY = re.compile(r"^TASKER_([A-Z][A-Z0-9_]*?)_(INSTANCES|COMMAND)$")
PORT_KEY = re.compile(r"^TASKER_([A-Z][A-Z0-9_]*?)_BASE_PORT$")
TYPE_KEY_SUFFIXES = (
    "INSTANCES",
    "BASE_PORT",
    "COMMAND",
    "WORKDIR",
    "HEALTH_PATH",
    "LEGACY_NAME",
    "ROLE",
    "ENV_FILES",
    "PREPARE",
    "PREPARE_TIMEOUT",
    "START_AFTER",
    "START_TIMEOUT",
)
PORT_KEY_SUFFIXES = ("BASE_PORT", "PORT_VAR")
GLOBAL_KEYS = frozenset(
    {
        "TASKER_MULTI_INSTANCE_MODE",
        "TASKER_BIND_HOST",
        "TASKER_CLUSTER_DIR",
        "TASKER_PROJECT_ROOT",
        "TASKER_LOG_MAX_BYTES",
        "TASKER_LOG_KEEP",
        INCLUDE_KEY,
    }
)
MAX_SECONDS = 86_400
SHELL_WORDS = frozenset({"cd", "test", "[", "true", "false", "echo", "export", "exec", "env"})
PROGRAM_SOURCES = {
    "cargo": "install Rust (rustup) so that cargo is on PATH",
    "uv": "install uv (pip install uv)",
    "bundle": "install Ruby and Bundler (gem install bundler)",
    "bun": "install Bun (npm install -g bun)",
}
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
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

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
    reader: ConfigReader,
    name: str,
    project_root: Path,
    cluster_dir: Path,
    port_parts: Sequence[str] = (),
) -> ServiceType:
    """One type's keys, validated; `port_parts` name its ports besides REST (`GRPC`)."""
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
        prepare=(reader.text(f"{prefix}_PREPARE") or "").strip() or None,
        prepare_timeout=float(_seconds(reader, f"{prefix}_PREPARE_TIMEOUT") or 1800),
        start_after=tuple(
            part for part in re.split(r"[\s,]+", reader.text(f"{prefix}_START_AFTER") or "") if part
        ),
        start_timeout=_seconds(reader, f"{prefix}_START_TIMEOUT"),
    )
    service = replace(
        service,
        ports=tuple(_read_port(reader, service, part) for part in port_parts),
        **_read_environment_files(reader, service, project_root),
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


def _seconds(reader: ConfigReader, key: str) -> float | None:
    value = reader.integer(
        key,
        1,
        MAX_SECONDS,
        f"a time must be whole seconds from 1 to {MAX_SECONDS}",
        "set it to 600",
    )
    return None if value is None else float(value)


def _read_port(reader: ConfigReader, service: ServiceType, part: str) -> NamedPort:
    """`TASKER_<TYPE>_<PART>_BASE_PORT` (and its `_PORT_VAR`): a port besides REST."""
    name = port_name(part)
    key = service.key(f"{part}_BASE_PORT")
    base = reader.integer(
        key, 1024, 65535, "a port must be 1024-65535", "set it to a free port such as 9190"
    )
    variable = (reader.text(service.key(f"{part}_PORT_VAR")) or "").strip()
    if variable and not ENV_NAME.match(variable):
        reader.problem(
            service.key(f"{part}_PORT_VAR"),
            "it must name an environment variable",
            f"set it to {default_port_variable(name, service.role)}",
        )
    return NamedPort(name, base or 0, variable or default_port_variable(name, service.role), key)


def _read_environment_files(
    reader: ConfigReader, service: ServiceType, project_root: Path
) -> dict[str, Any]:
    """`TASKER_<TYPE>_ENV_FILES`: env files whose values every instance of the type gets under
    the cluster's own (later files win; a path ending in `?` may be absent)."""
    key = service.key("ENV_FILES")
    files: list[Path] = []
    values: dict[str, str] = {}
    for given in reader.arguments(key):
        optional = given.endswith("?")
        text = given.removesuffix("?").replace("{project_root}", str(project_root))
        path = Path(text).expanduser()
        path = path if path.is_absolute() else project_root / path
        if path.is_file():
            files.append(path)
            values.update(read_env_file(path))
        elif not optional and service.instances > 0:
            reader.problem(
                key,
                f"the env file {path} does not exist",
                "fix the path, or end it with ? if the file is optional",
            )
    return {"environment_files": tuple(files), "file_environment": values}


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
        argv = [substitute(part, sample) for part in service.command]
        program = program_of(argv)
        built_by_prepare = service.prepare is not None and "/" in (program or "")
        if program is not None and not built_by_prepare:
            _check_program(reader, command_key, program, workdir)
    if service.prepare is not None:
        for program in prepare_programs(service.prepare):
            _check_program(reader, service.key("PREPARE"), program, workdir)


def program_of(argv: Sequence[str]) -> str | None:
    """The program a command runs, seen through `env [-i] [-u NAME] [VAR=value ...] program`."""
    parts = list(argv)
    while parts and Path(parts[0]).name == "env":
        parts = parts[1:]
        while parts and (parts[0].startswith("-") or "=" in parts[0]):
            takes_value = parts[0] in ("-u", "--unset", "-C", "--chdir")
            parts = parts[2:] if takes_value else parts[1:]
    return parts[0] if parts else None


def prepare_programs(line: str) -> list[str]:
    """The programs a prepare command line runs: the first word of each `&&`, `||`, `;` or
    `|` segment, through `env` and `(`, shell builtins left out."""
    programs = []
    for segment in re.split(r"&&|\|\||;|\|", line):
        try:
            words = shlex.split(segment.replace("(", " ").replace(")", " "))
        except ValueError:
            continue
        program = program_of(words)
        if program and program not in SHELL_WORDS and "=" not in program:
            programs.append(program)
    return list(dict.fromkeys(programs))


def _check_program(reader: ConfigReader, key: str, program: str, workdir: Path) -> None:
    source = PROGRAM_SOURCES.get(Path(program).name, "install it, or give its full path")
    if "/" in program:
        path = workdir / program
        if not (path.is_file() and os.access(path, os.X_OK)):
            reader.problem(key, f"the program {program!r} is not an executable file", source)
    elif shutil.which(program, path=reader.config.raw("PATH") or os.defpath) is None:
        reader.problem(key, f"the program {program!r} is not an executable file on PATH", source)


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
        ranges = [(service.name, service.key("BASE_PORT"), service.base_port)]
        ranges += [
            (f"{service.name} {port.name}", port.base_port_key, port.base_port)
            for port in service.ports
        ]
        for label, key, base in ranges:
            if not base:
                continue
            last = base + count - 1
            if last > 65535:
                add(
                    key,
                    f"{count} instance(s) need ports {port_span(base, last)}, beyond 65535",
                    "choose a lower base port or fewer instances",
                )
                continue
            for other, low, high in taken:
                if base <= high and low <= last:
                    add(
                        key,
                        f"ports {port_span(base, last)} of {label} overlap "
                        f"ports {port_span(low, high)} of {other}",
                        f"choose a base port outside {port_span(low, high)}",
                    )
            taken.append((label, base, last))


def discover_services(config: LayeredConfig) -> dict[str, list[str]]:
    """`{type: [its named port parts]}` from the keys.

    A `TASKER_<TYPE>_INSTANCES` or `_COMMAND` key defines a type. A `TASKER_<X>_BASE_PORT` key
    is the REST port of type `<X>`, or, when `<X>` is `<TYPE>_<NAME>` of a type defined so,
    its port `<NAME>` (e.g. `TASKER_ORCHESTRATION_GRPC_BASE_PORT`); a base port alone still
    defines a type of its own.
    """
    defined = {m.group(1) for key in config.names() if (m := TYPE_KEY.match(key))}
    ports: dict[str, list[str]] = {part: [] for part in defined}
    for key in config.names():
        if not (m := PORT_KEY.match(key)) or m.group(1) in defined:
            continue
        prefix = m.group(1)
        owners = [part for part in defined if prefix.startswith(f"{part}_")]
        if owners:
            owner = max(owners, key=len)
            ports[owner].append(prefix[len(owner) + 1 :])
        else:
            ports.setdefault(prefix, [])
    return {type_name(part): sorted(names) for part, names in ports.items()}


def cluster_keys(services: Sequence[ServiceType]) -> frozenset[str]:
    """Every key that configures the cluster itself (the global keys and each type's and each
    named port's); all others pass through to the instances."""
    keys = set(GLOBAL_KEYS)
    for service in services:
        keys.update(service.key(suffix) for suffix in TYPE_KEY_SUFFIXES)
        for port in service.ports:
            part = key_part(port.name)
            keys.update(service.key(f"{part}_{suffix}") for suffix in PORT_KEY_SUFFIXES)
    return frozenset(keys)


def is_cluster_key(key: str, services: Sequence[ServiceType]) -> bool:
    """Keys that configure the cluster itself; all others pass through to the instances."""
    return key in cluster_keys(services)


def _check_start_order(reader: ConfigReader, services: Sequence[ServiceType]) -> None:
    """Every `_START_AFTER` names a configured type, and no type waits for itself."""
    known = {service.name: service for service in services}
    for service in services:
        key = service.key("START_AFTER")
        unknown = [name for name in service.start_after if name not in known]
        if unknown:
            reader.problem(
                key,
                f"it names {', '.join(unknown)}, which is not a configured service type",
                f"use one of {', '.join(known)}",
            )
            continue
        seen, todo = set(), list(service.start_after)
        while todo:
            name = todo.pop()
            if name == service.name:
                reader.problem(
                    key, "the start order has a cycle", "let one of these types start first"
                )
                break
            if name not in seen:
                seen.add(name)
                todo.extend(known[name].start_after)


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
    discovered = discover_services(config)
    services = sorted(
        (
            read_service(reader, name, project_root, cluster_dir, port_parts)
            for name, port_parts in sorted(discovered.items())
        ),
        key=_display_order,
    )
    _check_start_order(reader, services)
    check_plan(reader.problems, config, services, multi_instance, INSTANCE_ID_PATTERN)
    own_keys = cluster_keys(services) | PER_INSTANCE_KEYS
    passthrough = {key: reader.text(key) or "" for key in config.names() if key not in own_keys}
    log_max_bytes = reader.integer(
        "TASKER_LOG_MAX_BYTES",
        1024,
        1 << 40,
        "a log size must be a whole number of bytes, at least 1024",
        "set it to 10485760 (10 MiB)",
    )
    log_keep = reader.integer(
        "TASKER_LOG_KEEP", 1, 100, "a count of rotated logs must be 1-100", "set it to 3"
    )
    if reader.problems:
        raise ConfigError(reader.problems)
    return ClusterSettings(
        log_max_bytes=log_max_bytes or 10 * 1024 * 1024,
        log_keep=log_keep or 3,
        project_root=project_root,
        cluster_dir=cluster_dir,
        multi_instance=multi_instance,
        bind_host=bind_host,
        service_types=tuple(services),
        passthrough=passthrough,
        layers=config.layers,
    )
