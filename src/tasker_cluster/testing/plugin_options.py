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


_OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "tasker_cluster",
        "managed: start a cluster for the session; external: attach to a running one "
        "(TASKER_TEST_ORCHESTRATION_URLS or TASKER_CLUSTER_DIR). Default: managed.",
        {"choices": ("managed", "external")},
    ),
    ("tasker_orchestration", "orchestration instances of a managed cluster (default 2)", {}),
    ("tasker_workers", "worker instances of a managed cluster (default 2)", {}),
    (
        "tasker_db",
        "database of a managed cluster: sqlite or postgres (default sqlite)",
        {"choices": ("sqlite", "postgres")},
    ),
    (
        "tasker_env_file",
        "env file of cluster settings (e.g. config/dotenv/single-instance.env); the plugin's "
        "own settings and --tasker-env win over it",
        {},
    ),
    (
        "tasker_ports",
        "managed: free (default) picks free ports; configured keeps the base ports of the env "
        "file or environment, e.g. the legacy 8080/8083",
        {"choices": ("free", "configured")},
    ),
    (
        "tasker_cluster_dir",
        "managed: keep state and logs in this directory (kept afterwards); "
        "external: the running cluster's directory (default: $TASKER_CLUSTER_DIR)",
        {},
    ),
    ("tasker_startup_timeout", "seconds a managed cluster may take to become healthy (60)", {}),
    ("tasker_log_lines", "log lines per instance attached to a failed test's report (200)", {}),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("tasker-cluster", "tasker cluster under test")
    for name, help_text, extra in _OPTIONS:
        flag = "--" + name.replace("_", "-")
        group.addoption(flag, dest=name, default=None, help=help_text, **extra)
        parser.addini(name, help_text, default=None)
    group.addoption(
        "--tasker-env",
        dest="tasker_env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for a managed cluster's instances, e.g. "
        "--tasker-env TASKER_FAULTS=no_claim_guard (repeatable)",
    )
    parser.addini("tasker_env", "KEY=VALUE lines for a managed cluster's instances", "linelist")


def read_settings(config: pytest.Config) -> PluginSettings:
    """Options win over ini keys; raises `pytest.UsageError` naming the bad value and the fix."""

    def value(name: str) -> str | None:
        given = config.getoption(name)
        if given is None:
            ini = config.getini(name)
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
    return PluginSettings(
        mode="managed" if mode == "managed" else "external",
        orchestration=_count(value("tasker_orchestration"), "--tasker-orchestration", 2, 1),
        workers=_count(value("tasker_workers"), "--tasker-workers", 2, 0),
        db="postgres" if db == "postgres" else "sqlite",
        env_file=Path(env_file) if env_file else None,
        env=_env_pairs([*config.getini("tasker_env"), *config.getoption("tasker_env")]),
        cluster_dir=Path(cluster_dir) if cluster_dir else None,
        startup_timeout=_seconds(value("tasker_startup_timeout"), "--tasker-startup-timeout"),
        log_lines=_count(value("tasker_log_lines"), "--tasker-log-lines", 200, 0),
        free_ports=ports == "free",
    )


def external_cluster_dir(settings: PluginSettings, environ: Mapping[str, str]) -> Path | None:
    if settings.cluster_dir is not None:
        return settings.cluster_dir
    value = environ.get(CLUSTER_DIR_VAR)
    return Path(value) if value else None


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


def _env_pairs(items: Sequence[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, separator, val = item.partition("=")
        if not separator or not key.strip() or any(c.isspace() for c in key.strip()):
            raise pytest.UsageError(
                f"--tasker-env {item!r}: expected KEY=VALUE, e.g. --tasker-env TASKER_FAULTS=x"
            )
        pairs[key.strip()] = val
    return pairs
