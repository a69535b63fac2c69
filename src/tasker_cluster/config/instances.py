"""Instances derived from settings and counts: id, port, argv, working directory, environment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tasker_cluster.config.layers import expand_text
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
    ports: Mapping[str, int] = field(default_factory=dict, compare=False)

    @property
    def url(self) -> str:
        """`http://host:port` of the instance."""
        scheme, _, rest = self.health_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"


def placeholder_values(settings: ClusterSettings, instance: Instance) -> PlaceholderValues:
    """What the placeholders stand for in the context of one planned instance."""
    return PlaceholderValues(
        instance.id,
        instance.number,
        instance.port,
        settings.bind_host,
        settings.project_root,
        settings.cluster_dir,
        instance.ports,
    )


def build_instance(settings: ClusterSettings, service: ServiceType, number: int) -> Instance:
    """Instance `number` (1-based) of `service`; its port is `base + number - 1`."""
    instance_id = service.instance_id(number, settings.multi_instance)
    port = service.port(number)
    ports = {named.name: named.port(number) for named in service.ports}
    values = PlaceholderValues(
        instance_id,
        number,
        port,
        settings.bind_host,
        settings.project_root,
        settings.cluster_dir,
        ports,
    )
    host = f"[{settings.bind_host}]" if ":" in settings.bind_host else settings.bind_host
    environment = {**service.file_environment, **settings.passthrough}
    environment.update(
        TASKER_INSTANCE_ID=instance_id,
        TASKER_INSTANCE_PORT=str(port),
        TASKER_WEB_BIND_ADDRESS=f"{host}:{port}",
        PORT=str(port),
        TASKER_CLUSTER_DIR=str(settings.cluster_dir),
    )
    for named in service.ports:
        environment[named.variable] = f"{host}:{named.port(number)}"
    if service.is_worker:
        environment["TASKER_WORKER_ID"] = instance_id
    environment = resolve_references(environment, service.file_environment)
    return Instance(
        id=instance_id,
        service=service.name,
        number=number,
        port=port,
        argv=tuple(substitute(part, values) for part in service.command),
        workdir=resolve_workdir(service.workdir, values),
        health_url=f"http://{settings.probe_host}:{port}{service.health_path}",
        environment=environment,
        ports=ports,
    )


def resolve_references(
    environment: dict[str, str], from_files: Mapping[str, str]
) -> dict[str, str]:
    """`${NAME}` in the values that came from a type's env files, resolved against the final
    environment (so `${WORKSPACE_PATH}` is the one the cluster sets); unknown names stay."""
    resolved = dict(environment)
    for key, value in from_files.items():
        if resolved.get(key) == value and "${" in value:
            resolved[key] = expand_text(value, environment, Path())
    return resolved


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
