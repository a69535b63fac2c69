"""Poll tasks until they are terminal, tolerating instances that are briefly unreachable."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterable, Sequence

from tasker_cluster.client.api import ApiMethods, UuidLike
from tasker_cluster.client.errors import ApiError, InstanceUnreachableError, TaskTimeoutError
from tasker_cluster.client.models import Task
from tasker_cluster.wait import WaitTimeoutError, wait_for_async

DEFAULT_POLL_INTERVAL = 0.1
MAX_CONCURRENT_POLLS = 16
UNREAD = "never read"


async def wait_for_terminal(
    clients: Sequence[ApiMethods],
    task_uuids: Iterable[UuidLike],
    timeout: float,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> dict[uuid.UUID, Task]:
    """Poll until every task is terminal; each round asks the next client in turn.

    An unreachable instance or an API error counts as "not terminal yet", so a wait survives an
    instance being killed and restarted; a task that was never read reports the last error.
    Raises `TaskTimeoutError` listing every task that is still not terminal, with its state.
    """
    wanted = [uuid.UUID(str(task_uuid)) for task_uuid in task_uuids]
    last_seen: dict[uuid.UUID, str] = dict.fromkeys(wanted, UNREAD)
    finished: dict[uuid.UUID, Task] = {}
    limit = asyncio.Semaphore(MAX_CONCURRENT_POLLS)
    rotation = itertools.cycle(clients)

    async def poll(task_uuid: uuid.UUID, client: ApiMethods) -> None:
        async with limit:
            try:
                task = await client.get_task(task_uuid)
            except (ApiError, InstanceUnreachableError) as error:
                if last_seen[task_uuid].startswith(UNREAD):
                    last_seen[task_uuid] = f"{UNREAD}: {error}"
                return
        last_seen[task_uuid] = task.status
        if task.is_terminal:
            finished[task_uuid] = task

    async def poll_round() -> dict[uuid.UUID, Task] | None:
        pending = [task_uuid for task_uuid in wanted if task_uuid not in finished]
        await asyncio.gather(*(poll(task_uuid, next(rotation)) for task_uuid in pending))
        if all(task_uuid in finished for task_uuid in wanted):
            return {task_uuid: finished[task_uuid] for task_uuid in wanted}
        return None

    try:
        return await wait_for_async(
            poll_round, timeout, "tasks to be terminal", interval=poll_interval
        )
    except WaitTimeoutError:
        stuck = {str(u): last_seen[u] for u in wanted if u not in finished}
        raise TaskTimeoutError(timeout, stuck) from None
