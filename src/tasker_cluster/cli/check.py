"""`cluster.check`: validate the configuration and the plan, and that every port is free for
what is not running yet; starts nothing."""

from __future__ import annotations

import sys
from typing import IO

from tasker_cluster.cli.session import EnvFiles, open_cluster, write_lines
from tasker_cluster.process.errors import PortsInUseError


def run_check(env_file: EnvFiles, *, out: IO[str] | None = None) -> None:
    """Raise the first error `start` would meet before spawning anything; else say so."""
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    plan = cluster.plan()
    conflicts = cluster.preflight(plan)
    if conflicts:
        raise PortsInUseError(conflicts)
    running = len(plan) - len(cluster.not_running(plan))
    write_lines(
        out,
        [
            f"configuration ok: {len(plan)} instance(s) planned"
            f" ({plan.summary() or 'none configured'}), {running} already running,"
            " every port of the others is free"
        ],
    )
