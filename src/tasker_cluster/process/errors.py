"""Errors of process handling: spawn, records, ports and the cluster lock."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tasker_cluster.errors import ClusterError

if TYPE_CHECKING:  # for annotations only: importing the errors stays cheap
    from tasker_cluster.process.ports import PortConflict


class PortsInUseError(ClusterError):
    """Ports needed by the instances to start are taken; nothing was started."""

    def __init__(self, conflicts: Sequence[PortConflict]) -> None:
        self.conflicts = tuple(conflicts)
        lines = "\n".join(f"  {conflict.describe()}" for conflict in self.conflicts)
        keys = sorted({conflict.base_port_key for conflict in self.conflicts})
        super().__init__(
            f"cannot start: {len(self.conflicts)} port(s) already in use, nothing was started:\n"
            f"{lines}\n"
            f"stop the holder, or move the instances with {' / '.join(keys)}"
        )


class SpawnError(ClusterError):
    """The operating system refused to start an instance's command."""

    def __init__(self, instance_id: str, argv: Sequence[str], workdir: Path, reason: str) -> None:
        self.instance_id = instance_id
        self.argv = tuple(argv)
        self.workdir = workdir
        self.reason = reason
        super().__init__(
            f"cannot start {instance_id}: {reason} (command {list(self.argv)!r} in {workdir}); "
            "check its TASKER_<TYPE>_COMMAND and TASKER_<TYPE>_WORKDIR"
        )


class LockTimeoutError(ClusterError):
    """Another start/stop/restart holds the cluster lock for longer than we may wait."""

    def __init__(self, path: Path, timeout: float, holder_pid: int | None) -> None:
        self.path = path
        self.timeout = timeout
        self.holder_pid = holder_pid
        holder = f"pid {holder_pid}" if holder_pid else "another process"
        super().__init__(
            f"{holder} has held the cluster lock {path} for more than {timeout:g} s; "
            "wait for that cluster command to finish (or stop it) and try again"
        )


class RecordError(ClusterError):
    """A `.pids/<id>.pid` file that cannot be read as an instance record."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"unreadable instance record {path}: {reason}")


class PrepareError(ClusterError):
    """A type's prepare step failed or timed out; no instance was started."""

    def __init__(
        self,
        service: str,
        command: str,
        exit_code: int | None,
        log_path: Path,
        log_tail: Sequence[str],
        *,
        timeout: float | None = None,
    ) -> None:
        self.service = service
        self.command = command
        self.exit_code = exit_code
        self.log_path = log_path
        self.log_tail = tuple(log_tail)
        if exit_code is None:
            how = f"did not finish within {timeout:g} s" if timeout else "could not run"
        else:
            how = f"exited with code {exit_code}"
        tail = "\n".join(f"    | {line}" for line in self.log_tail)
        super().__init__(
            f"preparing {service} failed, nothing was started: `{command}` {how}; "
            f"last {len(self.log_tail)} lines of {log_path}:\n{tail}"
        )
