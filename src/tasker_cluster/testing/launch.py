"""Start a managed test cluster through `Cluster`, or find a running one to attach to."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.strategies import RoundRobin, Strategy
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.loader import load_settings
from tasker_cluster.config.model import (
    ORCHESTRATION_ROLE,
    WORKER_ROLE,
    ClusterSettings,
    instances_key,
    key_part,
)
from tasker_cluster.process.errors import PortsInUseError
from tasker_cluster.process.records import InstanceRecord
from tasker_cluster.testing.errors import ManagerStateError
from tasker_cluster.testing.free_ports import free_port_range

logger = logging.getLogger(__name__)

DEFAULT_WORKER_SERVICE = "worker-python"
PORT_ATTEMPTS = 3
CRASH_TEST_SECONDS = "4"


@dataclass(frozen=True)
class Topology:
    """Which instances a manager talks to, by id and URL, in instance-number order."""

    config: ClusterConfig
    orchestration_ids: tuple[str, ...]
    worker_ids: tuple[str, ...]


class SettingsSource:
    """Rebuilds a cluster's settings, optionally with extra instance environment."""

    def __init__(self, env_files: Sequence[Path] | None, overrides: Mapping[str, str]) -> None:
        self.env_files = None if env_files is None else list(env_files)
        self.overrides = dict(overrides)

    def __call__(self, extra_env: Mapping[str, str] | None = None) -> ClusterSettings:
        overrides = {**self.overrides, **(extra_env or {})}
        return load_settings(self.env_files, overrides, os.environ)


@dataclass(frozen=True)
class ManagedSpec:
    """What a managed test cluster runs: counts, directory, database and extra environment."""

    orchestration: int
    workers: int
    cluster_dir: Path
    database_url: str
    env: Mapping[str, str]
    env_file: Path | None
    timeout: float
    free_ports: bool = True
    worker_service: str = DEFAULT_WORKER_SERVICE


def start_managed(spec: ManagedSpec) -> tuple[Cluster, SettingsSource]:
    """Start the instances on free ports and wait until healthy; retries on a port race."""
    counts = {ORCHESTRATION_ROLE: spec.orchestration, spec.worker_service: spec.workers}
    for attempt in range(1, PORT_ATTEMPTS + 1):
        source = SettingsSource(
            [spec.env_file] if spec.env_file else [],
            _managed_overrides(spec, counts),
        )
        lifecycle = Cluster(source())
        try:
            lifecycle.start(timeout=spec.timeout)
        except PortsInUseError:
            lifecycle.stop()
            if attempt == PORT_ATTEMPTS or not spec.free_ports:
                raise
            logger.warning("ports taken while starting (attempt %d); choosing others", attempt)
            continue
        except BaseException:
            lifecycle.stop()
            raise
        return lifecycle, source
    raise AssertionError("unreachable")


def _managed_overrides(spec: ManagedSpec, counts: Mapping[str, int]) -> dict[str, str]:
    """The managed cluster's own configuration: its counts (types not named run none), free
    ports, directory and database. Instance ids and single/multi-instance mode come from the
    env file or the defaults."""
    overrides = {
        "TASKER_CLUSTER_DIR": str(spec.cluster_dir),
        "TASKER_BIND_HOST": "127.0.0.1",
        "DATABASE_URL": spec.database_url,
        "TASKER_ENV": "test",
        "TASKER_VISIBILITY_TIMEOUT_SECONDS": CRASH_TEST_SECONDS,
        "TASKER_TASK_LEASE_SECONDS": CRASH_TEST_SECONDS,
    }
    taken: set[int] = set()
    for service, count in counts.items():
        overrides[instances_key(service)] = str(count)
        if count and spec.free_ports:
            base = free_port_range(count, avoid=taken)
            taken.update(range(base, base + count))
            overrides[f"TASKER_{key_part(service)}_BASE_PORT"] = str(base)
    overrides.update(spec.env)
    return overrides


def attach_settings(cluster_dir: Path, env_file: Path | None) -> SettingsSource:
    """Settings of a running cluster: its directory, plus the env file it was started with."""
    return SettingsSource(
        [env_file] if env_file else None, {"TASKER_CLUSTER_DIR": str(cluster_dir)}
    )


def topology_from_records(
    records: Sequence[InstanceRecord],
    settings: ClusterSettings,
    strategy: Strategy | None,
) -> Topology:
    """Orchestration and worker instances by the role of their service type."""
    ordered = sorted(records, key=lambda r: (r.service, r.number))
    orchestration = [r for r in ordered if settings.role_of(r.service) == ORCHESTRATION_ROLE]
    workers = [r for r in ordered if settings.role_of(r.service) == WORKER_ROLE]
    cluster_dir = settings.cluster_dir
    if not orchestration:
        raise ManagerStateError(
            "attach to the cluster",
            f"no running orchestration instance is recorded in {cluster_dir / '.pids'}",
            "Start the cluster first (e.g. `invoke cluster.start`) or point "
            "TASKER_CLUSTER_DIR at the directory it runs from.",
        )
    config = ClusterConfig(
        tuple(r.url for r in orchestration),
        tuple(r.url for r in workers),
        strategy or RoundRobin(),
    )
    return Topology(
        config,
        tuple(r.instance_id for r in orchestration),
        tuple(r.instance_id for r in workers),
    )
