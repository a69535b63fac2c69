"""The real `invoke` command line: task list, help, a start/status/stop round trip, errors,
and Ctrl-C during start and during `logs --follow`."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tasker_cluster.config.loader import PROJECT_ROOT
from tasker_cluster.testing.free_ports import free_port_range

from .helpers import (
    ClusterFactory,
    assert_nothing_running,
    clean_environ,
    fake_command,
    wait_until,
)

INVOKE = Path(sys.executable).parent / "invoke"


def run_invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INVOKE), *args],
        cwd=PROJECT_ROOT,
        env=env or clean_environ(),
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
        check=False,
    )


def unwrapped(text: str) -> str:
    """Help text with invoke's line wrapping undone."""
    return re.sub(r"(\w-) (\w)", r"\1\2", " ".join(text.split()))


def cli_env(factory: ClusterFactory, **options: object) -> dict[str, str]:
    return {**clean_environ(), **factory.overrides(**options)}  # type: ignore[arg-type]


def test_invoke_list_shows_every_cluster_task_with_one_line_help() -> None:
    listing = run_invoke("--list")

    assert listing.returncode == 0, listing.stderr
    shown = unwrapped(listing.stdout)
    for name, text in [
        ("check", "Validate the configuration and ports; start nothing."),
        ("config", "Show the resolved configuration and where each value came from"),
        ("down", "Stop every instance, then remove the cluster's records and logs."),
        ("logs", "Print instance logs merged in time order, prefixed with instance ids."),
        ("restart", "Stop the selected instances, then start them again (--rolling:"),
        ("scale", "Run exactly N instances of each TYPE=N given: stop the surplus,"),
        ("start", "Start instances in parallel; wait until all are healthy."),
        ("status", "Show state, pid, port, uptime, CPU, RSS and health."),
        ("stop", "Stop instances and all their child processes."),
    ]:
        assert f"cluster.{name} {text}" in shown


def test_help_of_start_documents_every_flag() -> None:
    shown = unwrapped(run_invoke("--help", "cluster.start").stdout)

    for flag, text in [
        ("--orchestration=STRING", "number of orchestration instances (default: from"),
        ("--worker-python=STRING", "number of worker-python instances"),
        ("--worker-rust=STRING", "number of worker-rust instances"),
        ("--worker-ruby=STRING", "number of worker-ruby instances"),
        ("--worker-ts=STRING", "number of worker-ts instances"),
        ("--env-file", "profile to read (default: config/dotenv/multi-instance.env); repeat it"),
        ("--scale", "TYPE=N: run N instances of any configured type (repeatable)"),
        ("--[no-]wait", "wait until every instance answers healthy"),
        ("--timeout=INT", "seconds to wait for all instances to become healthy (default: 60)"),
    ]:
        assert f"{flag} {text}" in shown


@pytest.mark.slow
def test_start_status_json_and_stop_round_trip(factory: ClusterFactory) -> None:
    env = cli_env(factory)
    port = factory.orchestration_port

    started = run_invoke("cluster.start", "--orchestration=2", "--worker-python=1", env=env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines()[0] == (
        "starting 3 instance(s): 2 orchestration, 1 worker-python"
    )
    assert f"orchestration-2  started  http://127.0.0.1:{port + 1}" in started.stdout
    assert "3 started, 0 already running; all 3 healthy after" in started.stdout

    status = run_invoke("cluster.status", "--json", "--service=orchestration", env=env)
    rows = json.loads(status.stdout)
    assert [(r["instance_id"], r["state"], r["port"]) for r in rows] == [
        ("orchestration-1", "healthy", port),
        ("orchestration-2", "healthy", port + 1),
    ]
    logs = run_invoke("cluster.logs", "--lines=1", "--instance=worker-python-1", env=env)
    assert logs.stdout.startswith("worker-python-1 | [worker-python-1] listening on 127.0.0.1:")

    stopped = run_invoke("cluster.stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines()[-1].startswith("3 stopped in ")
    assert_nothing_running(factory.cluster_dir)

    check = run_invoke("cluster.status", "--check", env=env)
    assert check.returncode == 3, "3: not every instance is healthy"
    assert check.stderr.strip() == "not every instance is healthy: 3 instance(s): 3 stopped"


@pytest.mark.slow
def test_a_bad_flag_value_is_refused_with_the_variable_rule_and_fix(
    factory: ClusterFactory,
) -> None:
    refused = run_invoke("cluster.start", "--orchestration=abc", env=cli_env(factory))

    assert refused.returncode == 2, "2: a usage or configuration error"
    assert refused.stderr.strip() == (
        "invalid cluster configuration:\n"
        "  TASKER_ORCHESTRATION_INSTANCES='abc' (from the --orchestration flag): an instance "
        "count must be a whole number from 0 to 100; set it to a number such as 2"
    )
    assert_nothing_running(factory.cluster_dir)


@pytest.mark.slow
def test_ctrl_c_during_start_leaves_no_orphan(factory: ClusterFactory) -> None:
    env = cli_env(factory, orchestration=2, workers=1, orchestration_args=("--delay", "60"))
    starting = subprocess.Popen(
        [str(INVOKE), "cluster.start", "--timeout=120"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        pids = factory.cluster_dir / ".pids"
        wait_until(lambda: len(list(pids.glob("*.pid"))) == 3, 60, "three records")
        starting.send_signal(signal.SIGINT)
        _, errors = starting.communicate(timeout=60)
    finally:
        if starting.poll() is None:
            starting.kill()
            starting.wait()

    assert starting.returncode == 130
    assert errors.strip() == "interrupted: stopped every instance this start had spawned"
    assert_nothing_running(factory.cluster_dir)


@pytest.mark.slow
def test_logs_follow_ends_cleanly_on_ctrl_c(factory: ClusterFactory) -> None:
    cluster = factory.cluster(orchestration=1, workers=0, orchestration_args=("--tick", "0.2"))
    cluster.start(timeout=30)
    follow = subprocess.Popen(
        [str(INVOKE), "cluster.logs", "--follow", "--lines=0"],
        cwd=PROJECT_ROOT,
        env=cli_env(factory),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for line in follow.stdout or []:
            lines.put(line)

    reader = threading.Thread(target=read_lines)
    reader.start()
    try:
        first = lines.get(timeout=60)
        assert re.fullmatch(r"orchestration-1 \| \[orchestration-1\] tick \d+\n", first)
        follow.send_signal(signal.SIGINT)
        _, errors = follow.communicate(timeout=30)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
        reader.join(timeout=10)
        cluster.stop()

    assert (follow.returncode, errors) == (0, "")
    assert_nothing_running(factory.cluster_dir)


@pytest.mark.slow
def test_scale_starts_any_configured_type_and_a_shorthand_flag_wins(
    factory: ClusterFactory,
) -> None:
    sidecar_port = free_port_range(2)
    env = {
        **cli_env(factory, orchestration=2, workers=1),
        "TASKER_SIDECAR_INSTANCES": "0",
        "TASKER_SIDECAR_BASE_PORT": str(sidecar_port),
        "TASKER_SIDECAR_COMMAND": fake_command(),
        "TASKER_SIDECAR_ROLE": "worker",
    }

    started = run_invoke(
        "cluster.start",
        "--scale", "sidecar=2",
        "--scale", "orchestration=3",
        "--orchestration=1",
        "--worker-python=0",
        env=env,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines()[0] == "starting 3 instance(s): 1 orchestration, 2 sidecar"
    status = run_invoke("cluster.status", "--json", env=env)
    rows = json.loads(status.stdout)
    assert [(r["instance_id"], r["state"], r["port"]) for r in rows] == [
        ("orchestration-1", "healthy", factory.orchestration_port),
        ("orchestration-2", "stopped", factory.orchestration_port + 1),
        ("worker-python-1", "stopped", factory.worker_port),
        ("sidecar-1", "healthy", sidecar_port),
        ("sidecar-2", "healthy", sidecar_port + 1),
    ]
    sidecar_env = json.loads((factory.cluster_dir / ".pids" / "sidecar-2.json").read_text())
    assert sidecar_env["service"] == "sidecar"

    stopped = run_invoke("cluster.stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert_nothing_running(factory.cluster_dir)


def test_a_malformed_scale_names_the_flag_and_the_form() -> None:
    refused = run_invoke("cluster.start", "--scale", "worker-python:3")

    assert refused.returncode == 2, "2: a usage or configuration error"
    assert refused.stderr.strip() == (
        "invalid cluster configuration:\n"
        "  --scale='worker-python:3' (from the --scale flag): it must be TYPE=N; "
        "write it like --scale worker-python=3"
    )


def test_scale_of_an_unknown_type_lists_the_known_ones() -> None:
    refused = run_invoke("cluster.start", "--scale", "worker-java=1")

    assert refused.returncode == 2, "2: a usage or configuration error"
    assert refused.stderr.strip().startswith(
        "unknown service type 'worker-java'; known types: orchestration, worker-rust, "
    )
