"""Driving many fan_out tasks through a running set of services and timing them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from .support import FAN_OUT, task_request, wait_until

CREATION_CONCURRENCY = 16


@dataclass(frozen=True)
class FanOutRun:
    task_uuids: list[str]
    created_via: dict[str, str]  # task uuid -> orchestration url it was created through
    seconds: float
    width: int

    @property
    def tasks_per_second(self) -> float:
        return len(self.task_uuids) / self.seconds

    @property
    def steps_per_second(self) -> float:
        return len(self.task_uuids) * (self.width + 1) / self.seconds


async def _create_all(urls: Sequence[str], count: int, context: dict[str, int]) -> dict[str, str]:
    limit = asyncio.Semaphore(CREATION_CONCURRENCY)
    created: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=30) as client:

        async def create(index: int) -> None:
            url = urls[index % len(urls)]
            async with limit:
                response = await client.post(
                    f"{url}/v1/tasks", json=task_request(**FAN_OUT, context=context)
                )
            assert response.status_code == 201, response.text
            created[response.json()["task_uuid"]] = url

        await asyncio.gather(*(create(index) for index in range(count)))
    return created


def run_fan_out(
    urls: Sequence[str],
    count: int,
    width: int,
    *,
    timeout: float,
    during: Callable[[], None] | None = None,
    sleep_ms: int = 0,
) -> FanOutRun:
    """Create `count` tasks round-robin over `urls` and wait until every one is complete.

    `during()` is called on every poll, e.g. to kill a worker part-way.
    """
    started = time.perf_counter()
    created = asyncio.run(_create_all(urls, count, {"width": width, "sleep_ms": sleep_ms}))
    assert len(created) == count, "task uuids collided"
    with httpx.Client(timeout=30) as client:

        def finished() -> bool:
            complete = _count(client, urls[0], "complete")
            failed = _count(client, urls[0], "error") + _count(client, urls[0], "cancelled")
            assert failed == 0, f"{failed} tasks ended in error or cancelled"
            if during is not None:
                during()
            return complete == count

        wait_until(finished, timeout, interval=0.25, what=f"{count} fan_out tasks to complete")
    return FanOutRun(list(created), created, time.perf_counter() - started, width)


def _count(client: httpx.Client, url: str, status: str) -> int:
    response = client.get(f"{url}/v1/tasks", params={"status": status, "per_page": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["pagination"]["total_count"])
