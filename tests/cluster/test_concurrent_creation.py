"""Tasks created concurrently across the instances get distinct uuids and are spread evenly."""

from __future__ import annotations

import asyncio
from collections import Counter

from tasker_cluster.testing import MultiInstanceTestManager, RoundRobin, TaskCreated, TaskRequest

TASKS = 50


async def test_concurrent_creations_get_unique_uuids_round_robin(
    tasker_cluster: MultiInstanceTestManager,
) -> None:
    cluster = tasker_cluster.cluster
    round_robin = cluster.with_strategy(RoundRobin())
    before = cluster.request_counts()
    results = await asyncio.gather(
        *(round_robin.create_task(TaskRequest.mathematical_sequence(2)) for _ in range(TASKS)),
        return_exceptions=True,
    )
    after = cluster.request_counts()

    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} of {TASKS} concurrent creations failed, first: {failed[0]}"
    uuids = [r.task_uuid for r in results if isinstance(r, TaskCreated)]
    repeated = {str(u): n for u, n in Counter(uuids).items() if n > 1}
    assert not repeated, f"task uuids handed out more than once (uuid: times): {repeated}"
    served = {url: after[url] - before[url] for url in cluster.urls}
    assert sum(served.values()) == TASKS, served
    assert max(served.values()) - min(served.values()) <= 1, f"creations per instance: {served}"

    finals = await tasker_cluster.wait_for_task_completions(uuids, timeout=90)
    ended = {str(u): t.status for u, t in finals.items() if t.status != "complete"}
    assert not ended, f"tasks that did not complete: {ended}"
