"""Prepare a service type once per start, before any of its instances spawns: the type's
`TASKER_<TYPE>_PREPARE` shell line (a build, a dependency sync) in its working directory, its
output in `<cluster dir>/.logs/prepare-<type>.log`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tasker_cluster.logs import tail_lines
from tasker_cluster.process.errors import PrepareError

log = logging.getLogger(__name__)

PREPARE_LOG_LINES = 20


@dataclass(frozen=True)
class Prepared:
    """A prepare step that succeeded, and how long it took."""

    service: str
    command: str
    seconds: float
    log_path: Path


def prepare_log_path(logs_dir: Path, service: str) -> Path:
    return logs_dir / f"prepare-{service}.log"


def run_prepare(
    service: str,
    command: str,
    *,
    workdir: Path,
    environment: Mapping[str, str],
    logs_dir: Path,
    timeout: float,
) -> Prepared:
    """Run `command` through `sh -c`; raise `PrepareError` with its log tail if it fails or
    outlives `timeout` (its whole process group is then killed)."""
    log_path = prepare_log_path(logs_dir, service)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with log_path.open("wb") as output:
        output.write(f"$ {command}\n".encode())
        output.flush()
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", command],
                cwd=workdir,
                env=dict(environment),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            raise PrepareError(service, command, None, log_path, (str(error),)) from None
        try:
            exit_code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
            exit_code = None
        except BaseException:  # Ctrl-C: no build may be left running
            _kill_group(process.pid)
            process.wait()
            raise
    if exit_code != 0:
        lines = tuple(tail_lines(log_path, PREPARE_LOG_LINES)[0])
        raise PrepareError(service, command, exit_code, log_path, lines, timeout=timeout)
    seconds = time.monotonic() - began
    log.info("prepared %s in %.1f s: %s", service, seconds, command)
    return Prepared(service, command, seconds, log_path)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
