"""Read one service type's keys and check that a type asked to run can run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tasker_cluster.config_model import ServiceType, key_part
from tasker_cluster.config_reader import ConfigReader
from tasker_cluster.placeholders import PlaceholderValues, substitute

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


def resolve_workdir(template: str, values: PlaceholderValues) -> Path:
    """A working directory with placeholders substituted; relative to the project root."""
    workdir = Path(substitute(template, values)).expanduser()
    return workdir if workdir.is_absolute() else values.project_root / workdir


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
            "set it, or pick a profile that defines it with "
            "--env-file (e.g. config/dotenv/tasker-core.env)",
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
