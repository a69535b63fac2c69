"""Running a tasker-core checkout with config/dotenv/tasker-core.env, through the real CLI, on
the fixture checkout of tests/fakes/tasker_core.py (stand-ins for cargo, uv, bundle and bun
and a fake server that behaves as the real worker was measured to)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from fakes import TASKER_WORKER
from fakes.tasker_core import OTHER_MACHINE, TYPES, CoreCluster
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.config.instances import plan_instances
from tasker_cluster.config.loader import PROJECT_ROOT, load_settings

from .helpers import assert_nothing_running, clean_environ, wait_until
from .test_cli import run_invoke

PROFILE = "config/dotenv/tasker-core.env"
UPSTREAM_DOTENV = next(
    (
        path
        for path in (
            PROJECT_ROOT / ".." / "shared" / "upstream" / "dotenv",
            Path("/work/shared/upstream/dotenv"),
        )
        if (path / "cluster.env").is_file()
    ),
    PROJECT_ROOT / ".." / "shared" / "upstream" / "dotenv",
)
WORKDIRS = {
    "orchestration": ".",
    "worker-rust": ".",
    "worker-ruby": "crates/tasker-rb",
    "worker-python": "crates/tasker-py",
    "worker-ts": "crates/tasker-ts",
}
PREPARE_LINES = [
    "cargo build --release -p tasker-orchestration --bin tasker-server",
    "cargo build --release -p tasker-example-rs",
    "bundle check",
    "bundle install",
    "bundle exec rake compile",
    "uv sync --group dev",
    "uv run maturin develop",
    "bun install --frozen-lockfile",
    "cargo build -p tasker-ts",
]
RUN_LINES = [
    "bundle exec ruby bin/server.rb",
    "uv run python bin/server.py",
    "bun run bin/server.ts",
]
ALL_TEN = "starting 10 instance(s): 2 orchestration, 2 worker-rust, 2 worker-ruby, " + (
    "2 worker-python, 2 worker-ts"
)
STATUS_SCRIPT = """\
# A copy of the behaviour of tasker-core's cluster-status.sh: a plain pid per .pids/<id>.pid.
cd "$1" || exit 1
for pid_file in .pids/*.pid; do
    [ -f "$pid_file" ] || continue
    id=$(basename "$pid_file" .pid)
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then echo "$id running $pid"; else echo "$id dead $pid"; fi
done
"""
START_SCRIPT = """\
# As tasker-core's start-cluster.sh starts one instance: nohup, log, plain pid file.
cd "$CLUSTER_DIR" && mkdir -p .pids .logs
nohup "$PYTHON" "$SERVER" --role worker --name "Python Worker Server" \\
    > ".logs/$TASKER_INSTANCE_ID.log" 2>&1 &
echo $! > ".pids/$TASKER_INSTANCE_ID.pid"
"""


def cli(core: CoreCluster, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`invoke <task> --env-file config/dotenv/tasker-core.env <args>` on the checkout."""
    task, *rest = args
    env = core.environ(clean_environ(), **options)
    return run_invoke(task, "--env-file", PROFILE, *rest, env=env)


def started(core: CoreCluster, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    result = cli(core, "cluster.start", *args, **options)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def status_rows(core: CoreCluster, **options: Any) -> dict[str, dict[str, Any]]:
    shown = cli(core, "cluster.status", "--json", **options)
    return {row["instance_id"]: row for row in json.loads(shown.stdout)}


def cluster(core: CoreCluster, **options: Any) -> Cluster:
    env = core.environ(clean_environ(), **options)
    settings = load_settings([PROJECT_ROOT / PROFILE], environ=env)
    return Cluster(settings, lock_timeout=30.0)


def type_of(instance_id: str) -> str:
    return instance_id.rsplit("-", 1)[0]


def number_of(instance_id: str) -> int:
    return int(instance_id.rsplit("-", 1)[1])


def answers_healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def pid_file(core: CoreCluster, instance_id: str) -> int:
    return int((core.cluster_dir / ".pids" / f"{instance_id}.pid").read_text())


def assert_gone(pids: list[int]) -> None:
    alive = [pid for pid in pids if psutil.pid_exists(pid) and not _zombie(pid)]
    assert alive == [], f"still running: {alive}"


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# --- the profile starts the whole checkout --------------------------------------------------


@pytest.mark.slow
def test_profile_starts_two_of_each_type_from_the_checkout_with_distinct_ports(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    result = started(tasker_core)

    assert result.stdout.splitlines()[0] == ALL_TEN
    assert "10 started, 0 already running; all 10 healthy after" in result.stdout
    servers = {event.instance or "": event for event in checkout.servers()}
    assert sorted(servers) == sorted(f"{t}-{n}" for t in TYPES for n in (1, 2))
    rest_ports, grpc_ports = set(), set()
    for instance_id, server in servers.items():
        kind, number = type_of(instance_id), number_of(instance_id)
        rest = checkout.ports.rest[kind] + number - 1
        grpc = checkout.ports.grpc[kind] + number - 1
        assert (server.text("rest"), server.text("grpc")) == (
            f"127.0.0.1:{rest}",
            f"127.0.0.1:{grpc}",
        ), instance_id
        assert server.data["grpc_bound"] is True, instance_id
        rest_ports.add(rest)
        grpc_ports.add(grpc)
        with socket.create_connection(("127.0.0.1", grpc), timeout=5):
            pass
        assert server.text("cwd") == str((checkout.root / WORKDIRS[kind]).resolve()), instance_id
        env = server.env
        assert env["WORKSPACE_PATH"] == str(checkout.root), instance_id
        config = "orchestration-test" if kind == "orchestration" else "worker-test"
        assert env["TASKER_CONFIG_PATH"] == f"{checkout.root}/config/tasker/generated/{config}.toml"
        assert env["DATABASE_URL"] == (
            "postgresql://tasker:tasker@localhost:5432/tasker_rust_test"
        ), instance_id
        assert env["TASKER_MESSAGING_BACKEND"] == "rabbitmq", instance_id
        assert not any(OTHER_MACHINE in value for value in env.values()), instance_id
    assert len(rest_ports | grpc_ports) == 20
    assert servers["worker-rust-1"].env["TASKER_TEMPLATE_PATH"] == (
        f"{checkout.root}/tests/fixtures/task_templates/rust"
    )

    rows = status_rows(tasker_core)
    assert {row["state"] for row in rows.values()} == {"healthy"}
    assert len(rows) == 10
    health = httpx.get(f"http://127.0.0.1:{checkout.ports.rest['worker-python']}/health").json()
    assert health["worker_id"].startswith("worker-")

    # Rust types and bundle exec run the server as the recorded process; uv and bun wrap it.
    for instance_id, server in servers.items():
        recorded = pid_file(tasker_core, instance_id)
        if type_of(instance_id) in ("worker-python", "worker-ts"):
            assert server.data["ppid"] == recorded, instance_id
        else:
            assert server.pid == recorded, instance_id

    # Each prepare step ran once for the start, before any instance; workers after orchestration.
    lines = checkout.call_lines()
    assert Counter(lines) == Counter(PREPARE_LINES + [line for line in RUN_LINES for _ in (1, 2)])
    assert max(lines.index(line) for line in PREPARE_LINES) < min(
        lines.index(line) for line in RUN_LINES
    )
    order = [event.instance or "" for event in checkout.servers()]
    assert {type_of(i) for i in order[:2]} == {"orchestration"}

    assert cli(tasker_core, "cluster.stop").returncode == 0
    assert_nothing_running(tasker_core.cluster_dir)


@pytest.mark.slow
def test_a_second_start_prepares_again_once_and_skips_what_is_in_place(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    started(tasker_core)
    assert cli(tasker_core, "cluster.stop").returncode == 0
    before = len(checkout.calls())

    started(tasker_core)

    again = Counter(checkout.call_lines()[before:])
    assert again == Counter(
        [
            line
            for line in PREPARE_LINES
            if line not in ("bundle install", "bun install --frozen-lockfile")
        ]
        + [line for line in RUN_LINES for _ in (1, 2)]
    )
    assert cli(tasker_core, "cluster.stop").returncode == 0
    assert_nothing_running(tasker_core.cluster_dir)


@pytest.mark.slow
def test_the_checkouts_own_cluster_env_sets_counts_and_ports(tasker_core: CoreCluster) -> None:
    """The profile reads the checkout's cluster.env in place: edit it and start follows."""
    old = tasker_core.checkout
    checkout = old.write_cluster_env({"orchestration": 1, "worker-python": 3}, old.ports)
    core = CoreCluster(checkout, tasker_core.cluster_dir)

    result = started(core)

    assert (
        result.stdout.splitlines()[0] == "starting 4 instance(s): 1 orchestration, 3 worker-python"
    )
    rows = status_rows(core)
    running = {i: (r["state"], r["port"]) for i, r in rows.items() if r["state"] != "stopped"}
    base = checkout.ports.rest["worker-python"]
    assert running == {
        "orchestration-1": ("healthy", checkout.ports.rest["orchestration"]),
        "worker-python-1": ("healthy", base),
        "worker-python-2": ("healthy", base + 1),
        "worker-python-3": ("healthy", base + 2),
    }
    grpc = {e.instance: e.text("grpc") for e in checkout.servers()}
    assert grpc["worker-python-3"] == f"127.0.0.1:{checkout.ports.grpc['worker-python'] + 2}"
    urls = checkout.servers()[0].env["TASKER_TEST_ORCHESTRATION_URLS"]
    assert urls == f"http://localhost:{checkout.ports.rest['orchestration']}"
    assert [c.line for c in checkout.calls() if c.program == "cargo"] == [PREPARE_LINES[0]]
    assert cli(core, "cluster.stop").returncode == 0
    assert_nothing_running(core.cluster_dir)


def test_tasker_cores_real_env_files_plan_its_ports_and_paths(tasker_core: CoreCluster) -> None:
    """With tasker-core's real dotenv files (read from /work/shared) in the checkout: its
    counts, REST and gRPC ports, and every path under the checkout, not the author's machine."""
    if not (UPSTREAM_DOTENV / "cluster.env").is_file():
        pytest.skip(f"tasker-core's env files are not at {UPSTREAM_DOTENV.resolve()}")
    checkout = tasker_core.checkout
    for source in UPSTREAM_DOTENV.glob("*.env"):
        shutil.copyfile(source, checkout.dotenv / source.name)
    env = tasker_core.environ(clean_environ())

    plan = plan_instances(load_settings([PROJECT_ROOT / PROFILE], environ=env))

    assert plan.summary() == (
        "2 orchestration, 2 worker-rust, 2 worker-ruby, 2 worker-python, 2 worker-ts"
    )
    assert {i.id: (i.port, i.ports["grpc"]) for i in plan} == {
        "orchestration-1": (8080, 9190), "orchestration-2": (8081, 9191),
        "worker-rust-1": (8100, 9290), "worker-rust-2": (8101, 9291),
        "worker-ruby-1": (8200, 9200), "worker-ruby-2": (8201, 9201),
        "worker-python-1": (8300, 9300), "worker-python-2": (8301, 9301),
        "worker-ts-1": (8400, 9400), "worker-ts-2": (8401, 9401),
    }  # fmt: skip
    by_id = {i.id: i for i in plan}
    root = checkout.root
    assert by_id["orchestration-2"].environment["TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS"] == (
        "127.0.0.1:9191"
    )
    python = by_id["worker-python-2"].environment
    assert python["TASKER_WORKER_GRPC_BIND_ADDRESS"] == "127.0.0.1:9301"
    assert python["TASKER_WEB_BIND_ADDRESS"] == "127.0.0.1:8301"
    assert python["WORKSPACE_PATH"] == str(root)
    assert python["TASKER_CONFIG_PATH"] == f"{root}/config/tasker/generated/worker-test.toml"
    assert python["TASKER_TEMPLATE_PATH"] == f"{root}/tests/fixtures/task_templates/python"
    assert python["TASKER_MESSAGING_BACKEND"] == "rabbitmq"
    assert python["TASKER_TEST_ORCHESTRATION_URLS"] == "http://localhost:8080,http://localhost:8081"
    for instance in plan:
        leaked = [k for k, v in instance.environment.items() if OTHER_MACHINE in v]
        assert leaked == [], f"{instance.id}: {leaked}"
    assert by_id["orchestration-1"].argv == (
        "env",
        f"TASKER_CONFIG_PATH={root}/config/tasker/generated/orchestration-test.toml",
        f"TASKER_TEMPLATE_PATH={root}/tests/fixtures/task_templates",
        f"{root}/target/release/tasker-server",
    )
    assert by_id["worker-python-1"].argv == ("uv", "run", "python", "bin/server.py")
    assert by_id["worker-python-1"].workdir == root / "crates" / "tasker-py"


# --- gRPC readiness ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_grpc_port_taken_during_start_fails_it_as_degraded_naming_port_and_holder(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    port = checkout.ports.grpc["worker-python"] + 1
    checkout.grab_port_during_prepare("uv", port)

    result = cli(tasker_core, "cluster.start")

    (holder,) = checkout.holder_pids()
    assert result.returncode == 1, result.stdout
    assert "healthy but degraded" in result.stderr
    assert f"worker-python-2: grpc port {port} is held by pid {holder}" in result.stderr
    log = (tasker_core.cluster_dir / ".logs" / "worker-python-2.log").read_text()
    assert "Worker gRPC server error error=transport error" in log
    assert_nothing_running(tasker_core.cluster_dir)


@pytest.mark.slow
def test_status_shows_a_rest_healthy_instance_without_its_grpc_port_as_degraded(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    port = checkout.ports.grpc["worker-ts"]
    checkout.grab_port_during_prepare("bun", port)
    started(tasker_core, "--no-wait", "--orchestration=1", "--worker-ts=2", "--worker-rust=0",
            "--worker-ruby=0", "--worker-python=0")  # fmt: skip
    (holder,) = checkout.holder_pids()
    url = f"http://127.0.0.1:{checkout.ports.rest['worker-ts']}/health"
    wait_until(lambda: answers_healthy(url), 30, "worker-ts-1 to answer /health")
    watched = cluster(tasker_core)
    wait_until(
        lambda: len([r for r in watched.status() if r.state == "healthy"]) == 2,
        30,
        "orchestration-1 and worker-ts-2 healthy",
    )

    rows = status_rows(tasker_core)

    assert rows["worker-ts-1"]["state"] == "degraded"
    assert f"port {port}" in rows["worker-ts-1"]["detail"]
    assert f"pid {holder}" in rows["worker-ts-1"]["detail"]
    assert rows["worker-ts-2"]["state"] == "healthy"
    assert cli(tasker_core, "cluster.stop").returncode == 0
    assert_nothing_running(tasker_core.cluster_dir)


# --- refused before anything starts ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("program", "key", "how"),
    [
        ("bun", "TASKER_WORKER_TS_PREPARE", "install Bun"),
        ("uv", "TASKER_WORKER_PYTHON_COMMAND", "install uv"),
        ("bundle", "TASKER_WORKER_RUBY_COMMAND", "install Ruby and Bundler"),
        ("cargo", "TASKER_ORCHESTRATION_PREPARE", "install Rust"),
    ],
)
def test_a_missing_program_is_named_with_how_to_get_it_and_nothing_starts(
    tasker_core: CoreCluster, program: str, key: str, how: str
) -> None:
    result = cli(tasker_core, "cluster.start", without=(program,))

    assert result.returncode == 2, "2: a usage or configuration error"
    assert result.stderr.startswith("invalid cluster configuration")
    problems = [line for line in result.stderr.splitlines() if line.startswith(f"  {key}=")]
    assert problems, result.stderr
    assert f"the program {program!r} is not an executable file on PATH; {how}" in problems[0]
    assert tasker_core.checkout.calls() == []
    assert_nothing_running(tasker_core.cluster_dir)


@pytest.mark.slow
def test_a_failed_prepare_is_reported_with_its_log_and_nothing_starts(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    message = 'error: could not compile `tasker-example-rs` (bin "rust-worker")'
    checkout.fail("cargo", message, code=101, when="tasker-example-rs")

    result = cli(tasker_core, "cluster.start")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "preparing worker-rust failed, nothing was started: "
        "`cargo build --release -p tasker-example-rs` exited with code 101"
    ), result.stderr
    assert f"    | {message}" in result.stderr
    assert str(tasker_core.cluster_dir / ".logs" / "prepare-worker-rust.log") in result.stderr
    assert checkout.servers() == []
    assert not [line for line in checkout.call_lines() if line in RUN_LINES]
    assert_nothing_running(tasker_core.cluster_dir)


# --- stop ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_stop_sends_each_process_one_sigterm_in_every_shape_and_orphans_nothing(
    tasker_core: CoreCluster,
) -> None:
    """Direct (Rust binaries, bundle exec), forwarding wrapper (uv) and non-forwarding wrapper
    (bun, as cargo run): every server shuts down gracefully on exactly one SIGTERM."""
    checkout = tasker_core.checkout
    started(tasker_core)
    servers = checkout.servers()
    wrappers = [c.pid for c in checkout.calls() if c.line in RUN_LINES[1:]]

    stopped = cli(tasker_core, "cluster.stop")

    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines()[-1].startswith("10 stopped in ")
    terms = checkout.signals_by_pid("SIGTERM")
    assert {e.instance: terms.get(e.pid, 0) for e in servers} == {e.instance: 1 for e in servers}
    assert all(terms.get(pid, 0) <= 1 for pid in wrappers), terms
    exits = {e.pid for e in checkout.events() if e.event == "exit"}
    assert exits == {e.pid for e in servers}
    assert_gone([e.pid for e in servers] + wrappers)
    assert_nothing_running(tasker_core.cluster_dir)


@pytest.mark.slow
def test_a_stop_that_needs_sigkill_names_the_instances_and_their_last_log_lines(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    counts = ("--orchestration=1", "--worker-rust=0", "--worker-ruby=1", "--worker-python=1")
    started(tasker_core, *counts, "--worker-ts=1", shutdown_seconds=600)
    servers = checkout.servers()

    stopped = cli(tasker_core, "cluster.stop", "--timeout=1", shutdown_seconds=600)

    assert stopped.returncode == 0, stopped.stderr
    for instance in ("orchestration-1", "worker-ruby-1", "worker-python-1", "worker-ts-1"):
        assert any(
            line.startswith(instance) and "killed after timeout" in line
            for line in stopped.stdout.splitlines()
        ), stopped.stdout
    assert "Received SIGTERM, starting graceful shutdown" in stopped.stdout
    terms = checkout.signals_by_pid("SIGTERM")
    assert all(count == 1 for count in terms.values()), terms
    assert {e.pid for e in servers} <= terms.keys()
    assert_gone([e.pid for e in servers])
    assert_nothing_running(tasker_core.cluster_dir)


# --- tasker-core's own scripts and our plain pid files --------------------------------------


@pytest.mark.slow
def test_tasker_cores_status_script_sees_every_instance_our_start_made(
    tasker_core: CoreCluster,
) -> None:
    started(tasker_core)
    expected = sorted(
        f"{path.stem} running {path.read_text().strip()}"
        for path in (tasker_core.cluster_dir / ".pids").glob("*.pid")
    )

    seen = subprocess.run(
        ["bash", "-c", STATUS_SCRIPT, "status", str(tasker_core.cluster_dir)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip

    assert sorted(seen.stdout.splitlines()) == expected
    assert len(expected) == 10
    assert cli(tasker_core, "cluster.stop").returncode == 0
    after = subprocess.run(
        ["bash", "-c", STATUS_SCRIPT, "status", str(tasker_core.cluster_dir)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert after.stdout == ""
    assert_nothing_running(tasker_core.cluster_dir)


@pytest.mark.slow
def test_status_and_stop_see_an_instance_tasker_cores_script_started(
    tasker_core: CoreCluster,
) -> None:
    checkout = tasker_core.checkout
    rest, grpc = checkout.ports.rest["worker-python"], checkout.ports.grpc["worker-python"]
    env = {
        **tasker_core.environ(clean_environ()),
        "CLUSTER_DIR": str(tasker_core.cluster_dir),
        "PYTHON": sys.executable,
        "SERVER": str(TASKER_WORKER),
        "TASKER_INSTANCE_ID": "worker-python-1",
        "TASKER_WEB_BIND_ADDRESS": f"127.0.0.1:{rest}",
        "TASKER_WORKER_GRPC_BIND_ADDRESS": f"127.0.0.1:{grpc}",
        "TASKER_CONFIG_PATH": f"{checkout.root}/config/tasker/generated/worker-test.toml",
    }
    tasker_core.cluster_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", "-c", START_SCRIPT], env=env, check=True, timeout=30)
    pid = pid_file(tasker_core, "worker-python-1")
    assert not (tasker_core.cluster_dir / ".pids" / "worker-python-1.json").exists()
    wait_until(lambda: answers_healthy(f"http://127.0.0.1:{rest}/health"), 30, "the server")

    rows = status_rows(tasker_core)

    assert (rows["worker-python-1"]["state"], rows["worker-python-1"]["pid"]) == ("healthy", pid)
    assert rows["orchestration-1"]["state"] == "stopped"
    stopped = cli(tasker_core, "cluster.stop", "--instance=worker-python-1")
    assert stopped.returncode == 0, stopped.stderr
    assert "worker-python-1  stopped" in stopped.stdout
    assert checkout.signals_by_pid("SIGTERM") == {pid: 1}
    assert_gone([pid])
    assert_nothing_running(tasker_core.cluster_dir)


# --- the fake server itself -------------------------------------------------------------------


def run_fake(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(TASKER_WORKER), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def fake_env(core: CoreCluster, rest: int, grpc: int, **extra: str) -> dict[str, str]:
    return {
        **core.environ(clean_environ()),
        "TASKER_WEB_BIND_ADDRESS": f"127.0.0.1:{rest}",
        "TASKER_WORKER_GRPC_BIND_ADDRESS": f"127.0.0.1:{grpc}",
        "TASKER_CONFIG_PATH": f"{core.checkout.root}/config/tasker/generated/worker-test.toml",
        **extra,
    }


def killed(process: subprocess.Popen[str]) -> str:
    """SIGKILL the process group of `process` if it still runs; its remaining stdout."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    return process.communicate(timeout=30)[0]


def test_the_fake_worker_refuses_to_start_without_its_config_path(
    tasker_core: CoreCluster,
) -> None:
    env = fake_env(tasker_core, 1, 1)
    del env["TASKER_CONFIG_PATH"]

    process = run_fake(env)
    out, errors = process.communicate(timeout=30)

    assert process.returncode == 1
    assert errors.rstrip().endswith("TASKER_CONFIG_PATH environment variable not set")
    assert out == ""


@pytest.mark.slow
def test_the_fake_worker_keeps_rest_on_a_grpc_clash_and_hangs_on_a_second_sigterm(
    tasker_core: CoreCluster,
) -> None:
    ports = tasker_core.checkout.ports
    rest, grpc = ports.rest["worker-python"], ports.grpc["worker-python"]
    first = run_fake(fake_env(tasker_core, rest, grpc))
    second: subprocess.Popen[str] | None = None
    try:
        wait_until(lambda: answers_healthy(f"http://127.0.0.1:{rest}/health"), 30, "the first")
        second = run_fake(fake_env(tasker_core, rest + 1, grpc, FAKE_SHUTDOWN_SECONDS="600"))
        wait_until(lambda: answers_healthy(f"http://127.0.0.1:{rest + 1}/health"), 30, "the 2nd")
        body = httpx.get(f"http://127.0.0.1:{rest + 1}/health").json()
        assert body["status"] == "healthy" and body["worker_id"].startswith("worker-")
        bound = {e.pid: e.data["grpc_bound"] for e in tasker_core.checkout.servers()}
        assert bound == {first.pid: True, second.pid: False}

        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=30)
        assert first.returncode == 0
        assert out.splitlines()[-1].endswith("Worker Server terminated gracefully")
        assert out.splitlines()[-1][:4].isdigit() and "Z " in out.splitlines()[-1]

        pid = second.pid
        for count in (1, 2):  # one at a time: a pending SIGTERM would absorb the next
            second.send_signal(signal.SIGTERM)

            def recorded(count: int = count) -> bool:
                return tasker_core.checkout.signals_by_pid("SIGTERM").get(pid) == count

            wait_until(recorded, 30, f"SIGTERM {count} recorded")
        assert second.poll() is None
    finally:
        killed(first)
        rest_of_log = "" if second is None else killed(second)
    assert second is not None and second.returncode == -signal.SIGKILL
    assert "Received SIGTERM during shutdown; shutdown is now stuck" in rest_of_log
