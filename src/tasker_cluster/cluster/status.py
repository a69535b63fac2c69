"""One status row per instance: state, process figures and health, gathered concurrently.

One look at the records, one pass over all processes for the trees (`children_by_parent`),
then every health probe at once while the CPU sample runs: CPU % is measured over the probes'
time, at least `CpuSample.window` (20 ms with Linux's nanosecond counters).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import psutil

from tasker_cluster.config.instances import Instance
from tasker_cluster.health.probe import HealthProbe, HealthProber, HealthState, ProbeTarget
from tasker_cluster.process.records import InstanceRecord, Liveness, liveness
from tasker_cluster.process.sampling import CpuSample, children_by_parent, descendants


class InstanceState(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    STARTING = "starting"
    CRASHED = "crashed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class InstanceStatus:
    """A status row; figures are None where they do not apply (e.g. a stopped instance)."""

    instance_id: str
    service: str
    state: InstanceState
    pid: int | None
    port: int
    url: str
    uptime_seconds: float | None
    cpu_percent: float | None
    rss_bytes: int | None
    health_latency_ms: float | None
    detail: str
    ports: Mapping[str, int] = field(default_factory=dict)


@dataclass
class _Row:
    instance_id: str
    service: str
    number: int
    port: int
    url: str
    health_url: str
    record: InstanceRecord | None
    ports: Mapping[str, int] = field(default_factory=dict)
    liveness: Liveness | None = None
    tree: tuple[psutil.Process, ...] = ()


def _tree_of(
    process: psutil.Process, children: Mapping[int, Sequence[int]]
) -> tuple[psutil.Process, ...]:
    """`process` and its live descendants, from the one snapshot of `children`."""
    tree = [process]
    for pid in descendants(process.pid, children):
        try:
            tree.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return tuple(tree)


def _sum_figures(tree: Sequence[psutil.Process], cpu: Mapping[int, float]) -> tuple[float, int]:
    """CPU % (from the sample) and RSS bytes of a tree, summed over its processes."""
    used, rss = 0.0, 0
    for process in tree:
        try:
            rss += process.memory_info().rss
        except psutil.Error:
            continue
        used += cpu.get(process.pid, 0.0)
    return used, rss


def collect_status(
    planned: Sequence[Instance],
    records: Sequence[InstanceRecord],
    health_paths: Mapping[str, str],
    health_timeout: float,
) -> list[InstanceStatus]:
    """Rows for the recorded instances and the configured ones that are not running.

    Rows come in service order (as in `health_paths`), then by instance number.
    """
    rows: dict[str, _Row] = {}
    for instance in planned:
        rows[instance.id] = _Row(
            instance.id,
            instance.service,
            instance.number,
            instance.port,
            instance.url,
            instance.health_url,
            None,
            instance.ports,
        )
    for record in records:
        path = health_paths.get(record.service, "/health")
        rows[record.instance_id] = _Row(
            record.instance_id,
            record.service,
            record.number,
            record.port,
            record.url,
            f"{record.url}{path}",
            record,
            record.ports,
        )
    rank = {service: index for index, service in enumerate(health_paths)}
    ordered = sorted(rows.values(), key=lambda r: (rank.get(r.service, len(rank)), r.number))
    rows = {row.instance_id: row for row in ordered}
    leaders: dict[str, psutil.Process] = {}
    for row in rows.values():
        if row.record is not None:
            row.liveness, process = liveness(row.record)
            if process is not None:
                leaders[row.instance_id] = process
    children = children_by_parent() if leaders else {}
    for instance_id, leader in leaders.items():
        rows[instance_id].tree = _tree_of(leader, children)
    sample = CpuSample(process for row in rows.values() for process in row.tree)
    targets = [ProbeTarget(row.health_url, row.instance_id) for row in rows.values()]
    with HealthProber(len(targets)) as prober:
        probes = prober.probe_many(targets, health_timeout)
    if leaders:
        sample.wait()
    cpu = sample.percent()
    statuses = [_status(row, probe, cpu) for row, probe in zip(rows.values(), probes, strict=True)]
    return _degrade(statuses, rows)


def _degrade(statuses: list[InstanceStatus], rows: Mapping[str, _Row]) -> list[InstanceStatus]:
    """A healthy row whose declared ports its instance does not all hold becomes degraded,
    naming each such port and its holder."""
    healthy = [
        (s.instance_id, s.pid, rows[s.instance_id].ports)
        for s in statuses
        if s.state is InstanceState.HEALTHY and s.pid is not None and rows[s.instance_id].ports
    ]
    if not healthy:
        return statuses
    from tasker_cluster.health.ports import PortsOf, port_problems  # noqa: PLC0415

    problems: dict[str, list[str]] = {}
    for problem in port_problems([PortsOf(*ports_of) for ports_of in healthy]):
        problems.setdefault(problem.instance_id, []).append(problem.describe())
    return [
        replace(s, state=InstanceState.DEGRADED, detail="; ".join(problems[s.instance_id]))
        if s.instance_id in problems
        else s
        for s in statuses
    ]


def _status(row: _Row, probe: HealthProbe, cpu_of: Mapping[int, float]) -> InstanceStatus:
    def make(state: InstanceState, detail: str, pid: int | None = None) -> InstanceStatus:
        return InstanceStatus(
            row.instance_id, row.service, state, pid, row.port, row.url,
            None, None, None, None, detail, row.ports,
        )  # fmt: skip

    if row.record is None:
        if probe.state is HealthState.NO_ANSWER:
            return make(InstanceState.STOPPED, "")
        answered = f" as {probe.answered_as}" if probe.answered_as else ""
        return make(InstanceState.STOPPED, f"not running, yet port {row.port} answers{answered}")
    if row.liveness is Liveness.REUSED:
        detail = f"pid {row.record.pid} now belongs to another process"
        return make(InstanceState.CRASHED, detail)
    if row.liveness is not Liveness.OURS or not row.tree:
        return make(InstanceState.CRASHED, f"process {row.record.pid} has exited; see its log")
    cpu, rss = _sum_figures(row.tree, cpu_of)
    state = {
        HealthState.HEALTHY: InstanceState.HEALTHY,
        HealthState.UNHEALTHY: InstanceState.UNHEALTHY,
        HealthState.NO_ANSWER: InstanceState.STARTING,
    }[probe.state]
    return InstanceStatus(
        instance_id=row.instance_id,
        service=row.service,
        state=state,
        pid=row.record.pid,
        port=row.port,
        url=row.url,
        uptime_seconds=round(max(0.0, time.time() - row.record.create_time), 1),
        cpu_percent=round(cpu, 1),
        rss_bytes=rss,
        health_latency_ms=None if probe.latency_ms is None else round(probe.latency_ms, 1),
        detail=probe.detail,
        ports=row.ports,
    )
