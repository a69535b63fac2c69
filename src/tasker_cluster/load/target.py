"""What a load run talks to: bare URLs, or a cluster directory whose processes chaos may hit."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tasker_cluster.load.chaos import FaultTarget
from tasker_cluster.load.errors import NoOrchestrationError
from tasker_cluster.testing.cluster_config import ClusterConfig

if TYPE_CHECKING:
    from tasker_cluster.cluster import Cluster
    from tasker_cluster.records import InstanceRecord

ORCHESTRATION = "orchestration"
RELEASE_TIMEOUT = 10.0
RELEASE_POLL = 0.02
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadTarget:
    config: ClusterConfig
    description: str
    cluster: Cluster | None = field(default=None, compare=False)

    @property
    def cluster_dir(self) -> Path | None:
        return None if self.cluster is None else self.cluster.settings.cluster_dir

    @property
    def faults(self) -> FaultTarget | None:
        return None if self.cluster is None else ClusterFaultTarget(self.cluster)

    def worker_ids(self) -> list[str]:
        if self.cluster is None:
            return []
        return [r.instance_id for r in self.cluster.records() if r.service != ORCHESTRATION]


class ClusterFaultTarget:
    """`FaultTarget` over the lifecycle library's `Cluster`.

    After SIGKILL it waits until the process is gone and its port is free, so that the restart
    that follows does not find the port still held by the dying process.
    """

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster

    def running(self, service: str | None = None) -> list[str]:
        records = self._cluster.records()
        return [r.instance_id for r in records if service is None or r.service == service]

    def signal(self, instance_id: str, signum: int) -> None:
        record = next((r for r in self._cluster.records() if r.instance_id == instance_id), None)
        self._cluster.signal(instance_id, signum)
        if record is not None and signum == signal.SIGKILL:
            _wait_released(record)

    def restart(self, instance_id: str) -> None:
        self._cluster.restart(instance=instance_id)


def _wait_released(record: InstanceRecord) -> None:
    from tasker_cluster.ports import port_is_free  # noqa: PLC0415 - lifecycle path only
    from tasker_cluster.records import Liveness, liveness  # noqa: PLC0415

    host = urlsplit(record.url).hostname or "127.0.0.1"
    deadline = time.monotonic() + RELEASE_TIMEOUT
    while time.monotonic() < deadline:
        if liveness(record)[0] is not Liveness.OURS and port_is_free(host, record.port):
            return
        time.sleep(RELEASE_POLL)
    _LOG.warning("%s still holds port %d after SIGKILL", record.instance_id, record.port)


def target_from_cluster(cluster: Cluster) -> LoadTarget:
    orchestration = cluster.urls(ORCHESTRATION)
    if not orchestration:
        raise NoOrchestrationError(cluster.settings.cluster_dir)
    settings = cluster.settings
    workers = [
        url
        for service in settings.service_types
        if service.is_worker
        for url in cluster.urls(service.name)
    ]
    config = ClusterConfig(tuple(orchestration), tuple(workers))
    return LoadTarget(config, f"cluster {settings.cluster_dir}", cluster)


def target_from_cluster_dir(
    cluster_dir: Path | None = None, env_files: Sequence[Path] | None = None
) -> LoadTarget:
    """The cluster that `cluster.start` runs in `cluster_dir` (default: the configured one)."""
    from tasker_cluster.cluster import Cluster  # noqa: PLC0415 - psutil only for this path
    from tasker_cluster.config import load_settings  # noqa: PLC0415

    overrides = {"TASKER_CLUSTER_DIR": str(cluster_dir)} if cluster_dir is not None else None
    return target_from_cluster(Cluster(load_settings(env_files=env_files, overrides=overrides)))


def resolve_target(target: LoadTarget | ClusterConfig | Path) -> LoadTarget:
    if isinstance(target, LoadTarget):
        return target
    if isinstance(target, ClusterConfig):
        return LoadTarget(target, "urls " + ",".join(target.orchestration_urls))
    return target_from_cluster_dir(target)
