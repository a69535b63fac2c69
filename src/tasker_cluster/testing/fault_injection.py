"""Kill, pause, resume and restart instances of a cluster that runs from a cluster directory."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager

import psutil

from tasker_cluster.client.errors import ClusterNotHealthyError
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.process.records import InstanceRecord
from tasker_cluster.process.stop import wait_gone
from tasker_cluster.testing.errors import InstanceStillRunningError, UnknownInstanceError
from tasker_cluster.wait import Deadline, WaitTimeoutError, wait_for, wait_for_async

logger = logging.getLogger(__name__)

SettingsFactory = Callable[[Mapping[str, str]], ClusterSettings]
HealthProbe = Callable[[str, float], Awaitable[str | None]]
"""Probe a base URL with a timeout: None when healthy, else why not."""
EXIT_WAIT_SECONDS = 10.0
HEALTH_PROBE_SECONDS = 2.0


class FaultInjector:
    """Process-level faults through the `Cluster` facade.

    `settings_for(env)` builds the cluster's settings with extra instance environment; it is
    used to restart instances with, e.g., `TASKER_FAULTS` set for one test.
    """

    def __init__(
        self, lifecycle: Cluster, settings_for: SettingsFactory, probe: HealthProbe
    ) -> None:
        self.lifecycle = lifecycle
        self._settings_for = settings_for
        self._probe = probe
        self._paused: set[str] = set()

    def records(self) -> list[InstanceRecord]:
        return sorted(self.lifecycle.records(), key=lambda r: (r.service, r.number))

    def record(self, instance_id: str) -> InstanceRecord:
        for record in self.lifecycle.records():
            if record.instance_id == instance_id:
                return record
        raise UnknownInstanceError(instance_id, [r.instance_id for r in self.records()])

    def kill(self, instance_id: str, signum: int = signal.SIGKILL) -> None:
        """Signal the instance's process group; for SIGKILL/SIGTERM, wait until it is gone."""
        record = self.record(instance_id)
        self.lifecycle.signal(instance_id, signum)
        logger.info("sent %s to %s (pid %d)", signal.Signals(signum).name, instance_id, record.pid)
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self._paused.discard(instance_id)
            _wait_gone(record, EXIT_WAIT_SECONDS)

    def pause(self, instance_id: str) -> None:
        self.record(instance_id)
        record = self.record(instance_id)
        self.lifecycle.signal(instance_id, signal.SIGSTOP)
        self._paused.add(instance_id)
        _wait_stopped(record, stopped=True)

    def resume(self, instance_id: str) -> None:
        record = self.record(instance_id)
        self.lifecycle.signal(instance_id, signal.SIGCONT)
        self._paused.discard(instance_id)
        _wait_stopped(record, stopped=False)

    def resume_all(self) -> None:
        for instance_id in sorted(self._paused):
            try:
                self.resume(instance_id)
            except Exception:  # the instance may be gone; stopping will tell
                logger.exception("could not resume %s", instance_id)

    @contextmanager
    def paused(self, instance_id: str) -> Iterator[None]:
        self.pause(instance_id)
        try:
            yield
        finally:
            self.resume(instance_id)

    async def restart(
        self,
        instance_id: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> InstanceRecord:
        """Restart one instance (dead or alive) and return its new record once it is healthy."""
        return (await self.restart_many([instance_id], env, timeout))[0]

    async def restart_many(
        self,
        instance_ids: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> list[InstanceRecord]:
        """Restart instances, a whole service type in one go when all of it is asked for."""
        lifecycle = Cluster(self._settings_for(env or {})) if env else self.lifecycle
        self._paused.difference_update(instance_ids)
        for service, instance in self._selections(lifecycle, instance_ids):
            await asyncio.to_thread(
                lifecycle.restart, service, instance, wait=True, start_timeout=timeout
            )
        records = [self.record(instance_id) for instance_id in instance_ids]
        deadline = Deadline(timeout)
        for record in records:
            await self._wait_healthy(record, deadline)
        return records

    async def _wait_healthy(self, record: InstanceRecord, deadline: Deadline) -> None:
        """Probe until the restarted instance answers healthy, else `ClusterNotHealthyError`."""
        last_error: str | None = None

        async def healthy() -> bool:
            nonlocal last_error
            probe_timeout = max(0.05, min(HEALTH_PROBE_SECONDS, deadline.remaining()))
            last_error = await self._probe(record.url, probe_timeout)
            return last_error is None

        label = f"{record.instance_id} ({record.url})"
        try:
            await wait_for_async(healthy, deadline, f"{label} to be healthy", interval=0.1)
        except WaitTimeoutError:
            raise ClusterNotHealthyError(
                deadline.seconds, {label: last_error or "not healthy"}
            ) from None

    @staticmethod
    def _selections(
        lifecycle: Cluster, instance_ids: Sequence[str]
    ) -> list[tuple[str | None, str | None]]:
        """(service, instance) arguments of `Cluster.restart` covering `instance_ids`."""
        wanted = set(instance_ids)
        selections: list[tuple[str | None, str | None]] = []
        for service in {lifecycle.settings.service_of(i) for i in wanted}:
            members = {i.id for i in lifecycle.plan() if i.service == service}
            if service is not None and members and members <= wanted:
                selections.append((service, None))
                wanted -= members
        selections.extend((None, instance_id) for instance_id in sorted(wanted))
        return selections

    @asynccontextmanager
    async def restarted_with_env(
        self, instance_ids: Sequence[str], env: Mapping[str, str], timeout: float = 60.0
    ) -> AsyncIterator[None]:
        """Run `instance_ids` with extra environment inside the block, as before afterwards."""
        try:
            await self.restart_many(instance_ids, env, timeout)
            yield
        finally:
            await self.restart_many(instance_ids, None, timeout)


def _wait_gone(record: InstanceRecord, timeout: float) -> None:
    """Poll until the process is gone or a zombie (the restart waits for its port)."""
    try:
        process = psutil.Process(record.pid)
    except psutil.NoSuchProcess:
        return
    if wait_gone([process], Deadline(timeout)):
        raise InstanceStillRunningError(record.instance_id, record.pid, timeout)


def _wait_stopped(record: InstanceRecord, *, stopped: bool, seconds: float = 5.0) -> None:
    """Signals are delivered asynchronously: wait until the process is (no longer) stopped."""

    def settled() -> bool:
        try:
            return (psutil.Process(record.pid).status() == psutil.STATUS_STOPPED) is stopped
        except psutil.NoSuchProcess:
            return True

    state = "stopped" if stopped else "running again"
    try:
        wait_for(settled, seconds, f"{record.instance_id} to be {state}", interval=0.01)
    except WaitTimeoutError:
        logger.warning(
            "%s (pid %d) was not %s after %g s", record.instance_id, record.pid, state, seconds
        )
