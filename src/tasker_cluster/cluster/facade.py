"""`Cluster`: the facade the tasks, the test manager and the load runner use."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from tasker_cluster.cluster.errors import (
    InstanceNotConfiguredError,
    NotRunningError,
    UnknownInstanceError,
)
from tasker_cluster.cluster.start import StartReport, start_instances
from tasker_cluster.cluster.status import InstanceStatus, collect_status
from tasker_cluster.config.errors import UnknownServiceError
from tasker_cluster.config.instances import Instance, Plan, instance_for_id, plan_instances
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.health.readiness import ProgressCallback
from tasker_cluster.logs import LogFollower, LogLine, Selector, tail_lines, tail_logs
from tasker_cluster.process.lock import ClusterLock
from tasker_cluster.process.records import (
    InstanceRecord,
    Liveness,
    liveness,
    read_plain_pids,
    read_records,
    record_of_plain_pid,
    remove_record,
)
from tasker_cluster.process.stop import StopOutcome, StopResult, StopWaitCallback, stop_records
from tasker_cluster.process.trees import collect_trees

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 120.0
KILLED_LOG_LINES = 10


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
        on_progress: ProgressCallback | None = None,
    ) -> StartReport:
        """Stop the selected instances, then start them again with the current settings."""
        with self._lock():
            selected = Plan(self.settings, tuple(self._select_instances(service, instance)))
            self._stop(service, instance, timeout)
            return start_instances(
                selected, wait=wait, timeout=start_timeout, on_progress=on_progress
            )

    def status(
        self, service: str | None = None, instance: str | None = None, health_timeout: float = 2.0
    ) -> list[InstanceStatus]:
        """One row per configured or recorded instance, health probed concurrently."""
        self._check_service(service)
        planned = [i for i in self.plan() if _selected(i.service, i.id, service, instance)]
        records = [
            r for r in self._all_records() if _selected(r.service, r.instance_id, service, instance)
        ]
        health_paths = {s.name: s.health_path for s in self.settings.service_types}
        return collect_status(planned, records, health_paths, health_timeout)

    def signal(self, instance_id: str, signum: int) -> None:
        """Send `signum` to the instance's whole process group (e.g. SIGKILL, SIGSTOP, SIGCONT)."""
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
        self, service: str | None = None, instance: str | None = None, lines: int = 50
    ) -> list[LogLine]:
        return tail_logs(self.settings.logs_dir, self.log_selector(service, instance), lines)

    def follow_logs(
        self, service: str | None = None, instance: str | None = None, lines: int = 50
    ) -> LogFollower:
        """A follower whose `initial` holds the last `lines` lines; `poll()` reads new ones."""
        return LogFollower(self.settings.logs_dir, self.log_selector(service, instance), lines)

    def _lock(self) -> ClusterLock:
        return ClusterLock(self.settings.lock_path, self.lock_timeout)

    def _stop(
        self,
        service: str | None,
        instance: str | None,
        timeout: float,
        on_wait: StopWaitCallback | None = None,
    ) -> list[StopResult]:
        self._check_service(service)
        chosen = [
            r for r in self._all_records() if _selected(r.service, r.instance_id, service, instance)
        ]
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
        if result.outcome not in (StopOutcome.KILLED, StopOutcome.SURVIVED):
            return result
        lines = tail_lines(self.log_path(result.instance_id), KILLED_LOG_LINES)[0]
        return replace(result, log_tail=tuple(lines))

    def _select_instances(self, service: str | None, instance: str | None) -> list[Instance]:
        """Planned and recorded instances matching the selection, rebuilt from the settings."""
        self._check_service(service)
        chosen = {i.id: i for i in self.plan() if _selected(i.service, i.id, service, instance)}
        for record in self._all_records():
            if record.instance_id not in chosen and _selected(
                record.service, record.instance_id, service, instance
            ):
                rebuilt = instance_for_id(self.settings, record.instance_id)
                if rebuilt is None:
                    raise InstanceNotConfiguredError(record.instance_id, record.service)
                chosen[rebuilt.id] = rebuilt
        if instance is not None and not chosen:
            self._check_instance(instance)
            rebuilt = instance_for_id(self.settings, instance)
            if rebuilt is not None and _selected(rebuilt.service, rebuilt.id, service, instance):
                chosen[rebuilt.id] = rebuilt
        return list(chosen.values())

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

    def _check_service(self, service: str | None) -> None:
        known = [*self.settings.service_names]
        known += sorted({r.service for r in self._all_records()} - set(known))
        if service is not None and service not in known:
            raise UnknownServiceError(service, known)

    def _check_instance(self, instance_id: str) -> None:
        if instance_for_id(self.settings, instance_id) is None:
            known = sorted(
                {i.id for i in self.plan()} | {r.instance_id for r in self._all_records()}
            )
            raise UnknownInstanceError(instance_id, known)


def _selected(
    service: str | None, instance_id: str, want_service: str | None, want_id: str | None
) -> bool:
    return (want_service is None or service == want_service) and (
        want_id is None or instance_id == want_id
    )
