"""Per-session state of the pytest plugin: one event loop and at most one cluster manager."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tasker_cluster.client.environment import ORCHESTRATION_URLS_VAR
from tasker_cluster.testing.plugin_options import PluginSettings, external_cluster_dir

if TYPE_CHECKING:
    from tasker_cluster.testing.manager import MultiInstanceTestManager

T = TypeVar("T")


class PluginSession:
    """Runs coroutines on one loop for the whole session and owns the session's manager."""

    def __init__(self, settings: PluginSettings) -> None:
        self.settings = settings
        self.manager: MultiInstanceTestManager | None = None
        self.kept_dir: Path | None = None
        self._runner: asyncio.Runner | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coroutine)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def start_manager(self) -> MultiInstanceTestManager:
        from tasker_cluster.testing.manager import (  # noqa: PLC0415 - only sessions that use it
            MultiInstanceTestManager,
        )

        settings = self.settings
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
            )
        else:
            setup = manager.setup_from_env(
                cluster_dir=external_cluster_dir(settings, os.environ),
                env_file=settings.env_file,
                timeout=settings.startup_timeout,
            )
        self.run(setup)
        self.manager = manager
        return manager

    def stop_manager(self, keep_files: bool) -> None:
        manager, self.manager = self.manager, None
        if manager is None:
            return
        try:
            self.run(manager.aclose(keep_files=keep_files))
        finally:
            manager.teardown(keep_files)
        if keep_files and self.settings.mode == "managed":
            self.kept_dir = manager.cluster_dir

    def logs_dir(self) -> Path | None:
        if self.manager is not None:
            return self.manager.logs_dir
        if self.settings.mode == "external":
            directory = external_cluster_dir(self.settings, os.environ)
            return None if directory is None else directory / ".logs"
        return None

    def orchestration_count(self) -> int | None:
        """How many orchestration instances the session's cluster has, without starting it."""
        if self.manager is not None:
            return self.manager.orchestration_count
        if self.settings.mode == "managed":
            return self.settings.orchestration
        urls = os.environ.get(ORCHESTRATION_URLS_VAR, "")
        directory = external_cluster_dir(self.settings, os.environ)
        if directory is None:
            return len([url for url in urls.split(",") if url.strip()]) or None
        from tasker_cluster.cluster.facade import Cluster  # noqa: PLC0415 - lifecycle
        from tasker_cluster.testing.launch import attach_settings  # noqa: PLC0415 - lifecycle

        cluster = Cluster(attach_settings(directory, self.settings.env_file)())
        return len(cluster.urls("orchestration")) or None
