"""The bodies of the `cluster.*` invoke tasks: build a `Cluster`, call it, print the outcome."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from invoke.exceptions import Exit

from tasker_cluster.cli import printer
from tasker_cluster.cli.progress import progress_view
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.cluster.start import StartReport
from tasker_cluster.cluster.status import InstanceState
from tasker_cluster.config.loader import load_settings
from tasker_cluster.config.model import key_part
from tasker_cluster.errors import ClusterError
from tasker_cluster.logs import FOLLOW_INTERVAL
from tasker_cluster.process.stop import StopOutcome

WATCH_INTERVAL = 2.0
CLEAR_SCREEN = "\x1b[H\x1b[2J"
INTERRUPTED = 130


def _write(out: IO[str], lines: Iterable[str]) -> None:
    out.writelines(f"{line}\n" for line in lines)
    out.flush()


@contextlib.contextmanager
def cli_session() -> Iterator[None]:
    """Log warnings to stderr; turn library errors into `invoke.Exit` with their message."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        yield
    except ClusterError as error:
        raise Exit(str(error), code=1) from None


@contextlib.contextmanager
def _interrupt_undoes(command: str) -> Iterator[None]:
    """Ctrl-C during a start or restart: the library stopped what it spawned; say so."""
    try:
        yield
    except KeyboardInterrupt:
        raise Exit(
            f"interrupted: stopped every instance this {command} had spawned", code=INTERRUPTED
        ) from None


def _repeat_until_interrupted(step: Callable[[], None], interval: float) -> None:
    """Run `step` every `interval` seconds until Ctrl-C."""
    try:
        while True:
            step()
            time.sleep(interval)
    except KeyboardInterrupt:
        return


def open_cluster(env_file: str | None, counts: Mapping[str, str | None] | None = None) -> Cluster:
    """Settings from `env_file` (default profile if None); counts given as flags win."""
    overrides: dict[str, str] = {}
    origins: dict[str, str] = {}
    for service, value in (counts or {}).items():
        if value is not None:
            key = f"TASKER_{key_part(service)}_INSTANCES"
            overrides[key], origins[key] = str(value), f"the --{service} flag"
    env_files = [Path(env_file)] if env_file else None
    return Cluster(load_settings(env_files, overrides, override_origins=origins))


def run_start(
    env_file: str | None,
    counts: Mapping[str, str | None],
    wait: bool,
    timeout: float,
    *,
    out: IO[str] | None = None,
) -> tuple[Cluster, StartReport]:
    out = out or sys.stdout
    cluster = open_cluster(env_file, counts)
    planned = cluster.plan()
    summary = ", ".join(
        f"{sum(i.service == s for i in planned)} {s}"
        for s in dict.fromkeys(i.service for i in planned)
    )
    _write(out, [f"starting {len(planned)} instance(s): {summary or 'none configured'}"])
    with _interrupt_undoes("start"), progress_view(out, len(planned)) as on_progress:
        report = cluster.start(wait=wait, timeout=timeout, on_progress=on_progress)
    _write(out, printer.start_lines(report))
    return cluster, report


def run_stop(
    env_file: str | None,
    service: str | None,
    instance: str | None,
    timeout: float,
    *,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    began = time.monotonic()
    results = open_cluster(env_file).stop(service=service, instance=instance, timeout=timeout)
    _write(out, printer.stop_lines(results, time.monotonic() - began, printer.wants_colour(out)))
    survivors = [r.instance_id for r in results if r.outcome is StopOutcome.SURVIVED]
    if survivors:
        raise Exit(f"processes of {', '.join(survivors)} survived SIGKILL; see `ps`", code=1)


def run_status(
    env_file: str | None,
    service: str | None,
    as_json: bool,
    check: bool,
    watch: bool,
    *,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    if watch:
        _watch(cluster, service, out)
        return
    rows = cluster.status(service=service)
    _write(
        out,
        [printer.to_json(rows)]
        if as_json
        else printer.status_lines(rows, printer.wants_colour(out)),
    )
    if check and (not rows or any(row.state is not InstanceState.HEALTHY for row in rows)):
        raise Exit(f"not every instance is healthy: {printer.status_summary(rows)}", code=1)


def _watch(cluster: Cluster, service: str | None, out: IO[str]) -> None:
    """Redraw the status table in place (on a terminal) every WATCH_INTERVAL until Ctrl-C."""
    colour = printer.wants_colour(out)

    def redraw() -> None:
        lines = printer.status_lines(cluster.status(service=service), colour)
        _write(out, [CLEAR_SCREEN, *lines] if colour else [*lines, ""])

    _repeat_until_interrupted(redraw, WATCH_INTERVAL)


def run_logs(
    env_file: str | None,
    service: str | None,
    instance: str | None,
    follow: bool,
    lines: int,
    *,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    colour = printer.wants_colour(out)
    if not follow:
        found = cluster.tail_logs(service, instance, lines)
        formatter = printer.LogFormatter(colour, [line.instance_id for line in found])
        empty = [f"no logs in {cluster.settings.logs_dir}"]
        _write(out, formatter.format(found) if found else empty)
        return
    follower = cluster.follow_logs(service, instance, lines)
    formatter = printer.LogFormatter(colour, follower.instance_ids)
    _write(out, formatter.format(follower.initial))

    def print_new_lines() -> None:
        if fresh := follower.poll():
            _write(out, formatter.format(fresh))

    _repeat_until_interrupted(print_new_lines, FOLLOW_INTERVAL)


def run_restart(
    env_file: str | None,
    service: str | None,
    instance: str | None,
    timeout: float,
    *,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    with _interrupt_undoes("restart"), progress_view(out, 0) as on_progress:
        report = cluster.restart(
            service=service, instance=instance, timeout=timeout, on_progress=on_progress
        )
    _write(out, printer.start_lines(report))
