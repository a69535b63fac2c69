"""`cluster.stop`: TERM every selected process tree at once, KILL after the grace period."""

from __future__ import annotations

import sys
import time
from typing import IO

from invoke.exceptions import Exit

from tasker_cluster.cli import printer
from tasker_cluster.cli.session import open_cluster, write_lines
from tasker_cluster.process.stop import StopOutcome


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
    write_lines(
        out, printer.stop_lines(results, time.monotonic() - began, printer.wants_colour(out))
    )
    survivors = [r.instance_id for r in results if r.outcome is StopOutcome.SURVIVED]
    if survivors:
        raise Exit(f"processes of {', '.join(survivors)} survived SIGKILL; see `ps`", code=1)
