"""`MultiInstanceTestManager`: start or attach to a cluster; tasks, consistency and faults."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from tasker_cluster.client.api import UuidLike
from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.cluster_config import (
    API_KEY_VAR,
    JWT_VAR,
    ClusterConfig,
    credential_from_env,
    deployment_api_key,
)
from tasker_cluster.client.environment import (
    CLUSTER_DIR_VAR,
    DEFAULT_POSTGRES_URL,
    ORCHESTRATION_URLS_VAR,
    POSTGRES_URL_VAR,
)
from tasker_cluster.client.models import Task, TaskCreated
from tasker_cluster.client.strategies import Strategy
from tasker_cluster.client.task_request import TaskRequest
from tasker_cluster.client.waiting import wait_for_terminal
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.layout import LOGS_DIR
from tasker_cluster.testing.consistency import TaskSnapshot, verify_consistency
from tasker_cluster.testing.databases import ScratchDatabase, postgres_database, sqlite_database
from tasker_cluster.testing.errors import ManagerStateError
from tasker_cluster.testing.fault_injection import FaultInjector
from tasker_cluster.testing.launch import (
    ManagedSpec,
    SettingsSource,
    attach_settings,
    start_managed,
    topology_from_records,
)

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 10


class MultiInstanceTestManager:
    """A cluster for tests: create and wait for tasks, compare instances, inject faults.

    Instance ids are those of the lifecycle library (`orchestration-1`, `worker-python-2`, ...).

    Starts (`setup`) or attaches to (`setup_from_env`) a cluster; `teardown` cleans up.

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
        self._api_key: str | None = None
        self._jwt: str | None = None

    def _use_credentials(
        self, api_key: str | None, jwt: str | None, environ: Mapping[str, str] | None = None
    ) -> None:
        """Credentials given, else TASKER_TEST_API_KEY / TASKER_TEST_JWT from `environ`."""
        env = os.environ if environ is None else environ
        self._api_key = api_key or credential_from_env(env, API_KEY_VAR)
        self._jwt = jwt or credential_from_env(env, JWT_VAR)

    async def setup(  # noqa: PLR0913 - upstream's setup(n, m) plus the managed cluster's options
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
        api_key: str | None = None,
        jwt: str | None = None,
    ) -> Self:
        """Start a cluster with its own directory and database; wait until it is healthy.

        `env` reaches every instance (e.g. `{"TASKER_FAULTS": "no_claim_guard"}`); `env_file`
        is layered under it (e.g. single-instance mode and legacy names). Ports are free ones
        picked now, unless `free_ports=False` keeps the base ports the configuration names.
        With auth on (`TASKER_AUTH_ENABLED=true` and `TASKER_API_KEY` in `env`) the client
        sends that key, unless `api_key` / `jwt` (or TASKER_TEST_API_KEY / TASKER_TEST_JWT)
        give other credentials.
        """
        self._require_fresh("set up a cluster")
        self._use_credentials(api_key, jwt)
        if db not in ("sqlite", "postgres"):
            raise ManagerStateError(
                f"set up a cluster with db={db!r}", "unknown database", "Use sqlite or postgres."
            )
        self._owns_dir = cluster_dir is None
        self._cluster_dir = Path(cluster_dir or tempfile.mkdtemp(prefix="tasker-test-")).absolute()
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
        api_key: str | None = None,
        jwt: str | None = None,
    ) -> Self:
        """Attach to a running cluster and wait until it is healthy; never stops it.

        With a cluster directory (`cluster_dir` or TASKER_CLUSTER_DIR) instances, logs and
        fault injection come from its records; otherwise from TASKER_TEST_ORCHESTRATION_URLS
        and TASKER_TEST_WORKER_URLS, without fault injection. Credentials: `api_key` / `jwt`,
        else TASKER_TEST_API_KEY / TASKER_TEST_JWT, else (with a cluster directory whose auth
        is on) a key of the cluster's own configuration.
        """
        self._require_fresh("attach to a cluster")
        env = os.environ if environ is None else environ
        self._use_credentials(api_key, jwt, env)
        directory = cluster_dir or (
            Path(env[CLUSTER_DIR_VAR]) if env.get(CLUSTER_DIR_VAR) else None
        )
        if directory is not None:
            source = attach_settings(directory, env_file)
            self._cluster_dir = directory
            self._attach_lifecycle(Cluster(source()), source, strategy)
        else:
            config = ClusterConfig.from_env(env, strategy)
            self._cluster = OrchestrationCluster(config.with_credentials(self._api_key, self._jwt))
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
        topology = topology_from_records(lifecycle.records(), lifecycle.settings, strategy)
        self._orchestration_ids = topology.orchestration_ids
        self._worker_ids = topology.worker_ids
        api_key = self._api_key or deployment_api_key(lifecycle.settings.passthrough)
        self._cluster = OrchestrationCluster(topology.config.with_credentials(api_key, self._jwt))

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

    # -- the cluster as a test sees it --------------------------------------------------------

    def __repr__(self) -> str:
        if self._cluster is None:
            return "MultiInstanceTestManager(not set up)"
        instances = [*self._orchestration_ids, *self._worker_ids] or list(self._cluster.urls)
        return f"MultiInstanceTestManager({', '.join(instances)}; dir={self._cluster_dir})"

    @property
    def cluster_dir(self) -> Path | None:
        return self._cluster_dir

    @property
    def logs_dir(self) -> Path | None:
        """Where `<instance id>.log` files are, when the cluster runs from a directory."""
        return None if self._cluster_dir is None else self._cluster_dir / LOGS_DIR

    @property
    def database_url(self) -> str | None:
        return None if self._database is None else self._database.url

    @property
    def orchestration_ids(self) -> tuple[str, ...]:
        """Ids in the order of `cluster.all_clients()` (empty when attached by URL)."""
        return self._orchestration_ids

    @property
    def orchestration_count(self) -> int:
        return self.cluster.instance_count

    @property
    def worker_count(self) -> int:
        return len(self.cluster.config.worker_urls)

    def instance_label(self, index: int) -> str:
        """`orchestration-2 (http://127.0.0.1:40001)`, or the URL when the id is unknown."""
        url = self.cluster.urls[index]
        if index < len(self._orchestration_ids):
            return f"{self._orchestration_ids[index]} ({url})"
        return url

    @property
    def worker_instance_ids(self) -> tuple[str, ...]:
        """Lifecycle ids of the workers (empty when attached by URL)."""
        return self._worker_ids

    @property
    def can_inject_faults(self) -> bool:
        return self._faults is not None

    def instance_environment(self) -> Mapping[str, str]:
        """The pass-through environment every instance gets (e.g. TASKER_FAULTS), if known."""
        if self._faults is None:
            return {}
        return self._faults.lifecycle.settings.passthrough

    async def worker_ids(self) -> tuple[str, ...]:
        """Worker ids as steps report them in `processor_uuid`."""
        if self._worker_ids:
            return self._worker_ids
        healths = await asyncio.gather(*(w.health() for w in self.cluster.all_workers()))
        return tuple(h.worker_id or h.instance_id or "" for h in healths)

    # -- tasks ---------------------------------------------------------------------------------

    async def create_tasks_concurrent(
        self,
        requests: Iterable[TaskRequest | Mapping[str, object]],
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> list[TaskCreated]:
        """Create tasks through the cluster's strategy, `concurrency` at a time, in order.

        Every creation runs to its end; then the first failure, if any, is raised.
        """
        limit = asyncio.Semaphore(max(1, concurrency))

        async def create(request: TaskRequest | Mapping[str, object]) -> TaskCreated:
            async with limit:
                return await self.cluster.create_task(request)

        results = await asyncio.gather(*(create(r) for r in requests), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures[1:]:
            logger.error("another creation failed too: %s", failure)
        if failures:
            raise failures[0]
        return [r for r in results if isinstance(r, TaskCreated)]

    async def wait_for_task_completion(self, task_uuid: UuidLike, timeout: float = 30.0) -> Task:
        """Poll until the task is terminal (complete, error, cancelled, resolved_manually)."""
        finished = await wait_for_terminal(self.cluster.all_clients(), [task_uuid], timeout)
        return next(iter(finished.values()))

    async def wait_for_task_completions(
        self, task_uuids: Iterable[UuidLike], timeout: float = 60.0
    ) -> dict[uuid.UUID, Task]:
        """Poll until every task is terminal; the timeout error lists the stuck ones."""
        return await wait_for_terminal(self.cluster.all_clients(), task_uuids, timeout)

    async def verify_task_consistency(self, task_uuid: UuidLike) -> TaskSnapshot:
        """Every orchestration instance reports the same status, steps and transitions."""
        labels = {i: self.instance_label(i) for i in range(self.orchestration_count)}
        return await verify_consistency(self.cluster.all_clients(), labels, task_uuid)

    # -- fault injection -----------------------------------------------------------------------

    def faults(self, operation: str = "inject faults") -> FaultInjector:
        if self._faults is None:
            raise ManagerStateError(
                operation,
                self._no_faults_reason,
                "Attach through the cluster's directory (TASKER_CLUSTER_DIR or "
                "--tasker-cluster-dir) to control its processes.",
            )
        return self._faults

    def kill_instance(self, instance_id: str, signum: int = signal.SIGKILL) -> None:
        """Signal the instance's process group; SIGKILL and SIGTERM wait until it is gone."""
        self.faults(f"kill {instance_id}").kill(instance_id, signum)

    async def restart_instance(
        self, instance_id: str, env: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        """Restart an instance (dead or alive), with extra environment if given; waits healthy."""
        await self.faults(f"restart {instance_id}").restart(instance_id, env, timeout)

    def pause_instance(self, instance_id: str) -> None:
        """SIGSTOP the instance: it holds its connections but answers nothing."""
        self.faults(f"pause {instance_id}").pause(instance_id)

    def resume_instance(self, instance_id: str) -> None:
        self.faults(f"resume {instance_id}").resume(instance_id)

    async def heal(self, timeout: float = 60.0) -> tuple[str, ...]:
        """Resume paused instances and start those of a managed cluster that are not running.

        Returns the ids it started; an attached cluster is only resumed, never started.
        """
        if self._faults is None:
            return ()
        self._faults.resume_all()
        if not self._owns_processes:
            return ()
        lifecycle = self._faults.lifecycle
        report = await asyncio.to_thread(lambda: lifecycle.start(timeout=timeout))
        if report.started:
            logger.warning("restarted instances a test left stopped: %s", ", ".join(report.started))
        return report.started

    @contextmanager
    def paused(self, instance_id: str) -> Iterator[None]:
        with self.faults(f"pause {instance_id}").paused(instance_id):
            yield

    @asynccontextmanager
    async def restarted_with_env(
        self, instance_ids: Sequence[str], env: Mapping[str, str], timeout: float = 60.0
    ) -> AsyncIterator[None]:
        """Inside the block the instances run with `env` added; afterwards as before."""
        faults = self.faults(f"restart {', '.join(instance_ids)} with {dict(env)}")
        async with faults.restarted_with_env(instance_ids, env, timeout):
            yield


def _log_failure(what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:
        logger.exception("could not %s", what)
