"""Start, status, logs, restart and stop of real processes (the stand-in service)."""

from __future__ import annotations

import json
import signal

import httpx
import pytest

from tasker_cluster.cli.hints import explain
from tasker_cluster.cli.printer import to_json
from tasker_cluster.cluster.errors import NotRunningError
from tasker_cluster.cluster.status import InstanceState
from tasker_cluster.config.errors import UnknownServiceError
from tasker_cluster.process.stop import StopOutcome

from .helpers import ClusterFactory, assert_nothing_running, wait_until

pytestmark = pytest.mark.slow

IDS = [*(f"orchestration-{n}" for n in (1, 2, 3)), "worker-python-1", "worker-python-2"]


def test_start_three_plus_two_see_them_healthy_then_stop_leaves_nothing(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(
        orchestration=3, workers=2, extra={"DATABASE_URL": "sqlite:////tmp/none.sqlite3"}
    )
    o_port, w_port = factory.orchestration_port, factory.worker_port

    report = cluster.start(timeout=30)

    assert list(report.started) == IDS
    assert report.already_running == ()
    rows = cluster.status()
    assert [(r.instance_id, r.state, r.port) for r in rows] == [
        ("orchestration-1", InstanceState.HEALTHY, o_port),
        ("orchestration-2", InstanceState.HEALTHY, o_port + 1),
        ("orchestration-3", InstanceState.HEALTHY, o_port + 2),
        ("worker-python-1", InstanceState.HEALTHY, w_port),
        ("worker-python-2", InstanceState.HEALTHY, w_port + 1),
    ]
    assert all(r.pid and r.rss_bytes and r.health_latency_ms is not None for r in rows)
    as_json = json.loads(to_json(rows))
    assert [row["state"] for row in as_json] == ["healthy"] * 5
    assert set(as_json[0]) == {
        "instance_id", "service", "state", "pid", "port", "url", "uptime_seconds",
        "cpu_percent", "rss_bytes", "health_latency_ms", "detail", "ports",
    }  # fmt: skip

    seen = httpx.get(f"{rows[3].url}/health", trust_env=False).json()
    assert seen["pid"] == rows[3].pid
    assert seen["env"] == {
        "TASKER_INSTANCE_ID": "worker-python-1",
        "TASKER_INSTANCE_PORT": str(w_port),
        "TASKER_WEB_BIND_ADDRESS": f"127.0.0.1:{w_port}",
        "PORT": str(w_port),
        "TASKER_WORKER_ID": "worker-python-1",
        "TASKER_CLUSTER_DIR": str(factory.cluster_dir),
        "DATABASE_URL": "sqlite:////tmp/none.sqlite3",
    }
    orchestration_env = httpx.get(f"{rows[0].url}/health", trust_env=False).json()["env"]
    assert "TASKER_WORKER_ID" not in orchestration_env
    assert cluster.urls("orchestration") == [f"http://127.0.0.1:{o_port + n}" for n in range(3)]

    again = cluster.start(timeout=30)
    assert again.started == ()
    assert list(again.already_running) == IDS

    one = cluster.stop(instance="orchestration-2")
    assert [(r.instance_id, r.outcome) for r in one] == [("orchestration-2", StopOutcome.STOPPED)]
    workers = cluster.stop(service="worker-python")
    assert [r.instance_id for r in workers] == ["worker-python-1", "worker-python-2"]
    rest = cluster.stop()
    assert [(r.instance_id, r.outcome) for r in rest] == [
        ("orchestration-1", StopOutcome.STOPPED),
        ("orchestration-3", StopOutcome.STOPPED),
    ]
    assert_nothing_running(factory.cluster_dir)
    assert cluster.stop() == []
    with pytest.raises(UnknownServiceError):
        cluster.stop(service="orchestrator")


def test_logs_follow_sees_every_instance_including_ones_started_later(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(
        orchestration=2, workers=1, orchestration_args=("--tick", "0.2"),
        worker_args=("--tick", "0.2"),
    )  # fmt: skip
    follower = cluster.follow_logs(lines=0)
    seen: set[str] = set()

    def saw(wanted: set[str]) -> bool:
        seen.update(line.instance_id for line in follower.poll() if "tick" in line.text)
        return wanted <= seen

    cluster.start(timeout=30)
    wait_until(lambda: saw({"orchestration-1", "orchestration-2", "worker-python-1"}), 30, "ticks")
    cluster.start(cluster.plan({"orchestration": 3, "worker-python": 1}), timeout=30)
    wait_until(lambda: saw({"orchestration-3"}), 30, "ticks of orchestration-3")

    tail = cluster.tail_logs(service="worker-python", lines=1)
    assert [line.instance_id for line in tail] == ["worker-python-1"]
    cluster.stop()
    assert_nothing_running(factory.cluster_dir)


def test_a_killed_instance_shows_as_crashed_and_restart_brings_it_back(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(orchestration=2, workers=0)
    cluster.start(timeout=30)
    old = {r.instance_id: r.pid for r in cluster.records()}

    cluster.signal("orchestration-1", signal.SIGKILL)

    wait_until(lambda: cluster.status()[0].state is InstanceState.CRASHED, 10, "a crashed row")
    assert cluster.status()[0].detail == f"process {old['orchestration-1']} has exited; see its log"
    with pytest.raises(NotRunningError) as error:
        cluster.signal("orchestration-1", signal.SIGTERM)
    assert str(error.value) == "orchestration-1 is not running"
    assert explain(error.value) == (
        "orchestration-1 is not running; start it with `invoke cluster.start` "
        "or see `invoke cluster.status`"
    )

    report = cluster.restart(instance="orchestration-1", timeout=5)
    assert report.started == ("orchestration-1",)
    new = {r.instance_id: r.pid for r in cluster.records()}
    assert new["orchestration-1"] != old["orchestration-1"]
    assert new["orchestration-2"] == old["orchestration-2"]

    cluster.restart(service="orchestration", timeout=5)
    assert not set(new.values()) & {r.pid for r in cluster.records()}
    assert [r.state for r in cluster.status()] == [InstanceState.HEALTHY] * 2
    cluster.stop()
    assert_nothing_running(factory.cluster_dir)


def test_a_port_answering_as_another_instance_is_unhealthy(factory: ClusterFactory) -> None:
    cluster = factory.cluster(
        orchestration=1, workers=0, orchestration_args=("--answer-as", "orchestration-7")
    )
    cluster.start(wait=False)

    wait_until(lambda: cluster.status()[0].state is not InstanceState.STARTING, 30, "an answer")
    row = cluster.status()[0]
    assert (row.state, row.detail) == (InstanceState.UNHEALTHY, "port answered as orchestration-7")
    cluster.stop()
    assert_nothing_running(factory.cluster_dir)
