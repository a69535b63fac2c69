"""Spawn an instance detached: its own session, stdout and stderr appended to its log."""

from __future__ import annotations

import logging
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tasker_cluster.config.instances import Instance
from tasker_cluster.process.errors import SpawnError
from tasker_cluster.process.records import InstanceRecord

log = logging.getLogger(__name__)


@dataclass
class Spawned:
    """A process this run started; keeping the `Popen` lets us read its exit code."""

    instance: Instance
    process: subprocess.Popen[bytes]
    record: InstanceRecord
    log_path: Path


def launch(instance: Instance, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `instance` in its own session, stdout and stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        try:
            return subprocess.Popen(
                list(instance.argv),
                cwd=instance.workdir,
                env=dict(instance.environment),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            reason = error.strerror or str(error)
            raise SpawnError(instance.id, instance.argv, instance.workdir, reason) from None


def launched(instance: Instance, process: subprocess.Popen[bytes], log_path: Path) -> Spawned:
    """The record of a process `launch` started (its pid and create time), as `Spawned`.

    Our child cannot vanish before we reap it (it stays a zombie), so its create time can be
    read after the others of its wave were launched.
    """
    from tasker_cluster.process.sampling import create_time  # noqa: PLC0415

    record = InstanceRecord(
        instance_id=instance.id,
        service=instance.service,
        number=instance.number,
        pid=process.pid,
        create_time=create_time(process.pid),
        argv=instance.argv,
        port=instance.port,
        url=instance.url,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ports=dict(instance.ports),
    )
    log.info("spawned %s as pid %d on port %d", instance.id, process.pid, instance.port)
    return Spawned(instance, process, record, log_path)


def spawn(instance: Instance, log_path: Path) -> Spawned:
    """`launch` and `launched` in one: start `instance`, return it with its record."""
    return launched(instance, launch(instance, log_path), log_path)


def describe_exit(exit_code: int | None) -> str:
    """Words for a process exit status as Popen reports it (negative: killed by a signal)."""
    if exit_code is None:
        return "exited (exit code unknown)"
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"was killed by {name}"
    return f"exited with code {exit_code}"
