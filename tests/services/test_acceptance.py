"""Acceptance: 2 orchestration + 3 worker processes run 200 fan_out tasks exactly once."""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx
import pytest

from tasker_cluster.exactly_once import once

from .fan_out import FanOutRun, run_fan_out
from .inspection import invariants, query
from .support import ServiceFactory, ServiceProcess, metric_value

TASKS = 200
WIDTH = 10
logger = logging.getLogger(__name__)


def _start_cluster(
    services: ServiceFactory, database_url: str, env: dict[str, str]
) -> tuple[list[ServiceProcess], list[ServiceProcess]]:
    orchestrators = [
        services.start(
            "tasker_cluster.services.orchestration",
            f"orchestration-{n}",
            database_url,
            env,
            wait=False,
        )
        for n in (1, 2)
    ]
    workers = [
        services.start(
            "tasker_cluster.services.worker", f"worker-python-{n}", database_url, env, wait=False
        )
        for n in (1, 2, 3)
    ]
    for service in orchestrators + workers:
        service.wait_healthy()
    return orchestrators, workers


async def _task_states(urls: list[str], task_uuids: list[str]) -> list[dict[str, object]]:
    """Every task as every instance reports it (status, counts and step states)."""
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=30) as client:

        async def fetch(url: str, task_uuid: str) -> dict[str, object]:
            async with limit:
                response = await client.get(f"{url}/v1/tasks/{task_uuid}")
            assert response.status_code == 200, response.text
            body = response.json()
            return {
                "task_uuid": body["task_uuid"],
                "status": body["status"],
                "completed_steps": body["completed_steps"],
                "completed_at": body["completed_at"],
                "steps": [(s["workflow_step_uuid"], s["current_state"]) for s in body["steps"]],
            }

        return list(
            await asyncio.gather(*(fetch(url, task) for url in urls for task in task_uuids))
        )


def _check_exactly_once(run: FanOutRun, database_url: str, urls: list[str]) -> None:
    found = invariants(database_url)
    assert set(found.task_status) == set(run.task_uuids)
    assert set(found.task_status.values()) == {"complete"}
    assert len(found.step_attempts) == TASKS * (WIDTH + 1)
    assert found.steps_claimed_more_than_once() == {}
    assert all(once(found.claims[step]) for step in found.step_attempts), "a step was never claimed"
    assert found.steps_completed_more_than_once() == {}
    assert all(once(found.task_completions[task]) for task in run.task_uuids)
    assert found.tasks_completed_more_than_once() == {}
    first, second = (asyncio.run(_task_states([url], run.task_uuids)) for url in urls)
    assert first == second, "the orchestration instances disagree about task state"
    workers = {worker for worker in found.step_workers.values() if worker}
    assert len(workers) > 1, f"all steps ran on {workers}"
    logger.info(
        "%d fan_out tasks (width %d) in %.1f s: %.1f tasks/s, %.1f steps/s",
        TASKS,
        WIDTH,
        run.seconds,
        run.tasks_per_second,
        run.steps_per_second,
    )


@pytest.mark.slow
def test_two_orchestrators_three_workers_run_every_step_exactly_once(
    services: ServiceFactory, database_url: str
) -> None:
    orchestrators, _ = _start_cluster(services, database_url, {})
    urls = [service.url for service in orchestrators]

    run = run_fan_out(urls, TASKS, WIDTH, timeout=300)

    _check_exactly_once(run, database_url, urls)


@pytest.mark.slow
def test_worker_killed_mid_run_loses_and_duplicates_nothing(
    services: ServiceFactory, database_url: str
) -> None:
    env = {"TASKER_VISIBILITY_TIMEOUT_SECONDS": "3"}
    orchestrators, workers = _start_cluster(services, database_url, env)
    urls = [service.url for service in orchestrators]
    victim = workers[0]
    killed: list[int] = []

    def held_by_victim() -> int:
        rows = query(
            database_url,
            "SELECT COUNT(*) FROM workflow_steps WHERE current_state = 'in_progress'"
            " AND processor_uuid = ?",
            (victim.instance_id,),
        )
        return int(rows[0][0])

    def kill_part_way() -> None:
        if killed or metric_value(client, victim.url, "tasker_steps_claimed_total") < 100:
            return
        if held_by_victim() >= 3:  # 50 ms steps: they cannot all finish before the signal lands
            victim.signal(signal.SIGKILL)
            killed.append(victim.wait(10))

    with httpx.Client(timeout=10) as client:
        run = run_fan_out(urls, TASKS, WIDTH, timeout=300, during=kill_part_way, sleep_ms=50)

    assert killed == [-signal.SIGKILL], "the worker was not killed during the run"
    _check_exactly_once(run, database_url, urls)
    redelivered = invariants(database_url).redeliveries
    assert redelivered, "the killed worker held no step, so nothing was redelivered"
    finishers = {invariants(database_url).step_workers[step] for step in redelivered}
    assert victim.instance_id not in finishers, "a redelivered step is recorded on the dead worker"
