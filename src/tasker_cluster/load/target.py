"""What a load run talks to: bare URLs, or a cluster directory whose processes chaos may hit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasker_cluster.client.cluster_config import ClusterConfig, deployment_api_key
from tasker_cluster.config.model import WORKER_ROLE
from tasker_cluster.layout import DATABASE_FILE
from tasker_cluster.load.chaos import FaultTarget
from tasker_cluster.load.errors import NoOrchestrationError

if TYPE_CHECKING:
    from tasker_cluster.cluster.facade import Cluster

ORCHESTRATION = "orchestration"


@dataclass(frozen=True)
class LoadTarget:
    config: ClusterConfig
    description: str
    cluster: Cluster | None = field(default=None, compare=False)

    @property
    def cluster_dir(self) -> Path | None:
        return None if self.cluster is None else self.cluster.settings.cluster_dir

    @property
    def database_url(self) -> str | None:
        """The database the cluster's instances share, when the run knows it: its
        DATABASE_URL, or the embedded SQLite database of the reference services."""
        if self.cluster is None:
            return None
        settings = self.cluster.settings
        if url := settings.passthrough.get("DATABASE_URL"):
            return url
        embedded = settings.data_dir / DATABASE_FILE
        return f"sqlite:///{embedded}" if embedded.is_file() else None

    @property
    def faults(self) -> FaultTarget | None:
        return None if self.cluster is None else ClusterFaultTarget(self.cluster)

    def worker_ids(self) -> list[str]:
        if self.cluster is None:
            return []
        settings = self.cluster.settings
        return [
            r.instance_id
            for r in self.cluster.records()
            if settings.role_of(r.service) == WORKER_ROLE
        ]


class ClusterFaultTarget:
    """`FaultTarget` over the lifecycle library's `Cluster` (whose restart waits for the
    port of a killed instance to be released)."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster

    def running(self, service: str | None = None) -> list[str]:
        records = self._cluster.records()
        return [r.instance_id for r in records if service is None or r.service == service]

    def signal(self, instance_id: str, signum: int) -> None:
        self._cluster.signal(instance_id, signum)

    def restart(self, instance_id: str) -> None:
        self._cluster.restart(instance=instance_id)

    def rolling_restart(self, service: str) -> None:
        self._cluster.restart(service=service, rolling=1)


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
    # auth on in the cluster's own configuration: send one of the keys it was given
    api_key = deployment_api_key(settings.passthrough)
    config = ClusterConfig(tuple(orchestration), tuple(workers), api_key=api_key)
    return LoadTarget(config, f"cluster {settings.cluster_dir}", cluster)


def target_from_cluster_dir(
    cluster_dir: Path | None = None, env_files: Sequence[Path] | None = None
) -> LoadTarget:
    """The cluster that `cluster.start` runs in `cluster_dir` (default: the configured one)."""
    from tasker_cluster.cluster.facade import Cluster  # noqa: PLC0415 - psutil only for this path
    from tasker_cluster.config.loader import load_settings  # noqa: PLC0415

    overrides = {"TASKER_CLUSTER_DIR": str(cluster_dir)} if cluster_dir is not None else None
    return target_from_cluster(Cluster(load_settings(env_files=env_files, overrides=overrides)))


def with_credentials(target: LoadTarget, api_key: str | None, jwt: str | None) -> LoadTarget:
    """`target` sending `api_key` / `jwt` (where given) instead of what it had."""
    if api_key is None and jwt is None:
        return target
    return replace(target, config=target.config.with_credentials(api_key, jwt))


def resolve_target(target: LoadTarget | ClusterConfig | Path) -> LoadTarget:
    if isinstance(target, LoadTarget):
        return target
    if isinstance(target, ClusterConfig):
        return LoadTarget(target, "urls " + ",".join(target.orchestration_urls))
    return target_from_cluster_dir(target)
