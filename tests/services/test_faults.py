"""Each fault really breaks its guarantee, so the invariant checks are shown able to fail."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from .inspection import invariants, query
from .support import (
    FAN_OUT,
    ServiceFactory,
    create_task,
    metric_value,
    task_request,
    wait_for_task,
    wait_until,
)

pytestmark = pytest.mark.slow


def _create_many(url: str, count: int, width: int) -> list[str]:
    with httpx.Client(timeout=10) as client:
        return [
            create_task(client, url, "load_testing", "fan_out", {"width": width})["task_uuid"]
            for _ in range(count)
        ]


def test_no_claim_guard_lets_two_workers_run_one_step(
    services: ServiceFactory, sqlite_url: str
) -> None:
    orchestration = services.orchestration("orchestration-1", sqlite_url)
    for n in (1, 2, 3):
        services.worker(f"worker-python-{n}", sqlite_url, TASKER_FAULTS="no_claim_guard")
    _create_many(orchestration.url, 5, 4)
    doubled = wait_until(
        lambda: invariants(sqlite_url).steps_claimed_more_than_once(),
        60,
        what="a step claimed twice",
    )
    assert max(doubled.values()) > 1


def test_no_finalize_guard_finalizes_a_task_twice(
    services: ServiceFactory, sqlite_url: str
) -> None:
    urls = [
        services.orchestration(
            f"orchestration-{n}", sqlite_url, TASKER_FAULTS="no_finalize_guard"
        ).url
        for n in (1, 2, 3)
    ]
    services.worker("worker-python-1", sqlite_url, TASKER_WORKER_CONCURRENCY="8")
    _create_many(urls[0], 10, 2)
    twice = wait_until(
        lambda: invariants(sqlite_url).tasks_completed_more_than_once(),
        60,
        what="a task with two complete transitions",
    )
    assert max(twice.values()) > 1


def test_duplicate_results_are_recorded_not_applied(
    services: ServiceFactory, sqlite_url: str
) -> None:
    orchestration = services.orchestration("orchestration-1", sqlite_url)
    services.worker("worker-python-1", sqlite_url, TASKER_FAULTS="duplicate_results")
    with httpx.Client(timeout=10) as client:
        task = create_task(client, orchestration.url, "load_testing", "fan_out", {"width": 3})
        assert wait_for_task(client, orchestration.url, task["task_uuid"]) == "complete"
        wait_until(
            lambda: metric_value(client, orchestration.url, "tasker_duplicate_results_total") >= 4,
            30,
            what="the second copy of every result",
        )
        applied = metric_value(client, orchestration.url, "tasker_step_results_processed_total")
    assert applied == 4
    assert invariants(sqlite_url).steps_completed_more_than_once() == {}


def test_no_result_dedup_applies_a_result_twice(services: ServiceFactory, sqlite_url: str) -> None:
    orchestration = services.orchestration(
        "orchestration-1", sqlite_url, TASKER_FAULTS="no_result_dedup"
    )
    services.worker("worker-python-1", sqlite_url, TASKER_FAULTS="duplicate_results")
    _create_many(orchestration.url, 1, 3)
    twice = wait_until(
        lambda: invariants(sqlite_url).steps_completed_more_than_once(),
        60,
        what="a step completed twice",
    )
    assert max(twice.values()) == 2


async def _create_concurrently(url: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post(
                        f"{url}/v1/tasks", json=task_request(**FAN_OUT, context={"width": 1})
                    )
                    for _ in range(count)
                )
            )
        )


def test_weak_task_uuids_collide_under_concurrent_creation(
    services: ServiceFactory, sqlite_url: str
) -> None:
    orchestration = services.orchestration(
        "orchestration-1", sqlite_url, TASKER_FAULTS="weak_task_uuid"
    )
    responses = asyncio.run(_create_concurrently(orchestration.url, 10))
    collisions = [r for r in responses if r.status_code == 409]
    assert collisions, "ten creations in the same second did not collide"
    assert collisions[0].json()["error"]["kind"] == "task_uuid_collision"


def test_stale_reads_serve_an_outdated_task(services: ServiceFactory, sqlite_url: str) -> None:
    stale = services.orchestration("orchestration-1", sqlite_url, TASKER_FAULTS="stale_reads")
    fresh = services.orchestration("orchestration-2", sqlite_url)
    with httpx.Client(timeout=10) as client:
        task = create_task(client, stale.url, "load_testing", "sleep", {"seconds": 1})
        path = f"/v1/tasks/{task['task_uuid']}"
        before = client.get(stale.url + path).json()["status"]
        assert client.delete(fresh.url + path).status_code == 200
        assert client.get(fresh.url + path).json()["status"] == "cancelled"
        assert client.get(stale.url + path).json()["status"] == before != "cancelled"


def test_no_redelivery_loses_a_dead_workers_steps(
    services: ServiceFactory, sqlite_url: str
) -> None:
    orchestration = services.orchestration("orchestration-1", sqlite_url)
    victim = services.worker(
        "worker-python-1",
        sqlite_url,
        TASKER_FAULTS="no_redelivery",
        TASKER_VISIBILITY_TIMEOUT_SECONDS="1",
    )
    with httpx.Client(timeout=10) as client:
        task = create_task(client, orchestration.url, "load_testing", "sleep", {"seconds": 30})
    wait_until(
        lambda: query(sqlite_url, "SELECT current_state FROM workflow_steps") == [("in_progress",)],
        30,
        what="the step to start",
    )
    victim.signal(signal.SIGKILL)
    victim.wait(10)
    # Its claim has expired, but the message that would redeliver it is already gone.
    wait_until(
        lambda: (
            query(sqlite_url, "SELECT claim_expires_at FROM workflow_steps")[0][0] < time.time()
        ),
        10,
        what="the dead worker's claim to expire",
    )
    assert query(sqlite_url, "SELECT COUNT(*) FROM queue_messages") == [(0,)]
    assert task["task_uuid"]


def test_no_lease_expiry_strands_a_dead_orchestrators_tasks(
    services: ServiceFactory, sqlite_url: str
) -> None:
    env = {"TASKER_FAULTS": "no_lease_expiry", "TASKER_TASK_LEASE_SECONDS": "1"}
    victim = services.start(
        "tasker_cluster.services.orchestration", "orchestration-1", sqlite_url, env
    )
    with httpx.Client(timeout=10) as client:
        task = create_task(client, victim.url, "load_testing", "fan_out", {"width": 2})
    wait_until(
        lambda: (
            query(sqlite_url, "SELECT status, claimed_by FROM tasks")
            == [("steps_in_process", "orchestration-1")]
        ),
        30,
        what="the victim to own the task",
    )
    victim.signal(signal.SIGKILL)
    victim.wait(10)
    survivor = services.start(
        "tasker_cluster.services.orchestration", "orchestration-2", sqlite_url, env
    )
    services.worker("worker-python-1", sqlite_url)
    wait_until(
        lambda: (
            query(sqlite_url, "SELECT COUNT(*) FROM queue_messages") == [(0,)]
            and query(sqlite_url, "SELECT claim_expires_at FROM tasks")[0][0] < time.time() - 1
        ),
        30,
        what="every result to be applied and the lease to run out",
    )
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{survivor.url}/v1/tasks/{task['task_uuid']}").json()["status"] == (
            "steps_in_process"
        )
        assert metric_value(client, survivor.url, "tasker_task_leases_taken_over_total") == 0
    assert query(sqlite_url, "SELECT claimed_by FROM tasks") == [("orchestration-1",)]
