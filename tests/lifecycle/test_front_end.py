"""`tasker-cluster start|stop|status` against `invoke cluster.start|stop|status`: the same
flags, defaults, help, output and exit codes."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tasks

from tasker_cluster.cli import flags
from tasker_cluster.cli.main import build_parser
from tasker_cluster.config.loader import PROJECT_ROOT

from .helpers import ClusterFactory, assert_nothing_running, clean_environ, fake_command

INVOKE = Path(sys.executable).parent / "invoke"
LEAN = [sys.executable, "-m", "tasker_cluster.cli"]
VOLATILE_JSON = ("pid", "uptime_seconds", "cpu_percent", "rss_bytes", "health_latency_ms")


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
        check=False,
    )


def both(command: str, *args: str, env: dict[str, str]) -> tuple[Any, Any]:
    """(invoke's, tasker-cluster's) stdout, stderr and exit code of the same command, with
    elapsed times (`in 0.1 s`) read as `in N s`: the two runs may take different times."""
    via_invoke = run([str(INVOKE), f"cluster.{command}", *args], env)
    lean = run([*LEAN, command, *args], env)
    return (
        (_timeless(via_invoke.stdout), _timeless(via_invoke.stderr), via_invoke.returncode),
        (_timeless(lean.stdout), _timeless(lean.stderr), lean.returncode),
    )


def _timeless(text: str) -> str:
    return re.sub(r"\bin \d+\.\d+ s\b", "in N s", text)


def cli_env(factory: ClusterFactory, **options: object) -> dict[str, str]:
    return {**clean_environ(), **factory.overrides(**options)}  # type: ignore[arg-type]


def test_the_console_script_runs_the_lean_front_end() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert project["project"]["scripts"]["tasker-cluster"] == "tasker_cluster.cli.main:main"


def test_each_command_takes_the_invoke_tasks_flags_with_their_defaults() -> None:
    parser = build_parser()
    commands = next(
        action.choices
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    for name in ("start", "stop", "status"):
        body = getattr(tasks, name).body
        expected = {
            parameter.name: parameter.default
            for parameter in inspect.signature(body).parameters.values()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        }
        actions = [a for a in commands[name]._actions if a.dest not in ("help",)]
        parsed = {action.dest: action.default for action in actions}
        assert parsed == expected, name
        flag_names = {option for action in actions for option in action.option_strings}
        assert {f"--{dest.replace('_', '-')}" for dest in expected} <= flag_names, name


def test_each_command_has_the_invoke_tasks_help() -> None:
    for name, doc, helps in [
        ("start", flags.START_DOC, flags.START_HELP),
        ("stop", flags.STOP_DOC, flags.STOP_HELP),
        ("status", flags.STATUS_DOC, flags.STATUS_HELP),
    ]:
        task = getattr(tasks, name)
        assert task.body.__doc__ == doc
        assert task.help == {**helps, "env_file": flags.ENV_FILE_HELP}


def test_help_lists_the_three_commands() -> None:
    shown = run([*LEAN, "--help"], clean_environ())

    assert shown.returncode == 0
    assert re.search(r"\{start,stop,status\}", shown.stdout) or all(
        name in shown.stdout for name in ("start", "stop", "status")
    )


def test_status_and_stop_of_a_stopped_cluster_print_the_same(factory: ClusterFactory) -> None:
    env = cli_env(factory)
    for args in [("status",), ("status", "--json"), ("status", "--service=orchestration")]:
        via_invoke, lean = both(*args, env=env)
        assert lean == via_invoke, args
        assert via_invoke[2] == 0
    via_invoke, lean = both("status", "--check", env=env)
    assert lean == via_invoke
    assert via_invoke[2] == 3, "3: not every instance is healthy"
    via_invoke, lean = both("stop", "--timeout=1", env=env)
    assert lean == via_invoke
    assert via_invoke[0] == "nothing to stop in N s\n"


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--service=nope"),
        ("stop", "--instance=nope-1"),
        ("stop", "--env-file=config/dotenv/missing.env"),
        ("start", "--orchestration=abc"),
        ("start", "--scale", "nonsense"),
    ],
    ids=["unknown service", "unknown instance", "missing env file", "bad count", "bad scale"],
)
def test_errors_have_the_same_message_and_exit_code(
    factory: ClusterFactory, args: tuple[str, ...]
) -> None:
    via_invoke, lean = both(*args, env=cli_env(factory))

    assert lean == via_invoke
    assert via_invoke[2] == 2, "2: a usage or configuration error"
    assert via_invoke[1].strip()
    assert_nothing_running(factory.cluster_dir)


def masked(table: str) -> list[list[str]]:
    """The status table's instance, state and port columns (the rest changes by the second)."""
    return [line.split()[:2] + line.split()[3:4] for line in table.splitlines()[1:-1]]


@pytest.mark.slow
def test_a_lean_start_status_stop_round_trip_matches_invoke(factory: ClusterFactory) -> None:
    env = cli_env(factory, orchestration=2, workers=1)

    started = run([*LEAN, "start", "--timeout=60"], env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines()[0] == (
        "starting 3 instance(s): 2 orchestration, 1 worker-python"
    )
    assert "3 started, 0 already running; all 3 healthy after" in started.stdout
    assert list((factory.cluster_dir / "manifests").glob("cluster-start-*.json"))

    via_invoke, lean = both("status", "--json", env=env)
    rows = [json.loads(out) for out, _, _ in (via_invoke, lean)]
    for found in rows:
        for row in found:
            for key in VOLATILE_JSON:
                row.pop(key)
    assert rows[0] == rows[1]
    assert [row["state"] for row in rows[1]] == ["healthy"] * 3
    via_invoke, lean = both("status", env=env)
    assert masked(lean[0]) == masked(via_invoke[0])
    assert (
        lean[0].splitlines()[-1] == via_invoke[0].splitlines()[-1] == ("3 instance(s): 3 healthy")
    )
    assert run([*LEAN, "status", "--check"], env).returncode == 0

    again = run([*LEAN, "start"], env)
    assert again.returncode == 0, again.stderr
    assert "0 started, 3 already running" in again.stdout

    stopped = run([*LEAN, "stop", "--timeout=5"], env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines()[-1].startswith("3 stopped in ")
    assert_nothing_running(factory.cluster_dir)


@pytest.mark.slow
def test_a_lean_stop_kills_after_the_timeout_and_says_so(factory: ClusterFactory) -> None:
    env = cli_env(factory, orchestration_args=("--ignore-term",), orchestration=2, workers=0)
    assert run([*LEAN, "start"], env).returncode == 0

    stopped = run([*LEAN, "stop", "--timeout=1"], env)

    assert stopped.returncode == 0, stopped.stderr
    assert "2 killed after timeout in " in stopped.stdout
    assert "orchestration-1 needed SIGKILL" in stopped.stdout
    assert_nothing_running(factory.cluster_dir)


def test_fake_command_is_the_stand_in() -> None:
    assert "fake_service.py" in fake_command()
