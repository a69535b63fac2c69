"""Cluster configuration: built-in defaults < env file(s) < process environment < overrides.

Service types are data: any `TASKER_<TYPE>_INSTANCES`, `_BASE_PORT` or `_COMMAND` key defines
the type `<type>` (upper snake case to lower kebab case), with optional `_WORKDIR`,
`_HEALTH_PATH` and `_LEGACY_NAME` (its instance id in single-instance mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from tasker_cluster.config.layers import (
    ORIGIN_DEFAULTS,
    ORIGIN_ENVIRONMENT,
    ORIGIN_OVERRIDES,
    ConfigLayer,
    LayeredConfig,
    env_file_layer,
)
from tasker_cluster.config.model import ClusterSettings, instances_key
from tasker_cluster.config.rules import build_settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_ENV_FILE = Path("config/dotenv/multi-instance.env")

BUILTIN_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "TASKER_MULTI_INSTANCE_MODE": "true",
        "TASKER_BIND_HOST": "127.0.0.1",
        "TASKER_ORCHESTRATION_INSTANCES": "2",
        "TASKER_ORCHESTRATION_BASE_PORT": "8080",
        "TASKER_ORCHESTRATION_COMMAND": "{python} -m tasker_cluster.services.orchestration",
        "TASKER_WORKER_RUST_INSTANCES": "0",
        "TASKER_WORKER_RUST_BASE_PORT": "8100",
        "TASKER_WORKER_RUBY_INSTANCES": "0",
        "TASKER_WORKER_RUBY_BASE_PORT": "8200",
        "TASKER_WORKER_PYTHON_INSTANCES": "2",
        "TASKER_WORKER_PYTHON_BASE_PORT": "8300",
        "TASKER_WORKER_PYTHON_COMMAND": "{python} -m tasker_cluster.services.worker",
        "TASKER_WORKER_TS_INSTANCES": "0",
        "TASKER_WORKER_TS_BASE_PORT": "8400",
    }
)


def load_settings(
    env_files: Sequence[Path] | None = None,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    override_origins: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ClusterSettings:
    """Merge and validate the configuration; raises `ConfigError` listing every bad value.

    `env_files=None` reads the default profile (`config/dotenv/multi-instance.env`) if present;
    a relative env file path is looked up in `cwd` (default: the working directory), then in
    the project root. `override_origins` names where an override came from (e.g. a CLI flag).
    """
    environment = dict(os.environ if environ is None else environ)
    project_root = Path(environment.get("TASKER_PROJECT_ROOT", str(PROJECT_ROOT)))
    if overrides and "TASKER_PROJECT_ROOT" in overrides:
        project_root = Path(overrides["TASKER_PROJECT_ROOT"])
    if env_files is None:
        default = project_root / DEFAULT_ENV_FILE
        env_files = [default] if default.is_file() else []
    layers = (
        ConfigLayer(dict(overrides or {}), dict(override_origins or {}), ORIGIN_OVERRIDES),
        ConfigLayer(environment, default_origin=ORIGIN_ENVIRONMENT),
        env_file_layer(
            env_files, project_root, cwd or Path.cwd(), {**environment, **(overrides or {})}
        ),
        ConfigLayer(
            {**BUILTIN_DEFAULTS, "TASKER_PROJECT_ROOT": str(PROJECT_ROOT)},
            default_origin=ORIGIN_DEFAULTS,
            expands=True,
        ),
    )
    return build_settings(LayeredConfig(layers))


def with_counts(
    settings: ClusterSettings,
    counts: Mapping[str, int | str],
    origins: Mapping[str, str] | None = None,
    *,
    others: int | None = 0,
) -> ClusterSettings:
    """The same settings running `counts` instances per type, validated like any other value.

    A count may be text as a flag gave it (`"abc"` is reported like a bad value in an env
    file). `origins` names where each type's count came from (default: "the counts
    argument"). Types not named run `others` instances (default none); `others=None` keeps
    their configured counts.
    """
    for name in counts:
        settings.service_type(name)
    values: dict[str, str] = {}
    labels: dict[str, str] = {}
    for service in settings.service_types:
        if service.name in counts:
            values[instances_key(service.name)] = str(counts[service.name])
            labels[instances_key(service.name)] = (origins or {}).get(
                service.name, "the counts argument"
            )
        elif others is not None:
            values[instances_key(service.name)] = str(others)
    layer = ConfigLayer(values, labels, default_origin="the counts argument")
    return build_settings(LayeredConfig((layer, *settings.layers)))
