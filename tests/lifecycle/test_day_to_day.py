"""Day-to-day use through the real CLI against real processes: logs merged in time order and
picked by time or task, scale in both directions, the resolved configuration, check, down and
a rolling restart."""

from __future__ import annotations

import itertools
import json
import re
import socket
from datetime import datetime

import pytest

from tasker_cluster.logs import parse_time

from .helpers import ClusterFactory, assert_nothing_running, wait_until
from .test_cli import cli_env, run_invoke

pytestmark = pytest.mark.slow


def status_rows(env: dict[str, str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        run_invoke("cluster.status", "--json", env=env).stdout
    )
    return rows


def test_logs_of_three_instances_merge_in_time_order_and_filter_by_time(
    factory: ClusterFactory,
) -> None:
    env = {
        **cli_env(factory, orchestration=3, workers=0, orchestration_args=("--tick", "0.02")),
        "FAKE_STAMP": "1",
    }
    assert run_invoke("cluster.start", env=env).returncode == 0
    try:
        wait_until(
            lambda: all(
                (factory.cluster_dir / ".logs" / f"orchestration-{n}.log").stat().st_size > 2000
                for n in (1, 2, 3)
            ),
            30,
            "each instance to write some 40 lines",
        )
        shown = run_invoke("cluster.logs", "--lines=1000", "--json", env=env)
        rows = [json.loads(line) for line in shown.stdout.splitlines()]
        times = [datetime.fromisoformat(row["time"]) for row in rows]
        assert times == sorted(times), "lines are merged in time order"
        switches = sum(a["instance_id"] != b["instance_id"] for a, b in itertools.pairwise(rows))
        assert switches > 10, "three instances' lines are interleaved, not one log after another"

        since = rows[len(rows) // 2]["time"]
        later = run_invoke("cluster.logs", "--lines=1000", f"--since={since}", env=env)
        later_times = [parse_time(line.split(" | ", 1)[1]) for line in later.stdout.splitlines()]
        assert later_times and all(
            t is not None and t >= times[len(rows) // 2] for t in later_times
        )

        ticks = run_invoke(
            "cluster.logs", "--grep", "tick 1[0-9]$", "--instance=orchestration-2", env=env
        )
        assert [line.rsplit(" ", 1)[1] for line in ticks.stdout.splitlines()] == [
            str(n) for n in range(10, 20)
        ]
        bad = run_invoke("cluster.logs", "--since=yesterday", env=env)
        assert bad.returncode == 2
        assert "--since='yesterday' (from the --since flag): 'yesterday' is neither" in bad.stderr
    finally:
        run_invoke("cluster.stop", env=env)
    assert_nothing_running(factory.cluster_dir)


def test_scale_goes_both_ways_stopping_the_highest_numbers_first(factory: ClusterFactory) -> None:
    env = cli_env(factory, orchestration=2, workers=0)
    assert run_invoke("cluster.start", env=env).returncode == 0
    try:
        up = run_invoke("cluster.scale", "orchestration=3", env=env)
        assert up.returncode == 0, up.stderr
        assert "1 started, 2 already running; all 3 healthy" in up.stdout

        down = run_invoke("cluster.scale", "orchestration=1,worker-python=1", env=env)
        assert down.returncode == 0, down.stderr
        stopped = [line.split()[0] for line in down.stdout.splitlines() if " stopped " in line]
        assert stopped == ["orchestration-3", "orchestration-2"]
        status = json.loads(run_invoke("cluster.status", "--json", env=env).stdout)
        assert {(r["instance_id"], r["state"]) for r in status if r["state"] != "stopped"} == {
            ("orchestration-1", "healthy"),
            ("worker-python-1", "healthy"),
        }
        # A restart restarts what runs: it does not bring back orchestration-2, which the
        # profile plans but the scale took away.
        restarted = run_invoke("cluster.restart", "--rolling", env=env)
        assert restarted.returncode == 0, restarted.stderr
        assert "2 started, 0 already running; all 2 healthy" in restarted.stdout
        assert {r["instance_id"] for r in status_rows(env) if r["state"] != "stopped"} == {
            "orchestration-1",
            "worker-python-1",
        }
        bad = run_invoke("cluster.scale", "orchestration", env=env)
        assert bad.returncode == 2
        assert "it must be TYPE=N" in bad.stderr
    finally:
        run_invoke("cluster.stop", env=env)
    assert_nothing_running(factory.cluster_dir)


def test_config_shows_every_value_with_its_origin_and_masks_secrets(
    factory: ClusterFactory,
) -> None:
    env = {
        **cli_env(factory),
        "DATABASE_URL": "postgresql://tasker:hunter2@127.0.0.1:5432/tasker",
        "TASKER_API_KEY": "abc123",
    }

    shown = run_invoke("cluster.config", "--json", env=env)

    assert shown.returncode == 0, shown.stderr
    rows = {row["key"]: row for row in json.loads(shown.stdout)}
    assert rows["DATABASE_URL"]["value"] == "postgresql://tasker:***@127.0.0.1:5432/tasker"
    assert rows["TASKER_API_KEY"]["value"] == "***"
    assert rows["TASKER_ORCHESTRATION_INSTANCES"]["origin"] == "the process environment"
    assert rows["TASKER_WORKER_RUST_BASE_PORT"]["origin"] == "config/dotenv/multi-instance.env"
    assert rows["TASKER_PROJECT_ROOT"]["origin"] == "built-in defaults"
    assert "PATH" not in rows, "the rest of the environment only with --all"
    table = run_invoke("cluster.config", env=env).stdout
    assert "hunter2" not in table and "abc123" not in table
    assert table.splitlines()[-1] == "plan: 3 instance(s): 2 orchestration, 1 worker-python"


def test_check_validates_and_names_a_held_port_without_starting(factory: ClusterFactory) -> None:
    env = cli_env(factory)
    ok = run_invoke("cluster.check", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("configuration ok: 3 instance(s) planned")

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", factory.orchestration_port + 1))
        holder.listen()
        held = run_invoke("cluster.check", env=env)
    assert held.returncode == 1
    assert (
        f"port {factory.orchestration_port + 1} for orchestration-2 is held by pid" in held.stderr
    )
    assert_nothing_running(factory.cluster_dir)


def test_down_stops_everything_and_removes_the_state(factory: ClusterFactory) -> None:
    env = cli_env(factory)
    assert run_invoke("cluster.start", env=env).returncode == 0
    (factory.cluster_dir / ".data").mkdir()
    (factory.cluster_dir / ".data" / "tasker.sqlite3").write_text("")

    kept_data = run_invoke("cluster.down", env=env)
    assert kept_data.returncode == 0, kept_data.stderr
    assert_nothing_running(factory.cluster_dir)
    assert not (factory.cluster_dir / ".logs").exists()
    assert [p.name for p in (factory.cluster_dir / ".pids").iterdir()] in ([], [".lock"])
    assert (factory.cluster_dir / ".data" / "tasker.sqlite3").exists()

    with_data = run_invoke("cluster.down", "--data", env=env)
    assert with_data.returncode == 0, with_data.stderr
    assert not (factory.cluster_dir / ".data").exists()


def test_rolling_restart_replaces_instances_one_batch_at_a_time(factory: ClusterFactory) -> None:
    env = cli_env(factory, orchestration=3, workers=0)
    assert run_invoke("cluster.start", env=env).returncode == 0
    try:
        before = {
            r["instance_id"]: r["pid"]
            for r in json.loads(run_invoke("cluster.status", "--json", env=env).stdout)
        }
        rolled = run_invoke("cluster.restart", "--rolling", env=env)
        assert rolled.returncode == 0, rolled.stderr
        healthy = [line.split()[0] for line in rolled.stdout.splitlines() if ": healthy (" in line]
        counts = re.findall(r": healthy \((\d+/\d+),", rolled.stdout)
        assert (healthy, counts) == (
            ["orchestration-1:", "orchestration-2:", "orchestration-3:"],
            ["1/3", "2/3", "3/3"],
        ), "one count across the batches, in instance order"
        after = {
            r["instance_id"]: (r["pid"], r["state"])
            for r in json.loads(run_invoke("cluster.status", "--json", env=env).stdout)
        }
        assert all(state == "healthy" for _, state in after.values())
        assert all(after[i][0] != before[i] for i in before), "every instance is a new process"
        bad = run_invoke("cluster.restart", "--rolling=0", env=env)
        assert bad.returncode == 2
    finally:
        run_invoke("cluster.stop", env=env)
    assert_nothing_running(factory.cluster_dir)
