"""Developer tasks: `invoke --list` shows them, `invoke --help <task>` documents each flag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import Task, task

from tasker_cluster.cli import logs as logs_cli
from tasker_cluster.cli import restart as restart_cli
from tasker_cluster.cli import session
from tasker_cluster.cli import start as start_cli
from tasker_cluster.cli import status as status_cli
from tasker_cluster.cli import stop as stop_cli
from tasker_cluster.cli.load import load_collection
from tasker_cluster.load.cluster_manifest import write_cluster_manifest

SELECT_HELP = {
    "service": "only instances of this service type, e.g. orchestration or worker-python",
    "instance": "only this instance, e.g. orchestration-2",
}
ENV_FILE_HELP = (
    "profile to read (default: config/dotenv/multi-instance.env); repeat it, or separate files "
    "with commas, to layer several (later ones win)"
)
STOP_TIMEOUT_HELP = "seconds between SIGTERM and SIGKILL{when} (default: 10)"


def cluster_task(**flag_help: str) -> Callable[[Callable[..., None]], Task[Any]]:
    """`@task` with long flags only, documenting `flag_help` and the common --env-file."""
    return repeatable_cluster_task([], **flag_help)


def repeatable_cluster_task(
    iterable: list[str], **flag_help: str
) -> Callable[[Callable[..., None]], Task[Any]]:
    """`cluster_task` whose flags named in `iterable` (and --env-file) may be repeated."""
    return task(
        help={**flag_help, "env_file": ENV_FILE_HELP},
        auto_shortflags=False,
        iterable=[*iterable, "env_file"],
    )


@repeatable_cluster_task(
    ["scale"],
    scale="TYPE=N: run N instances of any configured type (repeatable), e.g. worker-python=3",
    orchestration="number of orchestration instances (default: from the env file)",
    worker_python="number of worker-python instances (default: from the env file)",
    worker_rust="number of worker-rust instances (default: from the env file)",
    worker_ruby="number of worker-ruby instances (default: from the env file)",
    worker_ts="number of worker-ts instances (default: from the env file)",
    wait="wait until every instance answers healthy (default: on; --no-wait to skip)",
    timeout="seconds to wait for all instances to become healthy (default: 60)",
)
def start(
    c: Context,
    *,
    orchestration: str | None = None,
    worker_python: str | None = None,
    worker_rust: str | None = None,
    worker_ruby: str | None = None,
    worker_ts: str | None = None,
    scale: list[str] | None = None,
    env_file: list[str] | None = None,
    wait: bool = True,
    timeout: int = 60,
) -> None:
    """Start instances in parallel; wait until all are healthy."""
    flags = {
        "orchestration": orchestration,
        "worker-python": worker_python,
        "worker-rust": worker_rust,
        "worker-ruby": worker_ruby,
        "worker-ts": worker_ts,
    }
    with session.cli_session():
        write_cluster_manifest(
            *start_cli.run_start(env_file, flags, wait, timeout, scale=scale or [])
        )


@cluster_task(**SELECT_HELP, timeout=STOP_TIMEOUT_HELP.format(when=""))
def stop(
    c: Context,
    *,
    service: str | None = None,
    instance: str | None = None,
    timeout: int = 10,
    env_file: list[str] | None = None,
) -> None:
    """Stop instances and all their child processes."""
    with session.cli_session():
        stop_cli.run_stop(env_file, service, instance, timeout)


@cluster_task(
    service=SELECT_HELP["service"],
    json="print the rows as JSON",
    check="exit non-zero unless every instance is healthy",
    watch="refresh every 2 s until Ctrl-C",
)
def status(
    c: Context,
    *,
    service: str | None = None,
    json: bool = False,
    check: bool = False,
    watch: bool = False,
    env_file: list[str] | None = None,
) -> None:
    """Show state, pid, port, uptime, CPU, RSS and health."""
    with session.cli_session():
        status_cli.run_status(env_file, service, json, check, watch)


@cluster_task(
    **SELECT_HELP,
    follow="keep printing new lines, also of instances that start later, until Ctrl-C",
    lines="how many of the last lines of each log to print first (default: 50)",
)
def logs(
    c: Context,
    *,
    service: str | None = None,
    instance: str | None = None,
    follow: bool = False,
    lines: int = 50,
    env_file: list[str] | None = None,
) -> None:
    """Print instance logs merged, prefixed with instance ids."""
    with session.cli_session():
        logs_cli.run_logs(env_file, service, instance, follow, lines)


@cluster_task(**SELECT_HELP, timeout=STOP_TIMEOUT_HELP.format(when=" when stopping"))
def restart(
    c: Context,
    *,
    service: str | None = None,
    instance: str | None = None,
    timeout: int = 10,
    env_file: list[str] | None = None,
) -> None:
    """Stop the selected instances, then start them again."""
    with session.cli_session():
        restart_cli.run_restart(env_file, service, instance, timeout)


cluster = Collection("cluster", start, stop, status, logs, restart)

namespace = Collection()
namespace.add_collection(cluster)
namespace.add_collection(load_collection)
