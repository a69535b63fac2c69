"""Per-session state of the pytest plugin: the clusters its fixtures started and a lease on
anyio's test runner, so the clusters and the async tests that use them share one event loop."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Coroutine, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from anyio.pytest_plugin import get_runner

from tasker_cluster.client.environment import ORCHESTRATION_URLS_VAR, WORKER_URLS_VAR
from tasker_cluster.testing.plugin_options import PluginSettings, external_cluster_dir

if TYPE_CHECKING:
    from collections.abc import Callable

    from anyio.abc import TestRunner

    from tasker_cluster.testing.manager import MultiInstanceTestManager

T = TypeVar("T")
BACKEND = "asyncio"
DEFAULT_CLUSTER = "tasker_cluster"
XDIST_WORKER_VAR = "PYTEST_XDIST_WORKER"
# Held while a managed cluster picks its free ports and starts, so clusters started at the same
# time (one per xdist worker, or two test runs) never pick the same ports.
PORT_LOCK = Path(tempfile.gettempdir()) / "tasker-cluster-free-ports.lock"


@dataclass
class ClusterHandle:
    """One cluster a fixture declared: the session's `tasker_cluster` or a factory's."""

    name: str
    settings: PluginSettings
    manager: MultiInstanceTestManager | None = None


async def _awaiting(coroutine: Coroutine[Any, Any, T]) -> T:
    return await coroutine


class PluginSession:
    """The session's clusters, keyed by fixture name, and where their kept state is."""

    def __init__(self, settings: PluginSettings, worker_id: str | None = None) -> None:
        self.settings = settings
        self.worker_id = worker_id
        self.clusters: dict[str, ClusterHandle] = {}
        self.kept_dirs: list[Path] = []
        self._lease: ExitStack | None = None
        self._runner: TestRunner | None = None

    @property
    def manager(self) -> MultiInstanceTestManager | None:
        """The session's default cluster (`tasker_cluster`), once started."""
        handle = self.clusters.get(DEFAULT_CLUSTER)
        return None if handle is None else handle.manager

    @property
    def kept_dir(self) -> Path | None:
        return self.kept_dirs[0] if self.kept_dirs else None

    def runner(self) -> TestRunner:
        """anyio's test runner, leased until `close` so its loop outlives every test."""
        if self._runner is None:
            lease = ExitStack()
            self._runner = lease.enter_context(get_runner(BACKEND, {}))
            self._lease = lease
        return self._runner

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the shared loop from synchronous code (fixtures, hooks)."""
        result: T = self.runner().run_fixture(_awaiting, {"coroutine": coroutine})
        return result

    def run_test(
        self, function: Callable[..., Coroutine[Any, Any, Any]], kwargs: dict[str, Any]
    ) -> None:
        self.runner().run_test(function, kwargs)

    def close(self) -> None:
        try:
            for name in list(self.clusters):
                self.stop(name, keep_files=False)
        finally:
            lease, self._lease, self._runner = self._lease, None, None
            if lease is not None:
                lease.close()

    def for_this_worker(self, settings: PluginSettings) -> PluginSettings:
        """Under xdist every worker runs a cluster of its own: a given directory gets one
        subdirectory per worker (`<dir>/gw0`, ...)."""
        if self.worker_id is None or settings.mode != "managed" or settings.cluster_dir is None:
            return settings
        from dataclasses import replace  # noqa: PLC0415 - rare path

        return replace(settings, cluster_dir=settings.cluster_dir / self.worker_id)

    def start(self, name: str, settings: PluginSettings) -> MultiInstanceTestManager:
        from tasker_cluster.process.lock import ClusterLock  # noqa: PLC0415 - only when used
        from tasker_cluster.testing.manager import (  # noqa: PLC0415 - only sessions that use it
            MultiInstanceTestManager,
        )

        settings = self.for_this_worker(settings)
        manager = MultiInstanceTestManager()
        if settings.mode == "managed":
            setup = manager.setup(
                settings.orchestration,
                settings.workers,
                settings.db,
                settings.cluster_dir,
                settings.env,
                env_file=settings.env_file,
                timeout=settings.startup_timeout,
                free_ports=settings.free_ports,
                api_key=settings.api_key,
                jwt=settings.jwt,
            )
            if settings.free_ports:
                with ClusterLock(PORT_LOCK, timeout=4 * settings.startup_timeout):
                    self.run(setup)
            else:
                self.run(setup)
        else:
            self.run(
                manager.setup_from_env(
                    _attach_environment(settings),
                    cluster_dir=external_cluster_dir(settings, os.environ),
                    env_file=settings.env_file,
                    timeout=settings.startup_timeout,
                    api_key=settings.api_key,
                    jwt=settings.jwt,
                )
            )
        self.clusters[name] = ClusterHandle(name, settings, manager)
        return manager

    def start_manager(self) -> MultiInstanceTestManager:
        return self.start(DEFAULT_CLUSTER, self.settings)

    def stop(self, name: str, keep_files: bool) -> None:
        handle = self.clusters.pop(name, None)
        if handle is None or handle.manager is None:
            return
        manager = handle.manager
        try:
            self.run(manager.aclose(keep_files=keep_files))
        finally:
            manager.teardown(keep_files)
        if keep_files and handle.settings.mode == "managed" and manager.cluster_dir is not None:
            self.kept_dirs.append(manager.cluster_dir)

    def stop_manager(self, keep_files: bool) -> None:
        self.stop(DEFAULT_CLUSTER, keep_files)

    def logs_dir(
        self, name: str = DEFAULT_CLUSTER, settings: PluginSettings | None = None
    ) -> Path | None:
        handle = self.clusters.get(name)
        if handle is not None and handle.manager is not None:
            return handle.manager.logs_dir
        settings = self.settings if settings is None else settings
        if settings.mode == "external":
            directory = external_cluster_dir(settings, os.environ)
            return None if directory is None else directory / ".logs"
        return None

    def orchestration_count(self, settings: PluginSettings | None = None) -> int | None:
        """How many orchestration instances a cluster has, without starting it."""
        if settings is None:
            if self.manager is not None:
                return self.manager.orchestration_count
            settings = self.settings
        if settings.mode == "managed":
            return settings.orchestration
        directory = external_cluster_dir(settings, os.environ)
        if directory is None:
            urls = settings.orchestration_urls or os.environ.get(ORCHESTRATION_URLS_VAR, "").split(
                ","
            )
            return len([url for url in urls if url.strip()]) or None
        from tasker_cluster.cluster.facade import Cluster  # noqa: PLC0415 - lifecycle
        from tasker_cluster.testing.launch import attach_settings  # noqa: PLC0415 - lifecycle

        cluster = Cluster(attach_settings(directory, settings.env_file)())
        return len(cluster.urls("orchestration")) or None


def _attach_environment(settings: PluginSettings) -> Mapping[str, str] | None:
    """URLs given to a `tasker_cluster_noproc` factory, else the process environment."""
    if not settings.orchestration_urls:
        return None
    return {
        ORCHESTRATION_URLS_VAR: ",".join(settings.orchestration_urls),
        WORKER_URLS_VAR: ",".join(settings.worker_urls),
    }
