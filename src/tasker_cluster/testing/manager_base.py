"""The lifecycle half of the test manager: start or attach, then stop and clean up."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from tasker_cluster.cluster import Cluster
from tasker_cluster.testing.client import OrchestrationCluster
from tasker_cluster.testing.cluster_config import ClusterConfig
from tasker_cluster.testing.databases import ScratchDatabase, postgres_database, sqlite_database
from tasker_cluster.testing.environment import (
    CLUSTER_DIR_VAR,
    DEFAULT_POSTGRES_URL,
    ORCHESTRATION_URLS_VAR,
    POSTGRES_URL_VAR,
)
from tasker_cluster.testing.errors import ManagerStateError
from tasker_cluster.testing.fault_injection import FaultInjector
from tasker_cluster.testing.launch import (
    ManagedSpec,
    SettingsSource,
    attach_settings,
    start_managed,
    topology_from_records,
)
from tasker_cluster.testing.strategies import Strategy

logger = logging.getLogger(__name__)


class ManagerBase:
    """Starts (`setup`) or attaches to (`setup_from_env`) a cluster; `teardown` cleans up.

    Use `async with MultiInstanceTestManager() as manager: await manager.setup(...)`;
    `teardown()` (also run on exit) stops what `setup` started, drops its database and removes
    its temporary directory. Attached clusters are never stopped.
    """

    def __init__(self) -> None:
        self._cluster: OrchestrationCluster | None = None
        self._faults: FaultInjector | None = None
        self._no_faults_reason = "the manager is not set up"
        self._orchestration_ids: tuple[str, ...] = ()
        self._worker_ids: tuple[str, ...] = ()
        self._database: ScratchDatabase | None = None
        self._cluster_dir: Path | None = None
        self._owns_dir = False
        self._owns_processes = False
        self._finished = False

    async def setup(
        self,
        orchestration: int = 2,
        workers: int = 2,
        db: Literal["sqlite", "postgres"] = "sqlite",
        cluster_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        *,
        env_file: Path | None = None,
        timeout: float = 60.0,
        strategy: Strategy | None = None,
        free_ports: bool = True,
    ) -> Self:
        """Start a cluster with its own directory and database; wait until it is healthy.

        `env` reaches every instance (e.g. `{"TASKER_FAULTS": "no_claim_guard"}`); `env_file`
        is layered under it (e.g. single-instance mode and legacy names). Ports are free ones
        picked now, unless `free_ports=False` keeps the base ports the configuration names.
        """
        self._require_fresh("set up a cluster")
        if db not in ("sqlite", "postgres"):
            raise ManagerStateError(
                f"set up a cluster with db={db!r}", "unknown database", "Use sqlite or postgres."
            )
        self._owns_dir = cluster_dir is None
        self._cluster_dir = Path(cluster_dir or tempfile.mkdtemp(prefix="tasker-test-"))
        self._cluster_dir.mkdir(parents=True, exist_ok=True)
        self._owns_processes = True
        atexit.register(self.teardown)
        # Creating the database and starting the instances block the event loop on purpose: a
        # cancelled await must never leave them half done where teardown cannot see them.
        try:
            if db == "postgres":
                admin_url = os.environ.get(POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL)
                self._database = postgres_database(admin_url)
            else:
                self._database = sqlite_database(self._cluster_dir)
            spec = ManagedSpec(
                orchestration,
                workers,
                self._cluster_dir,
                self._database.url,
                dict(env or {}),
                env_file,
                timeout,
                free_ports,
            )
            lifecycle, source = start_managed(spec)
            self._attach_lifecycle(lifecycle, source, strategy)
            await self.cluster.wait_for_healthy(timeout)
        except BaseException:
            await asyncio.to_thread(self.teardown)
            raise
        return self

    async def setup_from_env(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        cluster_dir: Path | None = None,
        env_file: Path | None = None,
        timeout: float = 30.0,
        strategy: Strategy | None = None,
    ) -> Self:
        """Attach to a running cluster and wait until it is healthy; never stops it.

        With a cluster directory (`cluster_dir` or TASKER_CLUSTER_DIR) instances, logs and
        fault injection come from its records; otherwise from TASKER_TEST_ORCHESTRATION_URLS
        and TASKER_TEST_WORKER_URLS, without fault injection.
        """
        self._require_fresh("attach to a cluster")
        env = os.environ if environ is None else environ
        directory = cluster_dir or (
            Path(env[CLUSTER_DIR_VAR]) if env.get(CLUSTER_DIR_VAR) else None
        )
        if directory is not None:
            source = attach_settings(directory, env_file)
            self._cluster_dir = directory
            self._attach_lifecycle(Cluster(source()), source, strategy)
        else:
            self._cluster = OrchestrationCluster(ClusterConfig.from_env(env, strategy))
            self._no_faults_reason = (
                f"the cluster was attached by URL ({ORCHESTRATION_URLS_VAR}), so its processes "
                "are unknown"
            )
        await self.cluster.wait_for_healthy(timeout)
        return self

    def _attach_lifecycle(
        self, lifecycle: Cluster, source: SettingsSource, strategy: Strategy | None
    ) -> None:
        assert self._cluster_dir is not None
        self._faults = FaultInjector(lifecycle, source, self._probe)
        topology = topology_from_records(lifecycle.records(), strategy, self._cluster_dir)
        self._orchestration_ids = topology.orchestration_ids
        self._worker_ids = topology.worker_ids
        self._cluster = OrchestrationCluster(topology.config)

    async def _probe(self, url: str, timeout: float) -> str | None:
        return await self.cluster.probe(url, timeout)

    @property
    def cluster(self) -> OrchestrationCluster:
        """The client for the orchestration instances (and workers' health and metrics)."""
        if self._cluster is None:
            raise ManagerStateError(
                "use the cluster client", self._no_faults_reason, "Call setup() first."
            )
        return self._cluster

    def teardown(self, keep_files: bool = False) -> None:
        """Stop what `setup` started, drop its database, remove its temporary directory.

        Idempotent; errors are logged and the remaining steps still run. `keep_files` keeps the
        directory (state and logs) for a post-mortem.
        """
        if self._finished:
            return
        self._finished = True
        atexit.unregister(self.teardown)
        if self._faults is not None:
            self._faults.resume_all()
            if self._owns_processes:
                _log_failure("stop the cluster", self._faults.lifecycle.stop)
        if self._database is not None:
            _log_failure("drop the test database", self._database.drop)
        if self._owns_dir and self._cluster_dir is not None and not keep_files:
            shutil.rmtree(self._cluster_dir, ignore_errors=True)

    async def aclose(self, keep_files: bool = False) -> None:
        """Close the HTTP client, then `teardown`."""
        try:
            if self._cluster is not None:
                await self._cluster.aclose()
        finally:
            await asyncio.to_thread(self.teardown, keep_files)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.teardown()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _require_fresh(self, operation: str) -> None:
        if self._cluster is not None or self._finished:
            raise ManagerStateError(
                operation, "this manager already has a cluster", "Use a new manager."
            )


def _log_failure(what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:
        logger.exception("could not %s", what)
