"""Reading the histories the race tests assert on: claims, completions, metric totals.

What counts as a claim or a completion, and the exactly-once rules, are
`tasker_cluster.exactly_once`'s, the same the load run and the service tests check.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from tasker_cluster import exactly_once
from tasker_cluster.client.api import ApiMethods
from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.instance_clients import WorkerClient
from tasker_cluster.client.models import Step
from tasker_cluster.client.transitions import StepTransition, TaskTransition
from tasker_cluster.states import StepState

T = TypeVar("T")


def completions(history: Iterable[StepTransition | TaskTransition]) -> list[str]:
    """Who made each move to `complete` (worker for steps, orchestration instance for tasks)."""
    return [
        (t.processor if isinstance(t, TaskTransition) else t.worker_uuid) or "?"
        for t in exactly_once.completions(history)
    ]


def describe(audit: Sequence[StepTransition]) -> str:
    return ", ".join(f"{t.from_state}->{t.to_state} by {t.worker_uuid}" for t in audit)


async def step_audits(
    client: ApiMethods, task_uuid: uuid.UUID, steps: Sequence[Step]
) -> dict[str, tuple[StepTransition, ...]]:
    audits = await asyncio.gather(*(client.step_transitions(task_uuid, s.step_uuid) for s in steps))
    return {step.name: audit for step, audit in zip(steps, audits, strict=True)}


async def task_histories(
    client: ApiMethods, task_uuids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[TaskTransition, ...]]:
    histories = await asyncio.gather(*(client.task_transitions(u) for u in task_uuids))
    return dict(zip(task_uuids, histories, strict=True))


async def orchestration_total(cluster: OrchestrationCluster, name: str) -> float:
    pages = await asyncio.gather(*(c.metrics() for c in cluster.all_clients()))
    return sum(page.total(name) for page in pages)


async def worker_total(workers: Sequence[WorkerClient], name: str) -> float:
    pages = await asyncio.gather(*(w.metrics() for w in workers))
    return sum(page.total(name) for page in pages)


def not_complete(steps: Iterable[Step]) -> dict[str, str]:
    return {s.name: s.current_state for s in steps if s.current_state != StepState.COMPLETE}


async def poll_until(
    check: Callable[[], Awaitable[T | None]], timeout: float, what: str, interval: float = 0.05
) -> T:
    """Call `check` until it returns a value; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (value := await check()) is None:
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(interval)
    return value
