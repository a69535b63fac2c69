"""`MultiInstanceTestManager` and the typed API against real orchestration processes."""

from __future__ import annotations

import dataclasses
import re
import signal
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from tasker_cluster.testing import (
    ApiError,
    InconsistentStateError,
    InstanceUnreachableError,
    ManagerStateError,
    MultiInstanceTestManager,
    TaskRequest,
    TaskTimeoutError,
)
from tasker_cluster.testing.errors import UnknownInstanceError
from tasker_cluster.testing.free_ports import free_port_range

from .fake_processes import is_running

pytestmark = pytest.mark.slow

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(scope="module")
def idle_cluster(tasker_run: Run) -> Iterator[MultiInstanceTestManager]:
    """Two orchestration instances and no workers: tasks stay where the test puts them."""
    manager = MultiInstanceTestManager()
    tasker_run(manager.setup(orchestration=2, workers=0))
    yield manager
    tasker_run(manager.aclose())


async def test_typed_api_round_trip(idle_cluster: MultiInstanceTestManager) -> None:
    cluster = idle_cluster.cluster
    created = await cluster.client(0).create_task(TaskRequest.mathematical_sequence(4))
    assert created.status == "pending" and created.task.total_steps == 4
    assert sorted(created.step_mapping) == [f"linear_step_{n}" for n in range(1, 5)]

    task = await cluster.client(1).get_task(created.task_uuid)
    assert (task.name, task.namespace, task.context) == (
        "mathematical_sequence",
        "linear_workflow",
        {"even_number": 4},
    )
    steps = await cluster.list_steps(created.task_uuid)
    assert {s.name: s.step_uuid for s in steps} == created.step_mapping
    first = await cluster.get_step(created.task_uuid, created.step_mapping["linear_step_1"])
    assert first.current_state == "enqueued"
    audit = await cluster.step_transitions(created.task_uuid, first.step_uuid)
    assert [(t.from_state, t.to_state) for t in audit][-1] == ("pending", "enqueued")
    page = await cluster.list_tasks(namespace="linear_workflow", per_page=100)
    assert created.task_uuid in {t.task_uuid for t in page.tasks}

    cancelled = await cluster.cancel_task(created.task_uuid)
    assert (cancelled.task_uuid, cancelled.status) == (created.task_uuid, "cancelled")
    again = await cluster.cancel_task(created.task_uuid)  # changes nothing, answers the task
    assert (again.task_uuid, again.status) == (created.task_uuid, "cancelled")
    history = await cluster.task_transitions(created.task_uuid)
    assert history[-1].to_state == "cancelled"
    assert {t.processor for t in history} <= set(idle_cluster.orchestration_ids)


async def test_health_templates_metrics_and_errors(idle_cluster: MultiInstanceTestManager) -> None:
    cluster = idle_cluster.cluster
    healths = [await c.health() for c in cluster.all_clients()]
    assert [h.instance_id for h in healths] == ["orchestration-1", "orchestration-2"]
    names = {(t.namespace, t.name) for t in await cluster.templates()}
    assert ("load_testing", "fan_out") in names
    before = (await cluster.client(0).metrics()).total("tasker_tasks_created_total")
    await cluster.client(0).create_task(TaskRequest.sleep(0))
    after = await cluster.client(0).metrics()
    assert after.total("tasker_tasks_created_total", instance="orchestration-1") == before + 1
    with pytest.raises(ApiError) as unknown:
        await cluster.create_task(dataclasses.replace(TaskRequest.sleep(0), name="nope"))
    assert unknown.value.status == 404
    assert "nope" in unknown.value.message


async def test_wait_times_out_naming_the_stuck_task(idle_cluster: MultiInstanceTestManager) -> None:
    created = await idle_cluster.cluster.create_task(TaskRequest.sleep(0))
    with pytest.raises(TaskTimeoutError) as caught:
        await idle_cluster.wait_for_task_completion(created.task_uuid, timeout=0.3)
    assert str(caught.value) == (
        f"1 task(s) not terminal after 0.3 s: {created.task_uuid} (steps_in_process)"
    )


async def test_kill_and_restart_an_instance(idle_cluster: MultiInstanceTestManager) -> None:
    victim = idle_cluster.faults().record("orchestration-2")
    idle_cluster.kill_instance("orchestration-2")
    assert not is_running(victim.pid)
    assert "orchestration-2" not in {r.instance_id for r in idle_cluster.faults().records()}
    with pytest.raises(InstanceUnreachableError, match=r"connection (refused|reset)"):
        await idle_cluster.cluster.client(1).health()

    await idle_cluster.restart_instance("orchestration-2")
    assert (await idle_cluster.cluster.client(1).health()).instance_id == "orchestration-2"
    assert idle_cluster.faults().record("orchestration-2").pid != victim.pid


async def test_a_paused_instance_answers_again_after_resume(
    idle_cluster: MultiInstanceTestManager,
) -> None:
    url = idle_cluster.cluster.urls[1]
    with idle_cluster.paused("orchestration-2"):
        status = psutil.Process(idle_cluster.faults().record("orchestration-2").pid).status()
        assert status == psutil.STATUS_STOPPED
        assert await idle_cluster.cluster.probe(url, 0.3) == "timed out (ReadTimeout)"
    assert await idle_cluster.cluster.probe(url, 5.0) is None


async def test_restart_with_extra_environment_and_back(
    idle_cluster: MultiInstanceTestManager,
) -> None:
    log = idle_cluster.faults().lifecycle.log_path("orchestration-1")
    async with idle_cluster.restarted_with_env(
        ["orchestration-1"], {"TASKER_FAULTS": "stale_reads"}
    ):
        assert re.findall(r"faults: (\w+)", log.read_text())[-1] == "stale_reads"
    assert re.findall(r"faults: (\w+)", log.read_text())[-1] == "none"


def test_unknown_instances_are_named(idle_cluster: MultiInstanceTestManager) -> None:
    with pytest.raises(UnknownInstanceError) as caught:
        idle_cluster.kill_instance("orchestration-9", signal.SIGTERM)
    assert str(caught.value) == (
        "unknown instance 'orchestration-9'; the cluster has: orchestration-1, orchestration-2"
    )


async def test_attach_by_directory_and_by_url(idle_cluster: MultiInstanceTestManager) -> None:
    by_dir = await MultiInstanceTestManager().setup_from_env(
        {"TASKER_CLUSTER_DIR": str(idle_cluster.cluster_dir)}
    )
    async with by_dir:
        assert by_dir.cluster.urls == idle_cluster.cluster.urls
        assert by_dir.orchestration_ids == idle_cluster.orchestration_ids
    by_url = await MultiInstanceTestManager().setup_from_env(
        {"TASKER_TEST_ORCHESTRATION_URLS": ",".join(idle_cluster.cluster.urls)}
    )
    async with by_url:
        with pytest.raises(ManagerStateError) as caught:
            by_url.kill_instance("orchestration-1")
    assert str(caught.value) == (
        "cannot kill orchestration-1: the cluster was attached by URL "
        "(TASKER_TEST_ORCHESTRATION_URLS), so its processes are unknown. Attach through the "
        "cluster's directory (TASKER_CLUSTER_DIR or --tasker-cluster-dir) to control its "
        "processes."
    )
    assert all(is_running(r.pid) for r in idle_cluster.faults().records())


async def test_inconsistency_is_reported_and_teardown_cleans_up() -> None:
    manager = MultiInstanceTestManager()
    await manager.setup(orchestration=2, workers=0, env={"TASKER_FAULTS": "stale_reads"})
    cluster_dir = manager.cluster_dir
    assert cluster_dir is not None
    pids = [r.pid for r in manager.faults().records()]
    created = await manager.cluster.client(0).create_task(TaskRequest.sleep(0))
    cached = await manager.cluster.client(1).get_task(created.task_uuid)
    await manager.cluster.client(0).cancel_task(created.task_uuid)
    with pytest.raises(InconsistentStateError) as caught:
        await manager.verify_task_consistency(created.task_uuid)
    first, second = manager.cluster.urls
    assert str(caught.value) == (
        f"task {created.task_uuid}: status differs between instances: orchestration-1 "
        f"({first}) reports 'cancelled', orchestration-2 ({second}) reports {cached.status!r}"
    )
    await manager.aclose()
    manager.teardown()
    assert all(not is_running(pid) for pid in pids)
    assert not cluster_dir.exists()


@pytest.mark.postgres
async def test_postgres_database_is_created_and_dropped() -> None:
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    async with MultiInstanceTestManager() as manager:
        await manager.setup(orchestration=1, workers=0, db="postgres")
        url = manager.database_url
        assert url is not None and url.startswith("postgresql://")
        name = url.rsplit("/", 1)[1]
        created = await manager.cluster.create_task(TaskRequest.sleep(0))
        assert (await manager.cluster.get_task(created.task_uuid)).status != ""
    with psycopg.connect(admin) as connection:
        row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert row is None, f"database {name} was not dropped"


def test_cluster_before_setup_says_what_to_do() -> None:
    with pytest.raises(ManagerStateError, match=r"cannot use the cluster client: .* setup\(\)"):
        _ = MultiInstanceTestManager().cluster


async def test_env_file_gives_legacy_names_and_configured_ports(tmp_path: Path) -> None:
    orchestration_port = free_port_range(1)
    worker_port = free_port_range(1, avoid={orchestration_port})
    env_file = tmp_path / "legacy.env"
    env_file.write_text(
        "TASKER_MULTI_INSTANCE_MODE=false\n"
        f"TASKER_ORCHESTRATION_BASE_PORT={orchestration_port}\n"
        f"TASKER_WORKER_PYTHON_BASE_PORT={worker_port}\n"
    )
    async with MultiInstanceTestManager() as manager:
        await manager.setup(orchestration=1, workers=1, env_file=env_file, free_ports=False)
        assert manager.orchestration_ids == ("orchestration",)
        assert manager.worker_instance_ids == ("python-worker",)
        assert manager.cluster.urls == (f"http://127.0.0.1:{orchestration_port}",)
        assert manager.cluster.config.worker_urls == (f"http://127.0.0.1:{worker_port}",)
        assert (await manager.cluster.worker(0).health()).worker_id == "python-worker"
