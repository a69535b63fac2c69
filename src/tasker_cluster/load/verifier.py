"""Collect the evidence of every task and check the invariants.

Exact, not sampled. From the run's database when it has one (`evidence_db`: a few queries in
all); else through the API: one transitions read per task and one per step (tasks x
(1 + steps) requests), with bounded concurrency spread over the orchestration instances.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.errors import ApiError, ClientError
from tasker_cluster.load.evidence_db import DatabaseEvidence
from tasker_cluster.load.invariants import (
    ALL_INVARIANTS,
    Row,
    TaskEvidence,
    Violation,
    check_task,
    finalizer,
    reused_uuids,
    step_runner,
)
from tasker_cluster.load.report import MAX_EXAMPLES, Cost, InvariantResult
from tasker_cluster.load.tracking import TrackedTask
from tasker_cluster.wait import retry_async

_LOG = logging.getLogger(__name__)
READ_ATTEMPTS = 3
READ_RETRY_PAUSE = 0.1


class _HasRaw(Protocol):
    @property
    def raw(self) -> Mapping[str, Any]: ...


Read = Callable[[], Awaitable[Sequence[_HasRaw]]]


@dataclass
class Verification:
    invariants: tuple[InvariantResult, ...]
    finalized_by: Counter[str] = field(default_factory=Counter)
    steps_by_worker: Counter[str] = field(default_factory=Counter)
    cost: Cost = field(default_factory=lambda: Cost(0, 0.0))


class EvidenceReader:
    def __init__(self, cluster: OrchestrationCluster, concurrency: int = 16) -> None:
        self._cluster = cluster
        self._slots = asyncio.Semaphore(concurrency)
        self.requests = 0

    async def _rows(self, read: Read) -> list[Row] | None:
        """Rows of one read, None on 404; transport errors are retried, then raised."""

        async def attempt_read(attempt: int) -> list[Row] | None:
            async with self._slots:
                self.requests += 1
                try:
                    entries = await read()
                except ApiError as error:
                    if error.status == 404:
                        return None
                    raise
            return [entry.raw for entry in entries]

        return await retry_async(
            attempt_read,
            READ_ATTEMPTS,
            retryable=lambda error: isinstance(error, ClientError),
            pause=lambda attempt: READ_RETRY_PAUSE * (attempt + 1),
        )

    async def evidence(self, task: TrackedTask) -> TaskEvidence:
        uuid = task.task_uuid
        if task.lost:
            return TaskEvidence(uuid, None)
        cluster = self._cluster
        transitions = await self._rows(partial(cluster.task_transitions, uuid))
        audits = await asyncio.gather(
            *(self._rows(partial(cluster.step_transitions, uuid, step)) for step in task.steps)
        )
        return TaskEvidence(
            task_uuid=uuid,
            status=task.status if transitions is not None else None,
            transitions=transitions or [],
            step_audits={s: a or [] for s, a in zip(task.steps, audits, strict=True)},
            step_names=task.steps,
        )


async def verify(
    cluster: OrchestrationCluster,
    tasks: Sequence[TrackedTask],
    concurrency: int = 16,
    database_url: str | None = None,
) -> Verification:
    """The invariants over every task. With the run's `database_url` the evidence is read in
    bulk from the database (a few queries in all); without it, or if that read fails (another
    schema: a tasker-core deployment), through the API (one read per task and per step)."""
    started = time.monotonic()
    distinct = list({task.task_uuid: task for task in tasks}.values())
    if database_url is not None:
        bulk = DatabaseEvidence(database_url)
        try:
            evidence = await asyncio.to_thread(bulk.read, distinct)
        except Exception as error:
            _LOG.info("bulk evidence from the database failed (%s); reading the API", error)
        else:
            result = summarize(evidence, [task.task_uuid for task in tasks])
            result.cost = Cost(bulk.queries, round(time.monotonic() - started, 3))
            return result
    reader = EvidenceReader(cluster, concurrency)
    task_slots = asyncio.Semaphore(concurrency)

    async def one(task: TrackedTask) -> TaskEvidence:
        async with task_slots:
            return await reader.evidence(task)

    evidence = await asyncio.gather(*(one(task) for task in distinct))
    result = summarize(evidence, [task.task_uuid for task in tasks])
    result.cost = Cost(reader.requests, round(time.monotonic() - started, 3))
    return result


def summarize(evidence: Sequence[TaskEvidence], created: Sequence[str] = ()) -> Verification:
    """Invariant results over all tasks; `created` lists the uuid of every creation."""
    violations: list[Violation] = reused_uuids(created)
    finalized_by: Counter[str] = Counter()
    steps_by_worker: Counter[str] = Counter()
    for item in evidence:
        violations.extend(check_task(item))
        processor = finalizer(item.transitions)
        if processor:
            finalized_by[processor] += 1
        for audit in item.step_audits.values():
            worker = step_runner(audit)
            if worker:
                steps_by_worker[worker] += 1
    results = []
    for invariant in ALL_INVARIANTS:
        broken = [v for v in violations if v.invariant == invariant.name]
        results.append(
            InvariantResult(
                name=invariant.name,
                description=invariant.description,
                violations=len(broken),
                examples=tuple(broken[:MAX_EXAMPLES]),
            )
        )
    return Verification(tuple(results), finalized_by, steps_by_worker)
