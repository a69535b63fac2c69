"""What goes wrong: stubborn and wrapped services, crashes, timeouts, held ports, stale
records, zombies and racing starts; after each, no process of the test may remain."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from dataclasses import replace

import psutil
import pytest

from fakes import FAKE_SERVICE
from tasker_cluster.cli.hints import explain
from tasker_cluster.cluster.errors import InstancesCrashedError, StartTimeoutError
from tasker_cluster.cluster.status import InstanceState
from tasker_cluster.config.instances import Instance, plan_instances
from tasker_cluster.process.errors import PortsInUseError
from tasker_cluster.process.records import InstanceRecord, read_records, write_record
from tasker_cluster.process.stop import StopOutcome, StopResult, stop_records

from .helpers import ClusterFactory, assert_nothing_running, processes_of, wait_until

pytestmark = pytest.mark.slow

LEFTOVERS_STOPPED = "its main process had already exited; its leftover processes were stopped"


def test_stop_leaves_no_child_of_a_wrapper_and_kills_what_ignores_sigterm(
    factory: ClusterFactory,
) -> None:
    shell_wrapped = shlex.join(
        ["sh", "-c", f"{{python}} {FAKE_SERVICE} --ignore-term; echo wrapper done"]
    )
    cluster = factory.cluster(
        orchestration=2,
        workers=2,
        worker_args=("--wrapper", "--child-session"),
        extra={"TASKER_ORCHESTRATION_COMMAND": shell_wrapped},
    )
    cluster.start(timeout=30)
    assert len(processes_of(factory.cluster_dir)) == 8, "every instance runs a wrapper + child"

    results = cluster.stop(timeout=0.5)

    assert [(r.instance_id, r.outcome) for r in results] == [
        ("orchestration-1", StopOutcome.KILLED),
        ("orchestration-2", StopOutcome.KILLED),
        ("worker-python-1", StopOutcome.STOPPED),
        ("worker-python-2", StopOutcome.STOPPED),
    ]
    assert_nothing_running(factory.cluster_dir)


def test_leftovers_of_an_instance_whose_main_process_died_are_stopped(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(orchestration=1, workers=0, orchestration_args=("--wrapper",))
    cluster.start(timeout=30)
    (record,) = cluster.records()
    (server,) = psutil.Process(record.pid).children()

    os.kill(record.pid, signal.SIGKILL)
    wait_until(lambda: cluster.status()[0].state is InstanceState.CRASHED, 10, "a crashed row")
    assert server.is_running()

    (result,) = cluster.stop(timeout=5)

    assert (result.outcome, result.detail) == (StopOutcome.STOPPED, LEFTOVERS_STOPPED)
    assert_nothing_running(factory.cluster_dir)


def test_an_exited_but_unreaped_process_counts_as_stopped(factory: ClusterFactory) -> None:
    # An instance that is not our child and whose parent never reaps it (as a slow init
    # would not): once SIGTERM ends it, it is a zombie, and stop must take it as stopped at
    # once instead of waiting for the timeout.
    parent = subprocess.Popen(
        [sys.executable, "-c", UNREAPED_CHILD],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        zombie_pid = int(parent.stdout.readline())
        settings = factory.settings(orchestration=1, workers=0)
        instance = plan_instances(settings)[0]
        record = spawn_record(instance, zombie_pid)

        (result,) = stop_records([record], timeout=10)

        assert psutil.Process(zombie_pid).status() == psutil.STATUS_ZOMBIE
        assert result.outcome is StopOutcome.STOPPED, "a zombie must not wait for the timeout"
    finally:
        parent.kill()
        parent.wait()


UNREAPED_CHILD = """
import os, sys, time
pid = os.fork()
if pid == 0:
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
"""


def spawn_record(instance: Instance, pid: int) -> InstanceRecord:
    return InstanceRecord(
        instance.id, instance.service, instance.number, pid,
        psutil.Process(pid).create_time(), instance.argv, instance.port, instance.url, "now",
    )  # fmt: skip


def test_a_crash_at_start_is_reported_with_its_log_and_nothing_is_left(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(
        orchestration=2, workers=1, worker_args=("--crash", "database unreachable: refused")
    )

    with pytest.raises(InstancesCrashedError) as error:
        cluster.start(timeout=30)

    log = factory.cluster_dir / ".logs" / "worker-python-1.log"
    assert str(error.value) == (
        f"worker-python-1 exited with code 3 during start; last 2 lines of {log}:\n"
        "    | [worker-python-1] starting\n"
        "    | database unreachable: refused\n"
        "stopped the other instances this start had spawned: orchestration-1, orchestration-2"
    )
    assert_nothing_running(factory.cluster_dir)


def test_a_start_that_times_out_stops_what_it_spawned(factory: ClusterFactory) -> None:
    cluster = factory.cluster(orchestration=1, workers=0, orchestration_args=("--delay", "60"))

    with pytest.raises(StartTimeoutError) as error:
        cluster.start(timeout=1)

    assert str(error.value) == (
        "1 instance(s) not healthy after 1 s:\n"
        f"  orchestration-1: no answer (connection refused) on port {factory.orchestration_port}"
        "; its last 1 log lines:\n"
        "    | [orchestration-1] warming up for 60.0 s\n"
        "stopped what this start spawned: orchestration-1"
    )
    assert explain(error.value).endswith(
        "stopped what this start spawned: orchestration-1\n"
        "read their logs with `invoke cluster.logs --instance=<id>`, or allow more time with "
        "--timeout"
    )
    assert_nothing_running(factory.cluster_dir)


def test_a_held_port_is_reported_and_nothing_starts(factory: ClusterFactory) -> None:
    cluster = factory.cluster(orchestration=2, workers=1)
    held = factory.orchestration_port + 1
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", held))
        holder.listen()

        with pytest.raises(PortsInUseError) as error:
            cluster.start(timeout=30)

    assert str(error.value) == (
        "cannot start: 1 port(s) already in use, nothing was started:\n"
        f"  port {held} for orchestration-2 is held by pid {os.getpid()} "
        f"({psutil.Process().name()})\n"
        "stop the holder, or move the instances with TASKER_ORCHESTRATION_BASE_PORT"
    )
    assert not (factory.cluster_dir / ".logs").exists()
    assert_nothing_running(factory.cluster_dir)


def test_a_record_whose_pid_now_belongs_to_another_process_is_never_signalled(
    factory: ClusterFactory,
) -> None:
    cluster = factory.cluster(orchestration=1, workers=0)
    cluster.start(timeout=30)
    (ours,) = cluster.records()
    cluster.stop()
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    try:
        stale = replace(ours, pid=bystander.pid)
        write_record(cluster.settings.pids_dir, stale)

        assert cluster.records() == []
        row = cluster.status()[0]
        assert (row.state, row.detail) == (
            InstanceState.CRASHED,
            f"pid {bystander.pid} now belongs to another process",
        )
        assert cluster.stop() == [
            StopResult(
                "orchestration-1", "orchestration", StopOutcome.NOT_RUNNING, None,
                f"pid {bystander.pid} now belongs to another process; it was not signalled",
            )
        ]  # fmt: skip
        assert bystander.poll() is None
        assert read_records(cluster.settings.pids_dir) == ([], [])

        write_record(cluster.settings.pids_dir, stale)
        report = cluster.start(timeout=30)
        assert report.stale_records_removed == ("orchestration-1",)
        assert report.started == ("orchestration-1",)
        assert bystander.poll() is None
        cluster.stop()
    finally:
        bystander.kill()
        bystander.wait()
    assert_nothing_running(factory.cluster_dir)


def test_two_concurrent_starts_give_exactly_one_set_of_instances(factory: ClusterFactory) -> None:
    overrides = factory.overrides(orchestration=2, workers=1, orchestration_args=("--delay", "1"))
    script = FAKE_SERVICE.parent / "start_cluster.py"
    starts = [
        subprocess.Popen(
            [sys.executable, str(script), json.dumps(overrides)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    outputs = [json.loads(start.communicate(timeout=120)[0]) for start in starts]

    ids = ["orchestration-1", "orchestration-2", "worker-python-1"]
    assert sorted(o["started"] for o in outputs) == [[], ids]
    assert sorted(o["already_running"] for o in outputs) == [[], ids]
    cluster = factory.cluster(orchestration=2, workers=1)
    assert [r.instance_id for r in cluster.records()] == ids
    assert len(processes_of(factory.cluster_dir)) == 3
    cluster.stop()
    assert_nothing_running(factory.cluster_dir)
