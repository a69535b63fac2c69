"""Follow created tasks to a terminal state with few requests.

Each round reads the oldest outstanding tasks (tasks mostly finish in creation order) plus a
rotating slice of the rest (so a slow task never hides the ones behind it), `concurrency` at a
time. A round in which half the tasks read had finished is followed by the next at once; one
with some finished waits `interval`; one with none waits twice as long as the last wait, up to
`max_interval`. Following thus costs about one request per task plus a few per second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from tasker_cluster.client.api import UuidLike
from tasker_cluster.client.errors import ApiError, ClientError
from tasker_cluster.client.models import Task
from tasker_cluster.load.report import Cost
from tasker_cluster.load.tracking import TrackedTask, Tracker

NOT_FOUND = 404
LOST_AFTER_NOT_FOUND = 3


class TaskReader(Protocol):
    """What following needs of `OrchestrationCluster`."""

    async def get_task(self, task_uuid: UuidLike) -> Task: ...


class Follower:
    def __init__(
        self,
        cluster: TaskReader,
        tracker: Tracker,
        *,
        concurrency: int = 8,
        interval: float = 0.2,
        max_interval: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._cluster = cluster
        self._tracker = tracker
        self._concurrency = concurrency
        self._interval = interval
        self._max_interval = max_interval
        self._sleep = sleep
        self._cursor = 0
        self._not_found: dict[str, int] = {}
        self.requests = 0

    async def run(self, deadline: float, on_round: Callable[[], None] | None = None) -> Cost:
        started = time.monotonic()
        slots = asyncio.Semaphore(self._concurrency)
        wait = self._interval
        while not self._tracker.finished and time.monotonic() < deadline:
            batch = self._next_batch()
            finished = 0
            if batch:
                results = await asyncio.gather(*(self._poll(task, slots) for task in batch))
                finished = sum(results)
            if on_round is not None:
                on_round()
            if batch and finished * 2 >= len(batch):
                wait = self._interval
                continue
            wait = self._interval if finished else min(wait * 2, self._max_interval)
            await self._sleep(min(wait, max(0.0, deadline - time.monotonic())))
        return Cost(self.requests, round(time.monotonic() - started, 3))

    def _next_batch(self) -> list[TrackedTask]:
        outstanding = self._tracker.outstanding()
        size = self._concurrency
        oldest = outstanding[: size // 2]
        rest = outstanding[size // 2 :]
        if not rest:
            return oldest
        if self._cursor >= len(rest):
            self._cursor = 0
        rotating = rest[self._cursor : self._cursor + size - len(oldest)]
        self._cursor += len(rotating)
        return oldest + rotating

    async def _poll(self, task: TrackedTask, slots: asyncio.Semaphore) -> bool:
        """Read one task; True when it is (now) terminal or lost."""
        async with slots:
            self.requests += 1
            try:
                found = await self._cluster.get_task(task.task_uuid)
            except ApiError as error:
                if error.status == NOT_FOUND:
                    misses = self._not_found.get(task.task_uuid, 0) + 1
                    self._not_found[task.task_uuid] = misses
                    task.lost = misses >= LOST_AFTER_NOT_FOUND
                    return task.lost
                return False
            except ClientError:
                return False  # unreachable or paused instance: read again next round
        self._not_found.pop(task.task_uuid, None)
        task.status = found.status
        task.created_at = found.created_at or task.created_at
        task.completed_at = found.completed_at
        return task.terminal
