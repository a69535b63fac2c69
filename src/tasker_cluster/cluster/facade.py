"""`Cluster`: the facade the tasks, the test manager and the load runner use."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasker_cluster.cluster.errors import (
    InstanceNotConfiguredError,
    NotRunningError,
    UnknownInstanceError,
)
from tasker_cluster.cluster.start import StartReport, start_instances
from tasker_cluster.config.errors import UnknownServiceError
from tasker_cluster.config.instances import Instance, Plan, instance_for_id, plan_instances
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.health.readiness import ProgressCallback, ProgressEvent
from tasker_cluster.process.lock import ClusterLock
from tasker_cluster.process.ports import PortConflict, port_conflicts
from tasker_cluster.process.records import (
    InstanceRecord,
    Liveness,
    liveness,
    read_plain_pids,
    read_records,
    record_of_plain_pid,
    remove_record,
)

if TYPE_CHECKING:
    from tasker_cluster.cluster.status import InstanceStatus
    from tasker_cluster.logs import LineFilter, LogFollower, LogLine, Selector
    from tasker_cluster.process.stop import StopResult, StopWaitCallback

# Status, stop, the process trees (psutil, the HTTP prober) and the logs load in the methods
# that use them, so a start spawns before loading them and a status never loads the stop
# machinery.

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 120.0
KILLED_LOG_LINES = 10
WHOLE_LOG = 1_000_000


class Cluster:
    """Start, stop, watch and restart the instances one `ClusterSettings` describes."""

    def __init__(
        self, settings: ClusterSettings, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        self.settings = settings
        self.lock_timeout = lock_timeout

    def plan(
        self,
        counts: Mapping[str, int | str] | None = None,
        origins: Mapping[str, str] | None = None,
        *,
        others: int | None = 0,
    ) -> Plan:
        """The instances `counts` asks for, validated; default: the counts of the settings.

        Types `counts` does not name run `others` instances (`None`: as configured). A count
        may be text as a flag gave it; `origins` says where each came from, for messages.
        """
        return plan_instances(self.settings, counts, origins, others=others)

    def start(
        self,
        plan: Plan | None = None,
        *,
        wait: bool = True,
        timeout: float = 60.0,
        on_progress: ProgressCallback | None = None,
    ) -> StartReport:
        """Start the instances of `plan` (default: `self.plan()`) that are not running; with
        `wait`, until all are healthy. The report carries the plan and what was spawned."""
        with self._lock():
            return start_instances(
                plan or self.plan(), wait=wait, timeout=timeout, on_progress=on_progress
            )

    def stop(
        self,
        service: str | None = None,
        instance: str | None = None,
        timeout: float = 10.0,
        *,
        on_wait: StopWaitCallback | None = None,
    ) -> list[StopResult]:
        """Stop the selected instances' whole process trees at once; KILL after `timeout`.

        `on_wait(seconds left, ids still running)` reports the grace period about once a
        second. Results of instances that needed SIGKILL carry the last lines of their log.
        """
        with self._lock():
            return self._stop(service, instance, timeout, on_wait)

    def restart(
        self,
        service: str | None = None,
        instance: str | None = None,
        timeout: float = 10.0,
        wait: bool = True,
        *,
        start_timeout: float = 60.0,
        rolling: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> StartReport:
        """Stop the selected instances, then start them again with the current settings.

        With `rolling=N`, N instances at a time (in instance order), each batch healthy
        before the next one stops, so the rest keep serving throughout.
        """
        with self._lock():
            selected = self._select_instances(service, instance)
            if not rolling:
                self._stop(service, instance, timeout)
                return start_instances(
                    Plan(self.settings, tuple(selected)),
                    wait=wait,
                    timeout=start_timeout,
                    on_progress=on_progress,
                )
            reports = []
            began = time.monotonic()
            for first in range(0, len(selected), rolling):
                batch = selected[first : first + rolling]
                for member in batch:
                    self._stop(None, member.id, timeout)
                reports.append(
                    start_instances(
                        Plan(self.settings, tuple(batch)),
                        wait=True,
                        timeout=start_timeout,
                        on_progress=_counted_across(on_progress, first, len(selected), began),
                    )
                )
            return _joined(Plan(self.settings, tuple(selected)), reports)

    def scale(
        self,
        counts: Mapping[str, int | str],
        origins: Mapping[str, str] | None = None,
        *,
        timeout: float = 10.0,
        wait: bool = True,
        start_timeout: float = 60.0,
        on_progress: ProgressCallback | None = None,
    ) -> ScaleReport:
        """Run exactly `counts` instances of the named types, in both directions: the surplus
        stops first, highest number first, each gracefully; then what is missing starts.
        Types not named are left as they are."""
        plan = self.plan(counts, origins, others=None)
        wanted = Plan(plan.settings, tuple(i for i in plan if i.service in counts))
        with self._lock():
            keep = {i.id for i in wanted}
            surplus = sorted(
                (
                    r
                    for r in self._all_records()
                    if r.service in counts and r.instance_id not in keep
                ),
                key=lambda r: (r.service, -r.number),
            )
            stopped: list[StopResult] = []
            for record in surplus:
                stopped += self._stop(None, record.instance_id, timeout)
            started = start_instances(
                wanted, wait=wait, timeout=start_timeout, on_progress=on_progress
            )
        return ScaleReport(tuple(stopped), started)

    def not_running(self, plan: Plan) -> list[Instance]:
        """The instances of `plan` that are not running now."""
        running = {r.instance_id for r in self.records()}
        return [instance for instance in plan if instance.id not in running]

    def preflight(self, plan: Plan | None = None) -> list[PortConflict]:
        """The port conflicts `start` would refuse for `plan` (default: the settings'), now."""
        records = self.records()
        pending = self.not_running(plan or self.plan())
        record_pids = {r.pid: r.instance_id for r in records}
        return port_conflicts(pending, self.settings.bind_host, record_pids)

    def state_paths(self, *, data: bool = False) -> list[Path]:
        """What `down` removes: the records and logs directories, and with `data` the data
        directory of the embedded database (never the cluster directory itself)."""
        paths = [self.settings.pids_dir, self.settings.logs_dir]
        if data:
            paths.append(self.settings.data_dir)
        return [path for path in paths if path.exists()]

    def down(
        self, *, data: bool = False, timeout: float = 10.0, on_wait: StopWaitCallback | None = None
    ) -> tuple[list[StopResult], list[Path]]:
        """Stop every instance, then remove the cluster's state (see `state_paths`)."""
        from tasker_cluster.process.stop import StopOutcome  # noqa: PLC0415

        with self._lock():
            results = self._stop(None, None, timeout, on_wait)
            if any(r.outcome is StopOutcome.SURVIVED for r in results):
                return results, []
            removed = self.state_paths(data=data)
            for path in removed:
                if path == self.settings.pids_dir:
                    for entry in path.iterdir():  # the lock file stays: we hold it
                        if entry != self.settings.lock_path:
                            _remove(entry)
                else:
                    _remove(path)
        return results, removed

    def status(
        self, service: str | None = None, instance: str | None = None, health_timeout: float = 2.0
    ) -> list[InstanceStatus]:
        """One row per configured or recorded instance, health probed concurrently (each
        probe gives up after `health_timeout` seconds)."""
        from tasker_cluster.cluster.status import collect_status  # noqa: PLC0415

        everything = self._all_records()
        self._check_service(service, everything)
        planned = [i for i in self.plan() if _selected(i.service, i.id, service, instance)]
        records = [r for r in everything if _selected(r.service, r.instance_id, service, instance)]
        health_paths = {s.name: s.health_path for s in self.settings.service_types}
        return collect_status(planned, records, health_paths, health_timeout)

    def signal(self, instance_id: str, signum: int) -> None:
        """Send `signum` to the instance's whole process group (e.g. SIGKILL, SIGSTOP, SIGCONT)."""
        from tasker_cluster.process.trees import collect_trees  # noqa: PLC0415

        record = next((r for r in self.records() if r.instance_id == instance_id), None)
        if record is None:
            raise NotRunningError(instance_id)
        for tree in collect_trees([record]):
            tree.signal(signum)

    def records(self) -> list[InstanceRecord]:
        """The recorded instances whose process is running and ours."""
        return [r for r in self._all_records() if liveness(r)[0] is Liveness.OURS]

    def urls(self, service: str) -> list[str]:
        """`http://host:port` of the running instances of `service`, by instance number."""
        self._check_service(service)
        running = sorted(
            (r for r in self.records() if r.service == service), key=lambda r: r.number
        )
        return [record.url for record in running]

    def log_path(self, instance_id: str) -> Path:
        """`<cluster dir>/.logs/<id>.log`, where the instance's stdout and stderr go."""
        return self.settings.log_path(instance_id)

    def log_selector(self, service: str | None = None, instance: str | None = None) -> Selector:
        self._check_service(service)
        return lambda found: _selected(self.settings.service_of(found), found, service, instance)

    def tail_logs(
        self,
        service: str | None = None,
        instance: str | None = None,
        lines: int = 50,
        line_filter: LineFilter | None = None,
    ) -> list[LogLine]:
        """The last `lines` lines of each selected log (of those `line_filter` picks), merged
        in time order across instances."""
        from tasker_cluster.logs import merge_by_time, tail_logs  # noqa: PLC0415

        select = self.log_selector(service, instance)
        if line_filter is None or line_filter.selects_all:
            return merge_by_time(tail_logs(self.settings.logs_dir, select, lines))
        everything = tail_logs(self.settings.logs_dir, select, WHOLE_LOG)
        picked = {i: line_filter.apply(own)[-lines:] for i, own in everything.items()}
        return merge_by_time(picked)

    def follow_logs(
        self, service: str | None = None, instance: str | None = None, lines: int = 50
    ) -> LogFollower:
        """A follower whose `initial` holds the last `lines` lines; `poll()` reads new ones."""
        from tasker_cluster.logs import LogFollower  # noqa: PLC0415

        return LogFollower(self.settings.logs_dir, self.log_selector(service, instance), lines)

    def rotate_logs(self) -> list[str]:
        """Rotate every instance log larger than `TASKER_LOG_MAX_BYTES`, keeping
        `TASKER_LOG_KEEP` copies; the ids whose log was rotated."""
        from tasker_cluster.logs import log_files, rotate  # noqa: PLC0415

        rotated = []
        for instance_id, path in log_files(self.settings.logs_dir, lambda _: True).items():
            if rotate(path, self.settings.log_max_bytes, self.settings.log_keep):
                rotated.append(instance_id)
        return rotated

    def _lock(self) -> ClusterLock:
        return ClusterLock(self.settings.lock_path, self.lock_timeout)

    def _stop(
        self,
        service: str | None,
        instance: str | None,
        timeout: float,
        on_wait: StopWaitCallback | None = None,
    ) -> list[StopResult]:
        from tasker_cluster.process.stop import StopOutcome, StopResult, stop_records  # noqa: PLC0415

        everything = self._all_records()
        self._check_service(service, everything)
        chosen = [r for r in everything if _selected(r.service, r.instance_id, service, instance)]
        if instance is not None and not chosen:
            self._check_instance(instance)
            owner = self.settings.service_of(instance) or "unknown"
            return [StopResult(instance, owner, StopOutcome.NOT_RUNNING, None, "no record")]
        results = stop_records(chosen, timeout, on_wait)
        for result in results:
            if result.outcome is not StopOutcome.SURVIVED:
                remove_record(self.settings.pids_dir, result.instance_id)
        return [self._with_log_tail(result) for result in results]

    def _with_log_tail(self, result: StopResult) -> StopResult:
        from tasker_cluster.process.stop import StopOutcome  # noqa: PLC0415

        if result.outcome not in (StopOutcome.KILLED, StopOutcome.SURVIVED):
            return result
        from tasker_cluster.logs import tail_lines  # noqa: PLC0415

        lines = tail_lines(self.log_path(result.instance_id), KILLED_LOG_LINES)[0]
        return replace(result, log_tail=tuple(lines))

    def _select_instances(self, service: str | None, instance: str | None) -> list[Instance]:
        """What a restart restarts: the recorded instances matching the selection (a crashed
        one included), rebuilt from the settings; where none is recorded, the planned ones.
        An instance scaled away (no record) is not brought back by a restart."""
        self._check_service(service)
        chosen: dict[str, Instance] = {}
        for record in self._all_records():
            if _selected(record.service, record.instance_id, service, instance):
                rebuilt = instance_for_id(self.settings, record.instance_id)
                if rebuilt is None:
                    raise InstanceNotConfiguredError(record.instance_id, record.service)
                chosen[rebuilt.id] = rebuilt
        if not chosen:
            chosen = {i.id: i for i in self.plan() if _selected(i.service, i.id, service, instance)}
        if instance is not None and not chosen:
            self._check_instance(instance)
            rebuilt = instance_for_id(self.settings, instance)
            if rebuilt is not None and _selected(rebuilt.service, rebuilt.id, service, instance):
                chosen[rebuilt.id] = rebuilt
        types = [t.name for t in self.settings.service_types]
        return sorted(chosen.values(), key=lambda i: (types.index(i.service), i.number))

    def _all_records(self) -> list[InstanceRecord]:
        """Our records, and a record for each plain pid file another tool (tasker-core's own
        scripts) wrote for an instance these settings define."""
        records, broken = read_records(self.settings.pids_dir)
        for error in broken:
            log.warning("ignoring %s", error)
        for plain in read_plain_pids(self.settings.pids_dir):
            instance = instance_for_id(self.settings, plain.instance_id)
            if instance is not None and (record := record_of_plain_pid(plain, instance)):
                records.append(record)
        return sorted(records, key=lambda r: r.instance_id)

    def _check_service(
        self, service: str | None, records: Sequence[InstanceRecord] | None = None
    ) -> None:
        """Raise `UnknownServiceError` unless `service` is None, configured or recorded (in
        `records`, when the caller has read them already)."""
        if service is None or service in self.settings.service_names:
            return
        known = [*self.settings.service_names]
        recorded = self._all_records() if records is None else records
        known += sorted({r.service for r in recorded} - set(known))
        if service not in known:
            raise UnknownServiceError(service, known)

    def _check_instance(self, instance_id: str) -> None:
        if instance_for_id(self.settings, instance_id) is None:
            known = sorted(
                {i.id for i in self.plan()} | {r.instance_id for r in self._all_records()}
            )
            raise UnknownInstanceError(instance_id, known)


@dataclass(frozen=True)
class ScaleReport:
    """What `scale` did: the surplus instances it stopped, then the start of the rest."""

    stopped: tuple[StopResult, ...]
    started: StartReport


def _joined(plan: Plan, reports: Sequence[StartReport]) -> StartReport:
    """One report for the batches of a rolling restart."""
    return StartReport(
        plan=plan,
        started=tuple(i for r in reports for i in r.started),
        already_running=tuple(i for r in reports for i in r.already_running),
        stale_records_removed=tuple(i for r in reports for i in r.stale_records_removed),
        waited=True,
        elapsed=sum(r.elapsed for r in reports),
        spawned=tuple(s for r in reports for s in r.spawned),
    )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _selected(
    service: str | None, instance_id: str, want_service: str | None, want_id: str | None
) -> bool:
    return (want_service is None or service == want_service) and (
        want_id is None or instance_id == want_id
    )


def _counted_across(
    on_progress: ProgressCallback | None, done: int, total: int, began: float
) -> ProgressCallback | None:
    """A batch's progress events counted across the whole rolling restart: `done` instances
    were healthy before this batch, `total` are restarted, the time runs from `began`."""
    if on_progress is None:
        return None
    callback = on_progress

    def counted(event: ProgressEvent) -> None:
        callback(
            replace(
                event,
                healthy=done + event.healthy,
                total=total,
                elapsed_seconds=time.monotonic() - began,
            )
        )

    return counted
