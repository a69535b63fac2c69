"""Load-balancing and health behaviour of `OrchestrationCluster` against real HTTP processes."""

from __future__ import annotations

import httpx
import pytest

from tasker_cluster.client.api import ApiMethods
from tasker_cluster.client.client import OrchestrationCluster
from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.errors import (
    ApiError,
    ClusterNotHealthyError,
    InstanceUnreachableError,
    NoHealthyInstanceError,
)
from tasker_cluster.client.strategies import FirstHealthy, Random, RoundRobin, Sticky, Strategy
from tasker_cluster.client.task_request import TaskRequest

from .fake_processes import FakeInstance, StartFakes

pytestmark = pytest.mark.slow


def cluster_of(fakes: list[FakeInstance], strategy: Strategy | None = None) -> OrchestrationCluster:
    config = ClusterConfig(
        tuple(fake.url for fake in fakes),
        strategy=strategy or RoundRobin(),
        health_retry_interval=0.05,
    )
    return OrchestrationCluster(config)


async def served_by(cluster: ApiMethods) -> str | None:
    return (await cluster.health()).instance_id


async def set_healthy(fake: FakeInstance, healthy: bool) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(fake.url + "/_fake/health", json={"healthy": healthy})
        response.raise_for_status()


async def test_round_robin_visits_instances_in_turn_and_counts_them(
    three_fakes: list[FakeInstance],
) -> None:
    fakes = three_fakes
    async with cluster_of(fakes) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        order = [await served_by(cluster) for _ in range(6)]
        counts = cluster.request_counts()
    assert order == ["fake-1", "fake-2", "fake-3"] * 2
    assert counts == {fake.url: 2 for fake in fakes}


async def test_seeded_random_repeats_its_choices(three_fakes: list[FakeInstance]) -> None:
    fakes = three_fakes
    sequences = []
    for _ in range(2):
        async with cluster_of(fakes, Random(seed=7)) as cluster:
            await cluster.wait_for_healthy(timeout=20)
            sequences.append([await served_by(cluster) for _ in range(12)])
    assert sequences[0] == sequences[1]
    assert len(set(sequences[0])) > 1


async def test_sticky_sends_every_call_for_a_key_to_one_instance(
    three_fakes: list[FakeInstance],
) -> None:
    fakes = three_fakes
    async with cluster_of(fakes, Sticky("tenant-42")) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        assert len({await served_by(cluster) for _ in range(5)}) == 1


async def test_first_healthy_skips_an_unhealthy_instance(three_fakes: list[FakeInstance]) -> None:
    fakes = three_fakes
    async with cluster_of(fakes, FirstHealthy(cache_seconds=0.0)) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        assert await served_by(cluster) == "fake-1"
        await set_healthy(fakes[0], False)
        try:
            created = await cluster.create_task(TaskRequest.fan_out(2))
            unhealthy = await cluster.probe(fakes[0].url)
        finally:
            await set_healthy(fakes[0], True)
    assert created.raw["served_by"] == "fake-2"
    assert unhealthy == "HTTP 503: fake-1 is switched to unhealthy"


async def test_first_healthy_fails_over_when_its_instance_dies(fake_instances: StartFakes) -> None:
    fakes = fake_instances(3)
    async with cluster_of(fakes, FirstHealthy(cache_seconds=60.0)) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        assert await served_by(cluster) == "fake-1"
        fakes[0].kill()
        after_kill = [await served_by(cluster) for _ in range(3)]
        counts = cluster.request_counts()
    assert after_kill == ["fake-2"] * 3
    assert counts[fakes[0].url] == 1
    assert counts[fakes[1].url] == 3


async def test_first_healthy_names_every_instance_when_none_is_healthy(
    fake_instances: StartFakes,
) -> None:
    fakes = fake_instances(2)
    async with cluster_of(fakes, FirstHealthy()) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        for fake in fakes:
            fake.kill()
        with pytest.raises(NoHealthyInstanceError) as caught:
            await cluster.get_task("00000000-0000-0000-0000-000000000001")
    message = str(caught.value)
    assert message.startswith("no healthy orchestration instance among 2 tried")
    for fake in fakes:
        assert f"{fake.url}: connection refused" in message


async def test_round_robin_reports_a_dead_instance_instead_of_skipping_it(
    fake_instances: StartFakes,
) -> None:
    fakes = fake_instances(2)
    async with cluster_of(fakes) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        fakes[0].kill()
        with pytest.raises(InstanceUnreachableError) as caught:
            await cluster.health()
    assert str(caught.value) == f"GET {fakes[0].url}/health failed: connection refused"


async def test_wait_for_healthy_names_only_the_dead_instance(fake_instances: StartFakes) -> None:
    fakes = fake_instances(2)
    fakes[1].kill()
    async with cluster_of(fakes) as cluster:
        with pytest.raises(ClusterNotHealthyError) as caught:
            await cluster.wait_for_healthy(timeout=1.5)
    error = caught.value
    assert list(error.last_errors) == [fakes[1].url]
    assert str(error) == (
        f"1 instance(s) not healthy after 1.5 s: {fakes[1].url} (last error: connection refused)"
    )


async def test_api_errors_carry_status_url_and_the_service_message(
    three_fakes: list[FakeInstance],
) -> None:
    fake = three_fakes[0]
    task_uuid = "11111111-2222-3333-4444-555555555555"
    async with cluster_of([fake]) as cluster:
        await cluster.wait_for_healthy(timeout=20)
        with pytest.raises(ApiError) as caught:
            await cluster.get_task(task_uuid)
        metrics = await cluster.metrics()
    error = caught.value
    assert (error.status, error.code) == (404, "task_not_found")
    assert error.url == f"{fake.url}/v1/tasks/{task_uuid}"
    assert error.message == f"task {task_uuid} not found"
    assert str(error) == f"GET {error.url} -> 404 task_not_found: task {task_uuid} not found"
    assert metrics.total("tasker_tasks_created_total", instance="fake-1") == 3.0
