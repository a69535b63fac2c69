"""`MultiInstanceTestManager`: task helpers, consistency checks and fault injection for tests."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from tasker_cluster.testing.api import UuidLike
from tasker_cluster.testing.consistency import TaskSnapshot, verify_consistency
from tasker_cluster.testing.errors import ManagerStateError
from tasker_cluster.testing.fault_injection import FaultInjector
from tasker_cluster.testing.manager_base import ManagerBase
from tasker_cluster.testing.models import Task, TaskCreated
from tasker_cluster.testing.task_request import TaskRequest
from tasker_cluster.testing.waiting import wait_for_terminal

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 10


class MultiInstanceTestManager(ManagerBase):
    """A cluster for tests: create and wait for tasks, compare instances, inject faults.

    Instance ids are those of the lifecycle library (`orchestration-1`, `worker-python-2`, ...).
    """

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
        return None if self._cluster_dir is None else self._cluster_dir / ".logs"

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
        report = await asyncio.to_thread(self._faults.lifecycle.start, None, True, timeout)
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
