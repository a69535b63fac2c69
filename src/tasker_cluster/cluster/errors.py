"""Errors of the cluster facade: start, restart and selection of instances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from tasker_cluster.errors import ClusterError

if TYPE_CHECKING:  # for annotations only: importing the errors stays cheap
    from tasker_cluster.health.ports import PortProblem
    from tasker_cluster.health.readiness import CrashReport


class InstancesCrashedError(ClusterError):
    """Instances exited during start; every instance that start spawned was stopped."""

    def __init__(self, crashes: Sequence[CrashReport], stopped: Sequence[str]) -> None:
        self.crashes = tuple(crashes)
        self.stopped = tuple(stopped)
        reports = "\n".join(crash.describe() for crash in self.crashes)
        cleanup = f"\nstopped the other instances this start had spawned: {', '.join(stopped)}"
        super().__init__(reports + (cleanup if self.stopped else ""))

    def with_stopped(self, stopped: Sequence[str]) -> InstancesCrashedError:
        crashed = {crash.instance_id for crash in self.crashes}
        return InstancesCrashedError(self.crashes, [i for i in stopped if i not in crashed])


class StartTimeoutError(ClusterError):
    """Instances were not healthy by the deadline; every instance that start spawned was stopped."""

    def __init__(
        self,
        timeout: float,
        pending: Sequence[tuple[str, str]],
        stopped: Sequence[str],
        log_tails: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.timeout = timeout
        self.pending = tuple(pending)
        self.stopped = tuple(stopped)
        self.log_tails = {key: tuple(lines) for key, lines in (log_tails or {}).items()}
        waiting = "\n".join(
            f"  {instance_id}: {detail}{_tail(self.log_tails.get(instance_id, ()))}"
            for instance_id, detail in self.pending
        )
        cleanup = f"\nstopped what this start spawned: {', '.join(stopped)}" if stopped else ""
        super().__init__(
            f"{len(self.pending)} instance(s) not healthy after {timeout:g} s:\n{waiting}{cleanup}"
        )

    def with_stopped(self, stopped: Sequence[str]) -> StartTimeoutError:
        return StartTimeoutError(self.timeout, self.pending, stopped, self.log_tails)


def _tail(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    shown = "\n".join(f"    | {line}" for line in lines)
    return f"; its last {len(lines)} log lines:\n{shown}"


class InstancesDegradedError(ClusterError):
    """Instances answered healthy but do not hold every declared port (missing by the deadline,
    or held by another process); every instance that start spawned was stopped."""

    def __init__(
        self,
        problems: Sequence[PortProblem],
        stopped: Sequence[str],
        *,
        timeout: float | None = None,
    ) -> None:
        self.problems = tuple(problems)
        self.stopped = tuple(stopped)
        self.timeout = timeout
        when = f" after {timeout:g} s" if timeout is not None else ""
        lines = "\n".join(f"  {p.instance_id}: {p.describe()}" for p in self.problems)
        cleanup = f"\nstopped what this start spawned: {', '.join(stopped)}" if stopped else ""
        super().__init__(
            f"{len({p.instance_id for p in self.problems})} instance(s) healthy but degraded"
            f"{when}:\n{lines}{cleanup}"
        )

    def with_stopped(self, stopped: Sequence[str]) -> InstancesDegradedError:
        return InstancesDegradedError(self.problems, stopped, timeout=self.timeout)


class InstanceNotConfiguredError(ClusterError):
    """A recorded instance that the current configuration cannot rebuild (e.g. to restart it)."""

    def __init__(self, instance_id: str, service: str) -> None:
        self.instance_id = instance_id
        self.service = service
        super().__init__(
            f"cannot restart {instance_id}: the current configuration does not define it "
            f"(service type {service!r}); use the configuration it was started with"
        )


class NotRunningError(ClusterError):
    """An operation needs a running instance, and this one is not running."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(f"{instance_id} is not running")


class UnknownInstanceError(ClusterError):
    """An instance id that is neither configured nor recorded as running."""

    def __init__(self, instance_id: str, known: Sequence[str]) -> None:
        self.instance_id = instance_id
        self.known = tuple(known)
        super().__init__(
            f"unknown instance {instance_id!r}; known instances: {', '.join(self.known) or 'none'}"
        )
