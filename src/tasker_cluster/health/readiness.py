"""Wait for starting instances to become healthy, noticing any that exit meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tasker_cluster.config.instances import Instance
from tasker_cluster.process.records import InstanceRecord, Liveness, liveness
from tasker_cluster.process.spawn import Spawned, describe_exit

if TYPE_CHECKING:
    from tasker_cluster.wait import Deadline

# Probe rounds start 5 ms apart and back off to 20 ms: an instance is seen healthy within a
# few ms of being so. Each round first takes a cheap connect look (microseconds on loopback)
# and sends an HTTP probe only to the instances that accept, so a tight cadence costs little.
HEALTH_POLL_FIRST = 0.005
HEALTH_POLL_MAX = 0.02
PROBE_TIMEOUT = 1.0
CRASH_LOG_LINES = 20


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


@dataclass(frozen=True)
class ProgressEvent:
    """A step of `start`: an instance spawned, found running, healthy, or crashed."""

    instance_id: str
    state: str
    healthy: int
    total: int
    elapsed_seconds: float
    detail: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass
class WaitResult:
    crashes: list[CrashReport] = field(default_factory=list)
    pending: dict[str, str] = field(default_factory=dict)


class Progress:
    """Counts healthy instances and reports each change to the caller's callback."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.healthy = 0
        self.callback = callback
        self.started = time.monotonic()

    def emit(self, instance_id: str, state: str, detail: str = "") -> None:
        if state == "healthy":
            self.healthy += 1
        if self.callback is not None:
            elapsed = time.monotonic() - self.started
            event = ProgressEvent(instance_id, state, self.healthy, self.total, elapsed, detail)
            self.callback(event)


LogPathOf = Callable[[str], Path]


def crash_report(instance_id: str, exit_code: int | None, log_path_of: LogPathOf) -> CrashReport:
    from tasker_cluster.logs import tail_lines  # noqa: PLC0415 - only for a crash

    log_path = log_path_of(instance_id)
    lines = tail_lines(log_path, CRASH_LOG_LINES)[0]
    return CrashReport(instance_id, exit_code, log_path, tuple(lines))


def _exited(
    instance: Instance,
    spawned: Mapping[str, Spawned],
    records: Mapping[str, InstanceRecord],
    log_path_of: LogPathOf,
) -> CrashReport | None:
    """A crash report if the instance's process is gone (exit code known for our children)."""
    if instance.id in spawned:
        exit_code = spawned[instance.id].process.poll()
        if exit_code is None:
            return None
        return crash_report(instance.id, exit_code, log_path_of)
    record = records.get(instance.id)
    if record is not None and liveness(record)[0] is not Liveness.OURS:
        return crash_report(instance.id, None, log_path_of)
    return None


def wait_healthy(
    instances: Sequence[Instance],
    *,
    spawned: Mapping[str, Spawned],
    records: Mapping[str, InstanceRecord],
    log_path_of: LogPathOf,
    deadline: Deadline,
    progress: Progress,
) -> WaitResult:
    """Probe until every instance answers healthy, one exits, or the deadline passes.

    The prober and the wait machinery load here, once the instances are spawned: a start
    spawns before it loads what only its wait needs.
    """
    from tasker_cluster.health.probe import (  # noqa: PLC0415
        HealthProber,
        HealthState,
        ProbeTarget,
        accepts_connections,
    )
    from tasker_cluster.wait import WaitTimeoutError, wait_for  # noqa: PLC0415

    pending = {instance.id: instance for instance in instances}
    details = {instance.id: "no answer yet" for instance in instances}
    if not pending:
        return WaitResult()
    probers: list[HealthProber] = []  # made once an instance first accepts a connection

    def probe_round() -> WaitResult | None:
        """One look at every pending instance: a result once none is pending or one exited."""
        crashes = [c for i in pending.values() if (c := _exited(i, spawned, records, log_path_of))]
        if crashes:
            for crash in crashes:
                progress.emit(crash.instance_id, "crashed", crash.describe())
            return WaitResult(crashes=crashes)
        waiting = [i for i in pending.values() if accepts_connections(i.health_url)]
        for instance in pending.values():
            if instance not in waiting:
                details[instance.id] = f"no answer (connection refused) on port {instance.port}"
        if not waiting:
            return None
        if not probers:
            probers.append(HealthProber(len(pending)))
        targets = [ProbeTarget(instance.health_url, instance.id) for instance in waiting]
        timeout = max(deadline.within(PROBE_TIMEOUT).remaining(), 0.05)
        for instance, probe in zip(waiting, probers[0].probe_many(targets, timeout), strict=True):
            if probe.state is HealthState.HEALTHY:
                del pending[instance.id]
                progress.emit(instance.id, "healthy")
            else:
                details[instance.id] = f"{probe.detail} on port {instance.port}"
        return None if pending else WaitResult()

    try:
        return wait_for(
            probe_round,
            deadline,
            "instances to answer healthy",
            interval=HEALTH_POLL_FIRST,
            max_interval=HEALTH_POLL_MAX,
        )
    except WaitTimeoutError:
        return WaitResult(pending={i: details[i] for i in pending})
    finally:
        for prober in probers:
            prober.close()
