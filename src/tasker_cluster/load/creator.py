"""Create a run's tasks across the orchestration instances: bounded concurrency, optional rate."""

from __future__ import annotations

import asyncio
import logging
import time
from itertools import count

import httpx

from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.errors import ApiError, InstanceUnreachableError
from tasker_cluster.client.models import TaskCreated
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.tracking import TrackedTask, Tracker
from tasker_cluster.wait import retry_async

_LOG = logging.getLogger(__name__)
MAX_ERRORS_KEPT = 20
NOT_READY = 503
EXTRA_ATTEMPTS = 2
RETRY_ROUNDS = 4
RETRY_PAUSE = 0.05


async def create_tasks(
    cluster: OrchestrationCluster, spec: LoadSpec, tracker: Tracker, deadline: float
) -> None:
    """Send `spec.tasks` creations; creation i goes to instance i mod n first.

    Every creation carries its own idempotency key, so one that got no answer (connection
    refused or reset, server disconnected, timed out) or a 503 is sent again, with the same
    key, to the next instance: the first instance either stored nothing or stored the task,
    which the retry then answers. No creation is lost and none is made twice.
    """
    numbers = count()
    started = time.monotonic()

    async def sender() -> None:
        while (number := next(numbers)) < spec.tasks:
            if spec.rate is not None:
                await asyncio.sleep(max(0.0, started + number / spec.rate - time.monotonic()))
            if time.monotonic() >= deadline:
                record_create_error(tracker, f"task {number}: not sent, the run timed out")
                continue
            await _create_one(cluster, spec, tracker, number)

    try:
        await asyncio.gather(*(sender() for _ in range(min(spec.concurrency, spec.tasks))))
    finally:
        tracker.creating_done = True


async def _create_one(
    cluster: OrchestrationCluster, spec: LoadSpec, tracker: Tracker, number: int
) -> None:
    body = spec.task_request()
    instances = cluster.instance_count

    async def send(attempt: int) -> tuple[int, TaskCreated]:
        index = (number + attempt) % instances
        return index, await cluster.client(index).create_task(body)

    try:
        index, created = await retry_async(
            send,
            instances * RETRY_ROUNDS + EXTRA_ATTEMPTS,
            retryable=_safe_to_resend,
            pause=lambda attempt: RETRY_PAUSE * attempt,
        )
    except (InstanceUnreachableError, ApiError) as error:
        record_create_error(tracker, f"task {number}: {error}")
        return
    tracker.add(
        TrackedTask(
            task_uuid=str(created.task_uuid),
            step_count=created.step_count,
            created_by=index,
            created_at=created.created_at,
            steps={str(uuid): name for name, uuid in created.step_mapping.items()},
        )
    )


def _safe_to_resend(error: Exception) -> bool:
    """Whether a failed creation may be sent again: it got no answer at all (the instance may
    or may not have stored it; the idempotency key makes the resend answer the same task), or
    the instance said it is not ready."""
    if isinstance(error, InstanceUnreachableError):
        return isinstance(error.__cause__, httpx.TransportError)
    return isinstance(error, ApiError) and error.status == NOT_READY


def record_create_error(tracker: Tracker, message: str) -> None:
    _LOG.warning("creation failed: %s", message)
    tracker.create_errors += 1
    if len(tracker.create_error_examples) < MAX_ERRORS_KEPT:
        tracker.create_error_examples.append(message)
