"""Command-line options and ini keys of the pytest plugin, parsed into frozen settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from tasker_cluster.client.environment import CLUSTER_DIR_VAR, ORCHESTRATION_URLS_VAR

Mode = Literal["managed", "external"]
Backend = Literal["sqlite", "postgres"]
IniType = Literal["string", "linelist", "int", "float"]


@dataclass(frozen=True)
class PluginSettings:
    """What cluster the tests run against and how it is started."""

    mode: Mode = "managed"
    orchestration: int = 2
    workers: int = 2
    db: Backend = "sqlite"
    env_file: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cluster_dir: Path | None = None
    startup_timeout: float = 60.0
    log_lines: int = 200
    free_ports: bool = True
    # external only: attach to these URLs (a `tasker_cluster_noproc(orchestration_urls=...)`)
    # instead of reading TASKER_TEST_ORCHESTRATION_URLS / TASKER_CLUSTER_DIR
    orchestration_urls: tuple[str, ...] = ()
    worker_urls: tuple[str, ...] = ()
    # credentials for a cluster with auth on (None: TASKER_TEST_API_KEY / TASKER_TEST_JWT,
    # or a managed cluster's own TASKER_API_KEY)
    api_key: str | None = field(default=None, repr=False)
    jwt: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Option:
    name: str
    metavar: str
    ini_type: IniType
    help: str
    choices: tuple[str, ...] = ()


_OPTIONS: tuple[_Option, ...] = (
    _Option(
        "tasker_cluster",
        "MODE",
        "string",
        "managed: start a cluster for the session; external: attach to a running one "
        "(TASKER_TEST_ORCHESTRATION_URLS or TASKER_CLUSTER_DIR). Default: managed.",
        ("managed", "external"),
    ),
    _Option("tasker_orchestration", "N", "int", "orchestration instances of a managed cluster (2)"),
    _Option("tasker_workers", "M", "int", "worker instances of a managed cluster (2)"),
    _Option(
        "tasker_db",
        "DB",
        "string",
        "database of a managed cluster: sqlite or postgres (default sqlite)",
        ("sqlite", "postgres"),
    ),
    _Option(
        "tasker_env_file",
        "PATH",
        "string",
        "env file of cluster settings (e.g. config/dotenv/single-instance.env); the plugin's "
        "own settings and --tasker-env win over it",
    ),
    _Option(
        "tasker_ports",
        "PORTS",
        "string",
        "managed: free (default) picks free ports; configured keeps the base ports of the env "
        "file or environment, e.g. the legacy 8080/8083",
        ("free", "configured"),
    ),
    _Option(
        "tasker_cluster_dir",
        "DIR",
        "string",
        "managed: keep state and logs in this directory (kept afterwards; one subdirectory per "
        "xdist worker); external: the running cluster's directory (default: $TASKER_CLUSTER_DIR)",
    ),
    _Option(
        "tasker_startup_timeout",
        "SECONDS",
        "float",
        "seconds a managed cluster may take to become healthy (60)",
    ),
    _Option(
        "tasker_api_key",
        "KEY",
        "string",
        "X-API-Key the client sends, for a cluster with auth on (default: TASKER_TEST_API_KEY, "
        "else a managed cluster's own TASKER_API_KEY)",
    ),
    _Option(
        "tasker_jwt",
        "TOKEN",
        "string",
        "bearer token the client sends, for a cluster with auth on (default: TASKER_TEST_JWT)",
    ),
    _Option(
        "tasker_log_lines",
        "N",
        "int",
        "log lines per instance attached to a failed test's report (200)",
    ),
)
ENV_OPTION = "tasker_env"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("tasker-cluster", "tasker cluster under test")
    for option in _OPTIONS:
        flag = "--" + option.name.replace("_", "-")
        extra: dict[str, Any] = {"choices": option.choices} if option.choices else {}
        group.addoption(
            flag, dest=option.name, default=None, metavar=option.metavar, help=option.help, **extra
        )
        parser.addini(option.name, option.help, type=option.ini_type, default=None)
    group.addoption(
        "--tasker-env",
        dest=ENV_OPTION,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for a managed cluster's instances, e.g. "
        "--tasker-env TASKER_FAULTS=no_claim_guard (repeatable)",
    )
    parser.addini(ENV_OPTION, "KEY=VALUE lines for a managed cluster's instances", "linelist")


def _ini(config: pytest.Config, name: str) -> object:
    try:
        return config.getini(name)
    except ValueError as error:  # a typed key (int, float) that does not parse
        raise pytest.UsageError(f"ini key {name}: {error}") from error


def is_configured(config: pytest.Config) -> bool:
    """Whether this run names the plugin's settings at all (an option or an ini key)."""
    for option in _OPTIONS:
        if config.getoption(option.name) is not None or _ini(config, option.name) is not None:
            return True
    return bool(config.getoption(ENV_OPTION) or _ini(config, ENV_OPTION))


def read_settings(config: pytest.Config) -> PluginSettings:
    """Options win over ini keys; raises `pytest.UsageError` naming the bad value and the fix."""

    def value(name: str) -> str | None:
        given = config.getoption(name)
        if given is None:
            ini = _ini(config, name)
            given = ini if ini not in (None, "", []) else None
        return None if given is None else str(given)

    mode = value("tasker_cluster") or "managed"
    db = value("tasker_db") or "sqlite"
    ports = value("tasker_ports") or "free"
    if ports not in ("free", "configured"):
        raise pytest.UsageError(f"tasker_ports = {ports!r}: use free or configured")
    if mode not in ("managed", "external"):
        raise pytest.UsageError(f"tasker_cluster = {mode!r}: use managed or external")
    if db not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"tasker_db = {db!r}: use sqlite or postgres")
    env_file = value("tasker_env_file")
    cluster_dir = value("tasker_cluster_dir")
    ini_env = _ini(config, ENV_OPTION)
    return PluginSettings(
        mode="managed" if mode == "managed" else "external",
        orchestration=_count(value("tasker_orchestration"), "--tasker-orchestration", 2, 1),
        workers=_count(value("tasker_workers"), "--tasker-workers", 2, 0),
        db="postgres" if db == "postgres" else "sqlite",
        env_file=Path(env_file) if env_file else None,
        env=env_pairs(
            [*(ini_env if isinstance(ini_env, list) else []), *config.getoption(ENV_OPTION)]
        ),
        cluster_dir=Path(cluster_dir).absolute() if cluster_dir else None,
        startup_timeout=_seconds(value("tasker_startup_timeout"), "--tasker-startup-timeout"),
        log_lines=_count(value("tasker_log_lines"), "--tasker-log-lines", 200, 0),
        free_ports=ports == "free",
        api_key=_credential(value("tasker_api_key"), "--tasker-api-key"),
        jwt=_credential(value("tasker_jwt"), "--tasker-jwt"),
    )


def _credential(raw: str | None, flag: str) -> str | None:
    from tasker_cluster.client.cluster_config import credential  # noqa: PLC0415
    from tasker_cluster.client.errors import ClusterConfigError  # noqa: PLC0415

    try:
        return credential(flag, raw)
    except ClusterConfigError as error:
        raise pytest.UsageError(str(error)) from None


def external_cluster_dir(settings: PluginSettings, environ: Mapping[str, str]) -> Path | None:
    """The directory an external cluster is attached through, or None when attached by URL."""
    if settings.cluster_dir is not None:
        return settings.cluster_dir
    if settings.orchestration_urls:
        return None
    value = environ.get(CLUSTER_DIR_VAR)
    return Path(value) if value else None


def no_faults_reason(settings: PluginSettings, environ: Mapping[str, str]) -> str | None:
    """Why instances of this cluster cannot be killed or restarted, or None when they can."""
    if settings.mode == "managed" or external_cluster_dir(settings, environ) is not None:
        return None
    source = (
        "tasker_cluster_noproc(orchestration_urls=...)"
        if settings.orchestration_urls
        else ORCHESTRATION_URLS_VAR
    )
    return (
        f"the cluster is attached by URL ({source}), so its processes are unknown; attach "
        f"through its directory ({CLUSTER_DIR_VAR} or --tasker-cluster-dir) or use a managed "
        "cluster"
    )


def describe(settings: PluginSettings, environ: Mapping[str, str]) -> str:
    """One line naming the cluster under test, for the report header."""
    if settings.mode == "managed":
        ports = "free ports" if settings.free_ports else "configured ports"
        where = settings.cluster_dir or "a temporary directory"
        text = (
            f"managed, {settings.orchestration} orchestration + {settings.workers} worker "
            f"instance(s), {settings.db}, {ports}, state in {where}"
        )
        if settings.env:
            text += ", env " + " ".join(f"{k}={v}" for k, v in sorted(settings.env.items()))
    else:
        directory = external_cluster_dir(settings, environ)
        if directory is not None:
            text = f"external, attached through {directory}"
        else:
            urls = settings.orchestration_urls or tuple(
                url.strip() for url in environ.get(ORCHESTRATION_URLS_VAR, "").split(",")
            )
            text = (
                f"external, attached by URL {','.join(u for u in urls if u)} (no fault injection)"
            )
    if settings.env_file is not None:
        text += f", env file {settings.env_file}"
    sent = [name for name, value in (("API key", settings.api_key), ("JWT", settings.jwt)) if value]
    if sent:
        text += f", sending {' and '.join(sent)}"
    return text


def check_external_target(settings: PluginSettings, environ: Mapping[str, str]) -> None:
    """External mode needs URLs or a cluster directory; say how to give them."""
    if settings.mode != "external":
        return
    if environ.get(ORCHESTRATION_URLS_VAR) or external_cluster_dir(settings, environ):
        return
    raise pytest.UsageError(
        "--tasker-cluster=external needs a running cluster to attach to: set "
        f"{ORCHESTRATION_URLS_VAR} to its comma-separated orchestration URLs (e.g. "
        f"http://127.0.0.1:8080,http://127.0.0.1:8081), or {CLUSTER_DIR_VAR} (or "
        "--tasker-cluster-dir) to the directory of a cluster started with `invoke cluster.start`"
    )


def _count(raw: str | None, flag: str, default: int, minimum: int) -> int:
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < minimum:
        raise pytest.UsageError(f"{flag}={raw!r}: expected a whole number >= {minimum}")
    return int(raw)


def _seconds(raw: str | None, flag: str) -> float:
    if raw is None:
        return PluginSettings.startup_timeout
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise pytest.UsageError(f"{flag}={raw!r}: expected a positive number of seconds")
    return seconds


def env_pairs(items: Sequence[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, separator, val = item.partition("=")
        if not separator or not key.strip() or any(c.isspace() for c in key.strip()):
            raise pytest.UsageError(
                f"--tasker-env {item!r}: expected KEY=VALUE, e.g. --tasker-env TASKER_FAULTS=x"
            )
        pairs[key.strip()] = val
    return pairs
