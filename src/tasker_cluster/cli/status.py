"""`cluster.status`: one row per instance, as a table, as JSON, checked, or watched."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

from tasker_cluster.cli import exit_codes, printer
from tasker_cluster.cli.exit_codes import CommandExit
from tasker_cluster.cli.session import (
    CLEAR_SCREEN,
    WATCH_INTERVAL,
    EnvFiles,
    open_cluster,
    repeat_until_interrupted,
    write_lines,
)

if TYPE_CHECKING:
    from tasker_cluster.cluster.facade import Cluster

# A health answer on loopback takes milliseconds; an instance that accepts the connection but
# does not answer within this long is reported unhealthy rather than holding up the table.
HEALTH_TIMEOUT = 1.0


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
    rows = cluster.status(service=service, health_timeout=HEALTH_TIMEOUT)
    write_lines(
        out,
        [printer.to_json(rows)]
        if as_json
        else printer.status_lines(rows, printer.wants_colour(out)),
    )
    from tasker_cluster.cluster.status import InstanceState  # noqa: PLC0415 - loaded by now

    if check and (not rows or any(row.state is not InstanceState.HEALTHY for row in rows)):
        summary = printer.status_summary(rows)
        raise CommandExit(f"not every instance is healthy: {summary}", exit_codes.NOT_HEALTHY)


def _watch(cluster: Cluster, service: str | None, out: IO[str]) -> None:
    """Redraw the status table in place (on a terminal) every WATCH_INTERVAL until Ctrl-C."""
    colour = printer.wants_colour(out)

    def redraw() -> None:
        rows = cluster.status(service=service, health_timeout=HEALTH_TIMEOUT)
        lines = printer.status_lines(rows, colour)
        write_lines(out, [CLEAR_SCREEN, *lines] if colour else [*lines, ""])

    repeat_until_interrupted(redraw, WATCH_INTERVAL)
