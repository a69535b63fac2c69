"""Turn a `LayeredConfig` into `ClusterSettings`, collecting every invalid value at once."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from tasker_cluster.config_layers import LayeredConfig
from tasker_cluster.config_model import (
    INSTANCE_ID_PATTERN,
    ClusterSettings,
    ServiceType,
    key_part,
    type_name,
)
from tasker_cluster.config_plan_rules import check_plan
from tasker_cluster.config_reader import ConfigReader
from tasker_cluster.config_service_rules import SUGGESTED_PORTS, read_service
from tasker_cluster.errors import ConfigError

TYPE_KEY = re.compile(r"^TASKER_([A-Z][A-Z0-9_]*?)_(INSTANCES|BASE_PORT|COMMAND)$")
TYPE_KEY_SUFFIXES = ("INSTANCES", "BASE_PORT", "COMMAND", "WORKDIR", "HEALTH_PATH", "LEGACY_NAME")
GLOBAL_KEYS = frozenset(
    {"TASKER_MULTI_INSTANCE_MODE", "TASKER_BIND_HOST", "TASKER_CLUSTER_DIR", "TASKER_PROJECT_ROOT"}
)
PER_INSTANCE_KEYS = frozenset(
    {
        "TASKER_INSTANCE_ID",
        "TASKER_INSTANCE_PORT",
        "TASKER_WEB_BIND_ADDRESS",
        "PORT",
        "TASKER_WORKER_ID",
        "TASKER_CLUSTER_DIR",
    }
)
_HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")


def discover_service_names(config: LayeredConfig) -> list[str]:
    """Every type named by a `TASKER_<TYPE>_INSTANCES`, `_BASE_PORT` or `_COMMAND` key."""
    return sorted({type_name(m.group(1)) for key in config.names() if (m := TYPE_KEY.match(key))})


def is_cluster_key(key: str, service_names: list[str]) -> bool:
    """Keys that configure the cluster itself; all others pass through to the instances."""
    if key in GLOBAL_KEYS:
        return True
    prefixes = {f"TASKER_{key_part(name)}_" for name in service_names}
    return any(key == f"{p}{suffix}" for p in prefixes for suffix in TYPE_KEY_SUFFIXES)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host))
    return True


def _display_order(service: ServiceType) -> tuple[int, str]:
    """The design's types in its order (orchestration first), then any others by name."""
    known = list(SUGGESTED_PORTS)
    return (known.index(service.name) if service.name in known else len(known), service.name)


def _cluster_dir(reader: ConfigReader, project_root: Path) -> Path:
    cluster_dir = Path(reader.text("TASKER_CLUSTER_DIR") or project_root).expanduser()
    if not cluster_dir.is_absolute():
        cluster_dir = project_root / cluster_dir
    if cluster_dir.exists() and not cluster_dir.is_dir():
        reader.problem(
            "TASKER_CLUSTER_DIR", "it exists and is not a directory", "choose another path"
        )
    return cluster_dir.resolve()


def build_settings(config: LayeredConfig) -> ClusterSettings:
    """Validate everything and build the settings; raises `ConfigError` listing every problem."""
    reader = ConfigReader(config)
    project_root = Path(reader.text("TASKER_PROJECT_ROOT") or ".").expanduser().resolve()
    cluster_dir = _cluster_dir(reader, project_root)
    multi_instance = reader.flag("TASKER_MULTI_INSTANCE_MODE", True)
    bind_host = (reader.text("TASKER_BIND_HOST") or "127.0.0.1").strip()
    if not _valid_host(bind_host):
        reader.problem(
            "TASKER_BIND_HOST",
            "a bind host must be an IP address or a host name",
            "set it to 127.0.0.1",
        )
    names = discover_service_names(config)
    services = sorted(
        (read_service(reader, name, project_root, cluster_dir) for name in names),
        key=_display_order,
    )
    check_plan(reader.problems, config, services, multi_instance, INSTANCE_ID_PATTERN)
    passthrough = {
        key: reader.text(key) or ""
        for key in config.names()
        if key not in PER_INSTANCE_KEYS and not is_cluster_key(key, names)
    }
    if reader.problems:
        raise ConfigError(reader.problems)
    return ClusterSettings(
        project_root=project_root,
        cluster_dir=cluster_dir,
        multi_instance=multi_instance,
        bind_host=bind_host,
        service_types=tuple(services),
        passthrough=passthrough,
        layers=config.layers,
    )
