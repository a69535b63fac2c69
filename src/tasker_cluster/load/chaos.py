"""Fault injection during a load run: seeded choice of victims, SIGKILL/SIGSTOP, recovery."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from tasker_cluster.load.chaos_spec import ChaosAction, ChaosSpec
from tasker_cluster.load.errors import NoVictimError
from tasker_cluster.load.report import FaultRecord
from tasker_cluster.wait import retry_async

_LOG = logging.getLogger(__name__)
RECOVERY_ATTEMPTS = 3
RECOVERY_RETRY_SECONDS = 1.0


class FaultTarget(Protocol):
    """What chaos needs from a cluster (`ClusterFaultTarget` adapts `Cluster`)."""

    def running(self, service: str | None = None) -> list[str]:
        """Ids of the running instances of `service` (of every service when None)."""
        ...

    def signal(self, instance_id: str, signum: int) -> None: ...

    def restart(self, instance_id: str) -> None: ...

    def rolling_restart(self, service: str) -> None:
        """Restart every instance of `service` one at a time, each healthy before the next."""
        ...


class ChaosRunner:
    """Runs every spec on its own schedule until `stop()`; victims are always brought back."""

    def __init__(
        self,
        specs: Sequence[ChaosSpec],
        target: FaultTarget,
        seed: int,
        clock: Callable[[], float] | None = None,
        recovery_retry_seconds: float = RECOVERY_RETRY_SECONDS,
    ) -> None:
        self._specs = tuple(specs)
        self._target = target
        self._seed = seed
        self._retry_seconds = recovery_retry_seconds
        self._origin = time.monotonic()
        self._clock = clock or (lambda: time.monotonic() - self._origin)
        self._stop = asyncio.Event()
        self._faults: list[FaultRecord] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def faults(self) -> list[FaultRecord]:
        return sorted(self._faults, key=lambda fault: fault.offset_s)

    def check_targets(self) -> None:
        """Fail before the run if a spec's service has no running instance."""
        for spec in self._specs:
            if not self._target.running(spec.service):
                raise NoVictimError(spec.service, sorted(self._target.running()))

    def start(self) -> None:
        """Start the schedules; fault offsets count from now."""
        self._origin = time.monotonic()
        for index, spec in enumerate(self._specs):
            rng = random.Random(f"{self._seed}:{index}:{spec.text}")
            self._tasks.append(asyncio.create_task(self._loop(spec, rng)))

    async def stop(self) -> list[FaultRecord]:
        """Stop scheduling, wait until every victim is back, return the faults in time order."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        return self.faults

    async def _loop(self, spec: ChaosSpec, rng: random.Random) -> None:
        fault_number = 0
        while True:
            fault_number += 1
            due = spec.every_s * fault_number
            if await self._stopped_within(due - self._clock()):
                return
            await self._inject(spec, rng)

    async def _stopped_within(self, seconds: float) -> bool:
        if self._stop.is_set():
            return True
        if seconds <= 0:
            return False
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _inject(self, spec: ChaosSpec, rng: random.Random) -> None:
        candidates = sorted(await asyncio.to_thread(self._target.running, spec.service))
        offset = self._clock()
        if not candidates:
            self._record(offset, spec, "-", None, "no running instance to hit")
            return
        if spec.action is ChaosAction.ROLLING_RESTART:
            await self._roll(spec, candidates, offset)
            return
        victim = rng.choice(candidates)
        first = signal.SIGKILL if spec.action is ChaosAction.KILL else signal.SIGSTOP
        try:
            await asyncio.to_thread(self._target.signal, victim, first)
        except Exception as error:  # a failed injection is reported, not fatal to the run
            self._record(offset, spec, victim, None, f"{first.name} failed: {error}")
            return
        _LOG.info("chaos: %s %s at %.2fs", spec.action, victim, offset)
        await self._stopped_within(spec.for_s)
        error_text = await self._recover(spec, victim)
        self._record(offset, spec, victim, None if error_text else self._clock(), error_text)

    async def _roll(self, spec: ChaosSpec, instances: Sequence[str], offset: float) -> None:
        """A deploy: every instance of the service restarted in turn, the rest serving."""
        _LOG.info("chaos: rolling restart of %s at %.2fs", spec.service, offset)
        try:
            await asyncio.to_thread(self._target.rolling_restart, spec.service)
        except Exception as error:  # reported in the fault list; the run goes on
            self._record(offset, spec, ",".join(instances), None, f"rolling restart: {error}")
            return
        self._record(offset, spec, ",".join(instances), self._clock(), None)

    async def _recover(self, spec: ChaosSpec, victim: str) -> str | None:
        """Restart (kill) or resume (pause) the victim; None when it is back."""

        async def recover(attempt: int) -> None:
            if spec.action is ChaosAction.KILL:
                await asyncio.to_thread(self._target.restart, victim)
            else:
                await asyncio.to_thread(self._target.signal, victim, signal.SIGCONT)

        def failed(attempt: int, error: Exception) -> None:
            _LOG.warning("chaos: recovering %s failed (attempt %d): %s", victim, attempt + 1, error)

        try:
            await retry_async(
                recover, RECOVERY_ATTEMPTS, pause=self._retry_seconds, on_retry=failed
            )
        except Exception as error:  # reported in the fault list; the run goes on
            failed(RECOVERY_ATTEMPTS - 1, error)
            return f"recovery failed: {error}"
        return None

    def _record(
        self,
        offset: float,
        spec: ChaosSpec,
        victim: str,
        restored: float | None,
        error: str | None,
    ) -> None:
        self._faults.append(
            FaultRecord(
                offset_s=round(offset, 3),
                action=str(spec.action),
                service=spec.service,
                instance_id=victim,
                restored_offset_s=None if restored is None else round(restored, 3),
                error=error,
            )
        )
