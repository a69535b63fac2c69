"""`start`: skip what runs, clean stale records, check ports, spawn all, wait, or undo it all."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tasker_cluster.cluster.errors import InstancesCrashedError, StartTimeoutError
from tasker_cluster.config.instances import Instance, Plan
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.health.readiness import Progress, ProgressCallback, WaitResult, wait_healthy
from tasker_cluster.process.errors import PortsInUseError
from tasker_cluster.process.ports import wait_for_ports
from tasker_cluster.process.records import (
    InstanceRecord,
    Liveness,
    liveness,
    read_records,
    remove_record,
    write_record,
)
from tasker_cluster.process.spawn import Spawned, spawn
from tasker_cluster.process.stop import StopOutcome, stop_records
from tasker_cluster.wait import Deadline

log = logging.getLogger(__name__)

ABORT_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class StartReport:
    """What `start` did: the plan it carried out, which instances it started and which ran.

    `elapsed` is in seconds, from the call until all were healthy (or spawned, without wait).
    `spawned` holds the processes this start created, as values (exit codes, pids).
    """

    plan: Plan
    started: tuple[str, ...]
    already_running: tuple[str, ...]
    stale_records_removed: tuple[str, ...]
    waited: bool
    elapsed: float
    spawned: tuple[Spawned, ...] = ()

    @property
    def instances(self) -> tuple[Instance, ...]:
        return self.plan.instances

    def urls(self, service: str) -> list[str]:
        return [instance.url for instance in self.instances if instance.service == service]


def clean_stale_records(settings: ClusterSettings) -> dict[str, InstanceRecord]:
    """Remove every record whose process is gone or not ours (stopping any leftovers of it).

    Returns the records that are ours and running, by instance id.
    """
    records, broken = read_records(settings.pids_dir)
    for error in broken:
        log.warning("removing %s", error)
        error.path.unlink(missing_ok=True)
    stale = [record for record in records if liveness(record)[0] is not Liveness.OURS]
    for result in stop_records(stale, ABORT_STOP_TIMEOUT):
        log.info("removing the stale record of %s (%s)", result.instance_id, result.detail)
        remove_record(settings.pids_dir, result.instance_id)
    return {record.instance_id: record for record in records if record not in stale}


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Keep a second Ctrl-C from interrupting cleanup (only possible in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _undo(settings: ClusterSettings, spawned: Sequence[Spawned]) -> list[str]:
    """Stop everything this start spawned; the ids that were still running."""
    with _sigint_deferred():
        results = stop_records([s.record for s in spawned], ABORT_STOP_TIMEOUT)
        for result in results:
            if result.outcome is not StopOutcome.SURVIVED:
                remove_record(settings.pids_dir, result.instance_id)
    return [r.instance_id for r in results if r.outcome is not StopOutcome.NOT_RUNNING]


def start_instances(
    plan: Plan, *, wait: bool, timeout: float, on_progress: ProgressCallback | None
) -> StartReport:
    """Start what of `plan` is not running yet; on any failure stop all it spawned, then raise."""
    began = time.monotonic()
    settings, planned = plan.settings, plan.instances
    deadline = Deadline(timeout)
    existing_ids = set(_record_ids(settings))
    running = clean_stale_records(settings)
    stale_ids = tuple(sorted(existing_ids - running.keys()))
    to_start = [instance for instance in planned if instance.id not in running]
    record_pids = {r.pid: r.instance_id for r in running.values()}
    conflicts = wait_for_ports(to_start, settings.bind_host, record_pids, deadline)
    if conflicts:
        raise PortsInUseError(conflicts)
    progress = Progress(len(planned), on_progress)
    for instance in planned:
        if instance.id in running:
            progress.emit(instance.id, "already running")
    spawned: dict[str, Spawned] = {}
    try:
        for instance in to_start:
            child = spawn(instance, settings.log_path(instance.id))
            spawned[instance.id] = child
            write_record(settings.pids_dir, child.record)
            progress.emit(instance.id, "spawned")
        result = WaitResult()
        if wait:
            result = wait_healthy(
                planned,
                spawned=spawned,
                records=running,
                logs_dir=settings.logs_dir,
                deadline=deadline,
                progress=progress,
            )
    except BaseException:  # Ctrl-C included: nothing this start spawned may be left running
        _undo(settings, list(spawned.values()))
        raise
    if result.crashes:
        stopped = _undo(settings, list(spawned.values()))
        crashed = {crash.instance_id for crash in result.crashes}
        raise InstancesCrashedError(result.crashes, [i for i in stopped if i not in crashed])
    if result.pending:
        stopped = _undo(settings, list(spawned.values()))
        raise StartTimeoutError(timeout, list(result.pending.items()), stopped)
    return StartReport(
        plan=plan,
        started=tuple(spawned),
        already_running=tuple(i.id for i in planned if i.id in running),
        stale_records_removed=stale_ids,
        waited=wait,
        elapsed=time.monotonic() - began,
        spawned=tuple(spawned.values()),
    )


def _record_ids(settings: ClusterSettings) -> list[str]:
    if not settings.pids_dir.is_dir():
        return []
    return [path.stem for path in settings.pids_dir.glob("*.pid")]
