"""Restart right after SIGKILL: the dying process may still hold its port for a moment."""

from __future__ import annotations

import signal

import httpx
import pytest

from tasker_cluster.process.records import Liveness, liveness

from .helpers import ClusterFactory, assert_nothing_running

pytestmark = pytest.mark.slow

ROUNDS = 10


def test_sigkill_then_immediate_restart_gets_the_port_back_every_time(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(orchestration=1, workers=0, orchestration_args=("--threads", "200"))
    cluster.start(timeout=30)
    url = cluster.urls("orchestration")[0]
    pids = []
    try:
        for _ in range(ROUNDS):
            (record,) = cluster.records()
            pids.append(record.pid)
            cluster.signal("orchestration-1", signal.SIGKILL)

            report = cluster.restart(instance="orchestration-1", timeout=5, start_timeout=30)

            assert report.started == ("orchestration-1",)
            assert liveness(record)[0] is not Liveness.OURS
            answer = httpx.get(f"{url}/health", timeout=5).json()
            assert (answer["instance_id"], answer["pid"]) == (
                "orchestration-1",
                cluster.records()[0].pid,
            )
        (record,) = cluster.records()
        pids.append(record.pid)
        assert len(set(pids)) == ROUNDS + 1
    finally:
        cluster.stop()
    assert_nothing_running(factory.cluster_dir)
