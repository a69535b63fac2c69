"""Developer tasks: `invoke --list` shows them, `invoke --help <task>` documents each flag.

Each task imports its command module when it runs, so `invoke --list` and every command pay
only for what they use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import Task, task

from tasker_cluster.cli.flags import (
    ENV_FILE_HELP,
    SELECT_HELP,
    START_HELP,
    STATUS_HELP,
    STOP_HELP,
    STOP_TIMEOUT_HELP,
)
from tasker_cluster.cli.load import load_collection


def _cluster_task(
    flag_help: dict[str, str], iterable: list[str], optional: list[str]
) -> Callable[[Callable[..., None]], Task[Any]]:
    """`@task` with long flags only, documenting `flag_help` and the common --env-file (which,
    like the flags in `iterable`, may be repeated); flags in `optional` take an optional value."""
    return task(
        help={**flag_help, "env_file": ENV_FILE_HELP},
        auto_shortflags=False,
        iterable=[*iterable, "env_file"],
        optional=optional,
    )


def cluster_task(**flag_help: str) -> Callable[[Callable[..., None]], Task[Any]]:
    return _cluster_task(flag_help, [], [])


def repeatable_cluster_task(
    iterable: list[str], optional: list[str] | None = None, **flag_help: str
) -> Callable[[Callable[..., None]], Task[Any]]:
    return _cluster_task(flag_help, iterable, optional or [])


@repeatable_cluster_task(["scale"], None, **START_HELP)
def start(  # noqa: PLR0913 - one parameter per flag of cluster.start
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
    counts = {
        "orchestration": orchestration,
        "worker-python": worker_python,
        "worker-rust": worker_rust,
        "worker-ruby": worker_ruby,
        "worker-ts": worker_ts,
    }
    from tasker_cluster.cli import session  # noqa: PLC0415
    from tasker_cluster.cli.start import run_start  # noqa: PLC0415

    with session.cli_session():
        run_start(env_file, counts, wait, timeout, scale=scale or [])


@cluster_task(**STOP_HELP)
def stop(
    c: Context,
    *,
    service: str | None = None,
    instance: str | None = None,
    timeout: int = 10,
    env_file: list[str] | None = None,
) -> None:
    """Stop instances and all their child processes."""
    from tasker_cluster.cli import commands, session  # noqa: PLC0415

    with session.cli_session():
        commands.stop(env_file, service, instance, timeout)


@cluster_task(**STATUS_HELP)
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
    from tasker_cluster.cli import commands, session  # noqa: PLC0415

    with session.cli_session():
        commands.status(env_file, service, json, check, watch)


@cluster_task(
    **SELECT_HELP,
    follow="keep printing new lines, also of instances that start later, until Ctrl-C",
    lines="how many of the last (matching) lines of each log to print first (default: 50)",
    since="only lines since a duration ago (90s, 5m, 2h) or a time (2026-01-31T12:00:00Z)",
    grep="only lines matching this regular expression",
    task="only lines that mention this task uuid or one of its steps",
    timestamps="show each line's time (UTC) in a column of its own",
    json="print JSON lines (instance_id, time, text)",
)
def logs(  # noqa: PLR0913 - one parameter per flag of cluster.logs
    c: Context,
    *,
    service: str | None = None,
    instance: str | None = None,
    follow: bool = False,
    lines: int = 50,
    since: str | None = None,
    grep: str | None = None,
    task: str | None = None,
    timestamps: bool = False,
    json: bool = False,
    env_file: list[str] | None = None,
) -> None:
    """Print instance logs merged in time order, prefixed with instance ids."""
    from tasker_cluster.cli import logs as logs_cli  # noqa: PLC0415
    from tasker_cluster.cli import session  # noqa: PLC0415

    with session.cli_session():
        logs_cli.run_logs(
            env_file,
            service,
            instance,
            follow,
            lines,
            since=since,
            grep=grep,
            task=task,
            timestamps=timestamps,
            as_json=json,
        )


@repeatable_cluster_task(
    [],
    optional=["rolling"],
    **SELECT_HELP,
    timeout=STOP_TIMEOUT_HELP.format(when=" when stopping"),
    rolling="restart BATCH instances at a time (default 1), each batch healthy before the next",
)
def restart(
    c: Context,
    *,
    service: str | None = None,
    instance: str | None = None,
    timeout: int = 10,
    rolling: str | None = None,
    env_file: list[str] | None = None,
) -> None:
    """Stop the selected instances, then start them again (--rolling: batch by batch)."""
    from tasker_cluster.cli import restart as restart_cli  # noqa: PLC0415
    from tasker_cluster.cli import session  # noqa: PLC0415

    with session.cli_session():
        restart_cli.run_restart(
            env_file, service, instance, timeout, rolling=session.batch_size(rolling)
        )


@cluster_task(
    counts="TYPE=N[,TYPE=N...]: the counts to run, e.g. orchestration=3,worker-python=1",
    timeout=STOP_TIMEOUT_HELP.format(when=" for the surplus"),
    start_timeout="seconds to wait for new instances to become healthy (default: 60)",
)
def scale(
    c: Context,
    counts: str,
    *,
    timeout: int = 10,
    start_timeout: int = 60,
    env_file: list[str] | None = None,
) -> None:
    """Run exactly N instances of each TYPE=N given: stop the surplus, start the rest."""
    from tasker_cluster.cli import scale as scale_cli  # noqa: PLC0415
    from tasker_cluster.cli import session  # noqa: PLC0415

    with session.cli_session():
        scale_cli.run_scale(env_file, session.split_items(counts), timeout, start_timeout)


@cluster_task(
    json="print the values as JSON",
    all="also show the process environment's other variables (PATH, HOME, ...)",
)
def config(
    c: Context, *, json: bool = False, all: bool = False, env_file: list[str] | None = None
) -> None:
    """Show the resolved configuration and where each value came from (secrets masked)."""
    from tasker_cluster.cli import config as config_cli  # noqa: PLC0415
    from tasker_cluster.cli import session  # noqa: PLC0415

    with session.cli_session():
        config_cli.run_config(env_file, json, all)


@cluster_task()
def check(c: Context, *, env_file: list[str] | None = None) -> None:
    """Validate the configuration and ports; start nothing."""
    from tasker_cluster.cli import check as check_cli  # noqa: PLC0415
    from tasker_cluster.cli import session  # noqa: PLC0415

    with session.cli_session():
        check_cli.run_check(env_file)


@cluster_task(
    data="also remove the embedded database (<cluster dir>/.data)",
    timeout=STOP_TIMEOUT_HELP.format(when=""),
)
def down(
    c: Context, *, data: bool = False, timeout: int = 10, env_file: list[str] | None = None
) -> None:
    """Stop every instance, then remove the cluster's records and logs."""
    from tasker_cluster.cli import down as down_cli  # noqa: PLC0415
    from tasker_cluster.cli import session  # noqa: PLC0415

    with session.cli_session():
        down_cli.run_down(env_file, data, timeout)


cluster = Collection("cluster", start, stop, status, logs, restart, scale, config, check, down)

namespace = Collection()
namespace.add_collection(cluster)
namespace.add_collection(load_collection)
