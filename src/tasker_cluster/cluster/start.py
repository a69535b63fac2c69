"""`start`: skip what runs, clean stale records, check ports, prepare, spawn in waves, wait,
or undo it all."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasker_cluster.cluster.errors import (
    InstancesCrashedError,
    InstancesDegradedError,
    StartTimeoutError,
)
from tasker_cluster.config.instances import Instance, Plan, placeholder_values
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.config.placeholders import substitute
from tasker_cluster.config.rules import PER_INSTANCE_KEYS
from tasker_cluster.health.readiness import Progress, ProgressCallback, wait_healthy
from tasker_cluster.process.errors import PortsInUseError
from tasker_cluster.process.ports import port_conflicts
from tasker_cluster.process.records import (
    InstanceRecord,
    Liveness,
    liveness,
    read_records,
    remove_record,
    write_record,
)
from tasker_cluster.process.spawn import Spawned, launch, launched

if TYPE_CHECKING:
    from tasker_cluster.health.ports import PortProblem

# What only a failure, a stale record, a busy port, a prepare step or the health wait needs
# (psutil, process trees, the wait machinery) is imported where it is used: a start spawns
# its instances before loading any of it, and every millisecond before the spawn is one the
# instances start later.

log = logging.getLogger(__name__)

ABORT_STOP_TIMEOUT = 5.0
TIMEOUT_LOG_LINES = 10


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
    if not stale:
        return {record.instance_id: record for record in records}
    from tasker_cluster.process.stop import stop_records  # noqa: PLC0415

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
    from tasker_cluster.process.stop import StopOutcome, stop_records  # noqa: PLC0415

    with _sigint_deferred():
        results = stop_records([s.record for s in spawned], ABORT_STOP_TIMEOUT)
        for result in results:
            if result.outcome is not StopOutcome.SURVIVED:
                remove_record(settings.pids_dir, result.instance_id)
    return [r.instance_id for r in results if r.outcome is not StopOutcome.NOT_RUNNING]


def start_instances(
    plan: Plan, *, wait: bool, timeout: float, on_progress: ProgressCallback | None
) -> StartReport:
    """Start what of `plan` is not running yet; on any failure stop all it spawned, then raise.

    Before anything spawns: stale records go, every port is checked, and each type with
    instances to start is prepared once. Then types start in waves (a type with
    `start_after` waits until those types are healthy), each wave in parallel, each type
    given its own start timeout when it has one.
    """
    began = time.monotonic()
    settings, planned = plan.settings, plan.instances
    existing_ids = set(_record_ids(settings))
    running = clean_stale_records(settings)
    stale_ids = tuple(sorted(existing_ids - running.keys()))
    to_start = [instance for instance in planned if instance.id not in running]
    record_pids = {r.pid: r.instance_id for r in running.values()}
    conflicts = port_conflicts(to_start, settings.bind_host, record_pids)
    if conflicts:  # some may still be being released by a process that just exited
        from tasker_cluster.process.ports import wait_for_ports  # noqa: PLC0415
        from tasker_cluster.wait import Deadline  # noqa: PLC0415

        conflicts = wait_for_ports(to_start, settings.bind_host, record_pids, Deadline(timeout))
    if conflicts:
        raise PortsInUseError(conflicts)
    progress = Progress(len(planned), on_progress)
    for instance in planned:
        if instance.id in running:
            progress.emit(instance.id, "already running")
    _prepare(settings, to_start, progress)
    spawned: dict[str, Spawned] = {}
    try:
        for wave in start_waves(settings, planned):
            _spawn_wave(settings, [i for i in wave if i.id not in running], spawned, progress)
            if wait:
                wave_timeout = _wave_timeout(settings, wave, timeout)
                _wait_ready(
                    settings,
                    wave,
                    spawned=spawned,
                    running=running,
                    timeout=wave_timeout,
                    progress=progress,
                )
    except (StartTimeoutError, InstancesCrashedError, InstancesDegradedError) as error:
        stopped = _undo(settings, list(spawned.values()))
        raise error.with_stopped(stopped) from None
    except BaseException:  # Ctrl-C and every other failure: nothing spawned stays running
        _undo(settings, list(spawned.values()))
        raise
    return StartReport(
        plan=plan,
        started=tuple(spawned),
        already_running=tuple(i.id for i in planned if i.id in running),
        stale_records_removed=stale_ids,
        waited=wait,
        elapsed=time.monotonic() - began,
        spawned=tuple(spawned.values()),
    )


def _spawn_wave(
    settings: ClusterSettings,
    wave: Sequence[Instance],
    spawned: dict[str, Spawned],
    progress: Progress,
) -> None:
    """Launch every instance of the wave back to back, then record each (pid, create time).

    Whatever was launched is recorded and in `spawned` even when a later launch fails, so the
    caller's undo stops it.
    """
    processes: list[tuple[Instance, subprocess.Popen[bytes]]] = []
    try:
        for instance in wave:
            processes.append((instance, launch(instance, settings.log_path(instance.id))))
    finally:
        for instance, process in processes:
            child = launched(instance, process, settings.log_path(instance.id))
            spawned[instance.id] = child
            write_record(settings.pids_dir, child.record)
            progress.emit(instance.id, "spawned")


def start_waves(settings: ClusterSettings, planned: Sequence[Instance]) -> list[list[Instance]]:
    """The planned instances in start order: a type comes after the types it `start_after`s
    (those not planned are ignored); types without an order start in the first wave."""
    pending = {i.service for i in planned}
    after = {name: set(settings.service_type(name).start_after) & pending for name in pending}
    waves: list[list[Instance]] = []
    done: set[str] = set()
    while pending:
        ready = {name for name in pending if after[name] <= done} or set(pending)
        waves.append([i for i in planned if i.service in ready])
        done |= ready
        pending -= ready
    return waves


def _wave_timeout(settings: ClusterSettings, wave: Sequence[Instance], default: float) -> float:
    timeouts = [settings.service_type(i.service).start_timeout for i in wave]
    return max((t for t in timeouts if t is not None), default=default)


def _prepare(settings: ClusterSettings, to_start: Sequence[Instance], progress: Progress) -> None:
    """Run each prepare step once, for the types that have instances to start, in the type's
    environment (an instance's, without what is its own: ids, bind addresses, ports)."""
    firsts = {i.service: i for i in reversed(to_start)}
    for service in settings.service_types:
        first = firsts.get(service.name)
        if service.prepare is None or first is None:
            continue
        from tasker_cluster.process.prepare import run_prepare  # noqa: PLC0415

        command = substitute(service.prepare, placeholder_values(settings, first))
        progress.emit(service.name, "preparing", command)
        own = (PER_INSTANCE_KEYS - {"TASKER_CLUSTER_DIR"}) | {p.variable for p in service.ports}
        prepared = run_prepare(
            service.name,
            command,
            workdir=first.workdir,
            environment={k: v for k, v in first.environment.items() if k not in own},
            logs_dir=settings.logs_dir,
            timeout=service.prepare_timeout,
        )
        progress.emit(service.name, "prepared", f"{prepared.seconds:.1f} s")


def _wait_ready(
    settings: ClusterSettings,
    wave: Sequence[Instance],
    *,
    spawned: dict[str, Spawned],
    running: dict[str, InstanceRecord],
    timeout: float,
    progress: Progress,
) -> None:
    """Until every instance of the wave answers healthy and holds each declared port."""
    from tasker_cluster.wait import Deadline, WaitTimeoutError, wait_for  # noqa: PLC0415

    deadline = Deadline(timeout)
    result = wait_healthy(
        wave,
        spawned=spawned,
        records=running,
        log_path_of=settings.log_path,
        deadline=deadline,
        progress=progress,
    )
    if result.crashes:
        crashed = {crash.instance_id for crash in result.crashes}
        raise InstancesCrashedError(result.crashes, [i for i in spawned if i not in crashed])
    if result.pending:
        from tasker_cluster.logs import tail_lines  # noqa: PLC0415 - only for a timeout

        tails = {i: tail_lines(settings.log_path(i), TIMEOUT_LOG_LINES)[0] for i in result.pending}
        raise StartTimeoutError(timeout, list(result.pending.items()), [], tails)
    if not any(i.ports for i in wave):
        return
    # psutil (~20 ms of CPU the booting instances want) loads only for declared ports
    from tasker_cluster.health.ports import PortsOf, port_problems  # noqa: PLC0415

    with_ports = [
        PortsOf(i.id, spawned[i.id].record.pid if i.id in spawned else running[i.id].pid, i.ports)
        for i in wave
        if i.ports
    ]
    problems: list[PortProblem] = []

    def held() -> bool:
        problems[:] = port_problems(with_ports)
        if any(problem.held_elsewhere for problem in problems):
            raise InstancesDegradedError(problems, [])
        return not problems

    try:
        wait_for(held, deadline, "every declared port", interval=0.005, max_interval=0.02)
    except WaitTimeoutError:
        raise InstancesDegradedError(problems, [], timeout=timeout) from None


def _record_ids(settings: ClusterSettings) -> list[str]:
    if not settings.pids_dir.is_dir():
        return []
    return [path.stem for path in settings.pids_dir.glob("*.pid")]
