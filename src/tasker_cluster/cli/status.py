"""`cluster.status`: one row per instance, as a table, as JSON, checked, or watched."""

from __future__ import annotations

import sys
from typing import IO

from invoke.exceptions import Exit

from tasker_cluster.cli import exit_codes, printer
from tasker_cluster.cli.session import (
    CLEAR_SCREEN,
    WATCH_INTERVAL,
    EnvFiles,
    open_cluster,
    repeat_until_interrupted,
    write_lines,
)
from tasker_cluster.cluster.facade import Cluster
from tasker_cluster.cluster.status import InstanceState


def run_status(
    env_file: EnvFiles,
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
    write_lines(
        out,
        [printer.to_json(rows)]
        if as_json
        else printer.status_lines(rows, printer.wants_colour(out)),
    )
    if check and (not rows or any(row.state is not InstanceState.HEALTHY for row in rows)):
        summary = printer.status_summary(rows)
        raise Exit(f"not every instance is healthy: {summary}", code=exit_codes.NOT_HEALTHY)


def _watch(cluster: Cluster, service: str | None, out: IO[str]) -> None:
    """Redraw the status table in place (on a terminal) every WATCH_INTERVAL until Ctrl-C."""
    colour = printer.wants_colour(out)

    def redraw() -> None:
        lines = printer.status_lines(cluster.status(service=service), colour)
        write_lines(out, [CLEAR_SCREEN, *lines] if colour else [*lines, ""])

    repeat_until_interrupted(redraw, WATCH_INTERVAL)
