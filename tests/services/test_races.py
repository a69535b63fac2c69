"""Several processes racing for the same work: claims, finalization, a crashed orchestrator."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from tasker_cluster.exactly_once import once

from .fan_out import run_fan_out
from .inspection import invariants
from .support import ServiceFactory, create_task, metric_value, wait_for_task, wait_until


def test_workers_racing_for_the_same_steps_claim_each_once(
    services: ServiceFactory, database_url: str
) -> None:
    orchestration = services.orchestration("orchestration-1", database_url)
    workers = [
        services.worker(f"worker-python-{n}", database_url, TASKER_WORKER_CONCURRENCY="2")
        for n in range(1, 5)
    ]

    run = run_fan_out([orchestration.url], count=12, width=25, timeout=120)

    found = invariants(database_url)
    assert len(found.step_attempts) == 12 * 26
    assert all(once(found.claims[step]) for step in found.step_attempts)
    assert found.redeliveries == {}
    assert found.steps_completed_more_than_once() == {}
    used = {worker for worker in found.step_workers.values() if worker}
    assert used <= {worker.instance_id for worker in workers} and len(used) > 1
    with httpx.Client(timeout=10) as client:
        claimed = sum(metric_value(client, w.url, "tasker_steps_claimed_total") for w in workers)
    assert claimed == 12 * 26
    assert len(run.task_uuids) == 12


async def _states(urls: list[str], task_uuid: str) -> list[tuple[object, ...]]:
    async with httpx.AsyncClient(timeout=10) as client:
        bodies = await asyncio.gather(
            *(client.get(f"{url}/v1/tasks/{task_uuid}") for url in urls),
            *(client.get(f"{url}/v1/tasks/{task_uuid}/transitions") for url in urls),
        )
    tasks, histories = bodies[: len(urls)], bodies[len(urls) :]
    return [
        (task.json()["status"], task.json()["completed_steps"], history.text)
        for task, history in zip(tasks, histories, strict=True)
    ]


def test_orchestrators_racing_to_finalize_finalize_each_task_once(
    services: ServiceFactory, database_url: str
) -> None:
    orchestrators = [services.orchestration(f"orchestration-{n}", database_url) for n in (1, 2, 3)]
    services.worker("worker-python-1", database_url, TASKER_WORKER_CONCURRENCY="8")
    urls = [service.url for service in orchestrators]

    run = run_fan_out(urls, count=30, width=4, timeout=120)

    found = invariants(database_url)
    assert all(once(found.task_completions[task]) for task in run.task_uuids)
    with httpx.Client(timeout=10) as client:
        finalized = [metric_value(client, url, "tasker_tasks_completed_total") for url in urls]
    assert sum(finalized) == 30, f"finalizations per instance: {finalized}"
    for task_uuid in run.task_uuids[:10]:
        states = asyncio.run(_states(urls, task_uuid))
        assert len(set(states)) == 1, f"instances disagree about {task_uuid}: {states}"


@pytest.mark.slow
def test_a_killed_orchestrator_loses_nothing(services: ServiceFactory, database_url: str) -> None:
    env = {"TASKER_TASK_LEASE_SECONDS": "2", "TASKER_VISIBILITY_TIMEOUT_SECONDS": "3"}
    # The victim creates the tasks and is woken by its own creations; the survivor only polls
    # (it finds the victim's expired leases by polling in any case), so it does not claim the
    # tasks first, as a survivor woken by every creation may, and leave the victim no work.
    victim, survivor = (
        services.start(
            "tasker_cluster.services.orchestration",
            f"orchestration-{n}",
            database_url,
            {**env, **wakeups},
        )
        for n, wakeups in ((1, {}), (2, {"TASKER_WAKEUPS": "off"}))
    )
    for n in (1, 2):
        services.worker(f"worker-python-{n}", database_url, TASKER_WORKER_CONCURRENCY="4")
    with httpx.Client(timeout=10) as client:
        created = [
            create_task(client, victim.url, "load_testing", "fan_out", {"width": 5, "sleep_ms": 50})
            for _ in range(30)
        ]
        wait_until(
            lambda: metric_value(client, victim.url, "tasker_steps_enqueued_total") >= 40,
            60,
            what="the victim to take on work",
        )
        victim.signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        for task in created:
            assert wait_for_task(client, survivor.url, task["task_uuid"], timeout=120) == "complete"
        taken_over = metric_value(client, survivor.url, "tasker_task_leases_taken_over_total")
    found = invariants(database_url)
    assert all(found.task_completions[task["task_uuid"]] == 1 for task in created)
    assert found.steps_claimed_more_than_once() == {}
    assert found.steps_completed_more_than_once() == {}
    assert taken_over > 0, "the survivor never had to take a lease over"
