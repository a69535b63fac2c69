"""Helpers for lifecycle tests: the stand-in service command, settings, process checks."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from fakes import FAKE_SERVICE
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.loader import load_settings
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.wait import WaitTimeoutError, wait_for


def fake_command(*arguments: str) -> str:
    """A `TASKER_<TYPE>_COMMAND` value running the stand-in service with `arguments`."""
    return shlex.join(["{python}", str(FAKE_SERVICE), *arguments])


def clean_environ() -> dict[str, str]:
    """The process environment without the developer's own TASKER_* settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TASKER_")}


def processes_of(cluster_dir: Path) -> list[psutil.Process]:
    """Live (non-zombie) processes whose environment names this cluster directory."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("TASKER_CLUSTER_DIR") != str(cluster_dir):
                continue
            if process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 50 ms until it holds; fail the test after `timeout` seconds."""
    try:
        wait_for(condition, timeout, what)
    except WaitTimeoutError as error:
        pytest.fail(str(error))


@dataclass
class ClusterFactory:
    """Builds settings/clusters for one test: own directory, free ports, the stand-in service."""

    cluster_dir: Path
    orchestration_port: int
    worker_port: int

    def overrides(
        self,
        orchestration_args: tuple[str, ...] = (),
        worker_args: tuple[str, ...] = (),
        orchestration: int = 2,
        workers: int = 1,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        return {
            "TASKER_CLUSTER_DIR": str(self.cluster_dir),
            "TASKER_ORCHESTRATION_INSTANCES": str(orchestration),
            "TASKER_ORCHESTRATION_BASE_PORT": str(self.orchestration_port),
            "TASKER_ORCHESTRATION_COMMAND": fake_command(*orchestration_args),
            "TASKER_WORKER_PYTHON_INSTANCES": str(workers),
            "TASKER_WORKER_PYTHON_BASE_PORT": str(self.worker_port),
            "TASKER_WORKER_PYTHON_COMMAND": fake_command(*worker_args),
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }

    def settings(self, **options: object) -> ClusterSettings:
        overrides = self.overrides(**options)  # type: ignore[arg-type]
        return load_settings(env_files=[], overrides=overrides, environ=clean_environ())

    def cluster(self, **options: object) -> Cluster:
        return Cluster(self.settings(**options), lock_timeout=30.0)


def assert_nothing_running(cluster_dir: Path) -> None:
    left = [f"{p.pid} {p.cmdline()}" for p in processes_of(cluster_dir)]
    assert left == [], f"processes of {cluster_dir} still running: {left}"
    records = sorted(path.name for path in (cluster_dir / ".pids").glob("*.pid"))
    assert records == [], f"records left behind: {records}"
