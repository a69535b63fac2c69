"""Checks that depend on instance counts: ids, single-instance limits, port ranges and overlaps."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tasker_cluster.config_layers import LayeredConfig
from tasker_cluster.config_model import ServiceType
from tasker_cluster.errors import ConfigProblem


def port_span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def check_plan(
    problems: list[ConfigProblem],
    config: LayeredConfig,
    services: Sequence[ServiceType],
    multi_instance: bool,
    id_pattern: re.Pattern[str],
) -> None:
    """Append a problem for every id or port conflict among the services asked to run."""

    def add(key: str, rule: str, fix: str) -> None:
        problems.append(ConfigProblem(key, config.raw(key), config.origin(key), rule, fix))

    owners: dict[str, str] = {}
    taken: list[tuple[str, int, int]] = []
    for service in (s for s in services if s.instances > 0):
        if not multi_instance and service.instances > 1:
            add(
                service.key("INSTANCES"),
                "single-instance mode runs at most one instance of each type",
                "set it to 0 or 1, or set TASKER_MULTI_INSTANCE_MODE=true",
            )
        count = service.instances if multi_instance else 1
        id_key = service.key("INSTANCES" if multi_instance else "LEGACY_NAME")
        for number in range(1, count + 1):
            instance_id = service.instance_id(number, multi_instance)
            if not id_pattern.match(instance_id):
                add(
                    id_key,
                    f"instance id {instance_id!r} does not match {id_pattern.pattern}",
                    "use a service type name of letters, digits and dashes, at most 60 long"
                    if multi_instance
                    else "set it to a name of letters, digits and dashes, at most 64 long",
                )
                break
            if instance_id in owners:
                add(
                    id_key,
                    f"instance id {instance_id!r} is also used by {owners[instance_id]}",
                    "give every service type its own name",
                )
                break
            owners[instance_id] = service.name
        if service.base_port is None:
            continue
        last = service.base_port + count - 1
        if last > 65535:
            add(
                service.key("BASE_PORT"),
                f"{count} instance(s) need ports {port_span(service.base_port, last)}, "
                "beyond 65535",
                "choose a lower base port or fewer instances",
            )
            continue
        for other, low, high in taken:
            if service.base_port <= high and low <= last:
                add(
                    service.key("BASE_PORT"),
                    f"ports {port_span(service.base_port, last)} of {service.name} overlap "
                    f"ports {port_span(low, high)} of {other}",
                    f"choose a base port outside {port_span(low, high)}",
                )
        taken.append((service.name, service.base_port, last))
