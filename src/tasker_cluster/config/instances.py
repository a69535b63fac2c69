"""Instances derived from settings and counts: id, port, argv, working directory, environment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tasker_cluster.config.loader import with_counts
from tasker_cluster.config.model import ClusterSettings, ServiceType
from tasker_cluster.config.placeholders import PlaceholderValues, resolve_workdir, substitute


@dataclass(frozen=True)
class Instance:
    """One process of the cluster, fully resolved and ready to spawn."""

    id: str
    service: str
    number: int
    port: int
    argv: tuple[str, ...]
    workdir: Path
    health_url: str
    environment: Mapping[str, str] = field(repr=False, compare=False)

    @property
    def url(self) -> str:
        """`http://host:port` of the instance."""
        scheme, _, rest = self.health_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"


def build_instance(settings: ClusterSettings, service: ServiceType, number: int) -> Instance:
    """Instance `number` (1-based) of `service`; its port is `base + number - 1`."""
    instance_id = service.instance_id(number, settings.multi_instance)
    port = service.port(number)
    values = PlaceholderValues(
        instance_id, number, port, settings.bind_host, settings.project_root, settings.cluster_dir
    )
    host = f"[{settings.bind_host}]" if ":" in settings.bind_host else settings.bind_host
    environment = dict(settings.passthrough)
    environment.update(
        TASKER_INSTANCE_ID=instance_id,
        TASKER_INSTANCE_PORT=str(port),
        TASKER_WEB_BIND_ADDRESS=f"{host}:{port}",
        PORT=str(port),
        TASKER_CLUSTER_DIR=str(settings.cluster_dir),
    )
    if service.is_worker:
        environment["TASKER_WORKER_ID"] = instance_id
    return Instance(
        id=instance_id,
        service=service.name,
        number=number,
        port=port,
        argv=tuple(substitute(part, values) for part in service.command),
        workdir=resolve_workdir(service.workdir, values),
        health_url=f"http://{settings.probe_host}:{port}{service.health_path}",
        environment=environment,
    )


@dataclass(frozen=True)
class Plan:
    """The instances one `start` runs, and the settings (counts applied) they came from."""

    settings: ClusterSettings
    instances: tuple[Instance, ...]

    def __iter__(self) -> Iterator[Instance]:
        return iter(self.instances)

    def __len__(self) -> int:
        return len(self.instances)

    def __getitem__(self, index: int) -> Instance:
        return self.instances[index]

    def count(self, service: str) -> int:
        return sum(instance.service == service for instance in self.instances)

    def summary(self) -> str:
        """`2 orchestration, 3 worker-python`, in service order; types that run none left out."""
        services = dict.fromkeys(instance.service for instance in self.instances)
        return ", ".join(f"{self.count(service)} {service}" for service in services)


def plan_instances(
    settings: ClusterSettings,
    counts: Mapping[str, int | str] | None = None,
    origins: Mapping[str, str] | None = None,
    *,
    others: int | None = 0,
) -> Plan:
    """Every instance to run: `counts` per type (see `with_counts`), default: the settings."""
    if counts is not None:
        settings = with_counts(settings, counts, origins, others=others)
    instances = tuple(
        build_instance(settings, service, number)
        for service in settings.service_types
        for number in range(1, _count(service, settings.multi_instance) + 1)
    )
    return Plan(settings, instances)


def _count(service: ServiceType, multi_instance: bool) -> int:
    return service.instances if multi_instance else min(service.instances, 1)


def instance_for_id(settings: ClusterSettings, instance_id: str) -> Instance | None:
    """The instance an id names under these settings (None if no type matches it)."""
    service_name = settings.service_of(instance_id)
    if service_name is None:
        return None
    service = settings.service_type(service_name)
    if service.base_port is None or not service.command:
        return None
    number = int(instance_id.rsplit("-", 1)[1]) if settings.multi_instance else 1
    return build_instance(settings, service, number)
