"""The `ClusterError` hierarchy: each error carries its facts and builds its own message."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class ClusterError(Exception):
    """Base of every error the lifecycle library raises."""


@dataclass(frozen=True)
class ConfigProblem:
    """One invalid configuration value: which key, its value and origin, the rule and the fix."""

    key: str
    value: str | None
    origin: str | None
    rule: str
    fix: str

    def describe(self) -> str:
        if self.value is None:
            return f"{self.key} is not set: {self.rule}; {self.fix}"
        return f"{self.key}={self.value!r} (from {self.origin}): {self.rule}; {self.fix}"


class ConfigError(ClusterError):
    """The merged configuration has one or more invalid values; nothing was started."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        header = "invalid cluster configuration" + (f" ({count} problems)" if count > 1 else "")
        lines = "\n".join(f"  {problem.describe()}" for problem in self.problems)
        super().__init__(f"{header}:\n{lines}")


class EnvFileNotFoundError(ClusterError):
    """An env file that was asked for does not exist."""

    def __init__(self, path: Path, searched: Sequence[Path]) -> None:
        self.path = path
        self.searched = tuple(searched)
        places = ", ".join(str(place) for place in self.searched)
        super().__init__(
            f"env file {str(path)!r} not found (looked in {places}); pass an existing file, "
            "e.g. --env-file config/dotenv/multi-instance.env"
        )


class UnknownServiceError(ClusterError):
    """A service type name that the configuration does not define."""

    def __init__(self, service: str, known: Sequence[str]) -> None:
        self.service = service
        self.known = tuple(known)
        super().__init__(
            f"unknown service type {service!r}; known types: {', '.join(self.known) or 'none'} "
            "(a type exists when TASKER_<TYPE>_INSTANCES, _BASE_PORT or _COMMAND is configured)"
        )


class UnknownInstanceError(ClusterError):
    """An instance id that is neither configured nor recorded as running."""

    def __init__(self, instance_id: str, known: Sequence[str]) -> None:
        self.instance_id = instance_id
        self.known = tuple(known)
        super().__init__(
            f"unknown instance {instance_id!r}; known instances: {', '.join(self.known) or 'none'}"
        )


@dataclass(frozen=True)
class PortConflict:
    """A port an instance needs that something else already holds."""

    port: int
    instance_id: str
    base_port_key: str
    holder_pid: int | None
    holder_name: str | None
    holder_instance: str | None = None

    def describe(self) -> str:
        if self.holder_pid is None:
            holder = "is in use (its holder is not visible to this user)"
        else:
            holder = f"is held by pid {self.holder_pid} ({self.holder_name or 'unknown'})"
            if self.holder_instance:
                holder += f", which is {self.holder_instance} of this cluster"
        return f"port {self.port} for {self.instance_id} {holder}"


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


@dataclass(frozen=True)
class CrashReport:
    """An instance that exited while the cluster was starting."""

    instance_id: str
    exit_code: int | None
    log_path: Path
    log_tail: tuple[str, ...]

    def describe(self) -> str:
        head = f"{self.instance_id} {describe_exit(self.exit_code)} during start"
        if not self.log_tail:
            return f"{head}; its log {self.log_path} is empty"
        tail = "\n".join(f"    | {line}" for line in self.log_tail)
        return f"{head}; last {len(self.log_tail)} lines of {self.log_path}:\n{tail}"


class InstancesCrashedError(ClusterError):
    """Instances exited during start; every instance that start spawned was stopped."""

    def __init__(self, crashes: Sequence[CrashReport], stopped: Sequence[str]) -> None:
        self.crashes = tuple(crashes)
        self.stopped = tuple(stopped)
        reports = "\n".join(crash.describe() for crash in self.crashes)
        cleanup = f"\nstopped the other instances this start had spawned: {', '.join(stopped)}"
        super().__init__(reports + (cleanup if self.stopped else ""))


class StartTimeoutError(ClusterError):
    """Instances were not healthy by the deadline; every instance that start spawned was stopped."""

    def __init__(
        self, timeout: float, pending: Sequence[tuple[str, str]], stopped: Sequence[str]
    ) -> None:
        self.timeout = timeout
        self.pending = tuple(pending)
        self.stopped = tuple(stopped)
        waiting = "\n".join(f"  {instance_id}: {detail}" for instance_id, detail in self.pending)
        cleanup = f"; stopped what this start spawned: {', '.join(stopped)}" if stopped else ""
        super().__init__(
            f"{len(self.pending)} instance(s) not healthy after {timeout:g} s:\n{waiting}\n"
            f"read their logs with `invoke cluster.logs --instance=<id>`, or allow more time "
            f"with --timeout{cleanup}"
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


class InstanceNotConfiguredError(ClusterError):
    """A recorded instance that the current configuration cannot rebuild (e.g. to restart it)."""

    def __init__(self, instance_id: str, service: str) -> None:
        self.instance_id = instance_id
        self.service = service
        super().__init__(
            f"cannot restart {instance_id}: the current configuration does not define it "
            f"(service type {service!r}); pass the --env-file it was started with"
        )


class NotRunningError(ClusterError):
    """An operation needs a running instance, and this one is not running."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(
            f"{instance_id} is not running; start it with `invoke cluster.start` "
            "or see `invoke cluster.status`"
        )


class RecordError(ClusterError):
    """A `.pids/<id>.pid` file that cannot be read as an instance record."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"unreadable instance record {path}: {reason}")
