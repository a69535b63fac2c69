"""SIGTERM: stop claiming, finish or hand back in-flight work, exit 0; nothing is lost."""

from __future__ import annotations

import signal
from typing import Any

import httpx

from .inspection import invariants, query
from .support import ServiceFactory, create_task, step_mapping, wait_for_task, wait_until


def _step_state(client: httpx.Client, url: str, created: dict[str, Any]) -> str:
    step_uuid = next(iter(step_mapping(created).values()))
    path = f"{url}/v1/tasks/{created['task_uuid']}/workflow_steps/{step_uuid}"
    return str(client.get(path).json()["current_state"])


def test_a_terminated_worker_finishes_short_steps_and_hands_back_long_ones(
    services: ServiceFactory, database_url: str
) -> None:
    orchestration = services.orchestration("orchestration-1", database_url)
    first = services.worker("worker-python-1", database_url, TASKER_WORKER_CONCURRENCY="2")
    url = orchestration.url
    with httpx.Client(timeout=10) as client:
        short = create_task(client, url, "load_testing", "sleep", {"seconds": 0.5})
        long = create_task(client, url, "load_testing", "sleep", {"seconds": 6})
        wait_until(
            lambda: all(_step_state(client, url, t) == "in_progress" for t in (short, long)),
            30,
            what="both steps to run on the first worker",
        )
        first.signal(signal.SIGTERM)
        assert first.wait(30) == 0
        assert "released 1 unfinished steps for redelivery" in first.log()
        assert wait_for_task(client, url, short["task_uuid"]) == "complete"
        assert _step_state(client, url, long) == "in_progress"
        services.worker("worker-python-2", database_url)
        assert wait_for_task(client, url, long["task_uuid"]) == "complete"
    found = invariants(database_url)
    long_step = next(iter(step_mapping(long).values()))
    assert found.claims[long_step] == 1 and found.redeliveries[long_step] == 1
    assert found.step_workers[long_step] == "worker-python-2"
    assert found.steps_completed_more_than_once() == {}


def test_a_terminated_orchestrator_exits_cleanly_and_hands_its_tasks_over(
    services: ServiceFactory, database_url: str
) -> None:
    first = services.orchestration("orchestration-1", database_url)
    with httpx.Client(timeout=10) as client:
        created = create_task(client, first.url, "load_testing", "fan_out", {"width": 3})
        task_uuid = created["task_uuid"]
        wait_until(
            lambda: query(database_url, "SELECT claimed_by FROM tasks") == [("orchestration-1",)],
            30,
            what="the first instance to own the task",
        )
        first.signal(signal.SIGTERM)
        assert first.wait(30) == 0
        assert "released 1 task leases" in first.log()
        assert query(database_url, "SELECT claimed_by FROM tasks") == [(None,)]
        second = services.orchestration("orchestration-2", database_url)
        services.worker("worker-python-1", database_url)
        assert wait_for_task(client, second.url, task_uuid) == "complete"
    processors = query(
        database_url,
        "SELECT processor FROM task_transitions WHERE task_uuid = ? AND to_state = 'complete'",
        (task_uuid,),
    )
    assert processors == [("orchestration-2",)]
