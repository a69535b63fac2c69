"""`cluster.stop`: TERM every selected process tree at once, KILL after the grace period."""

from __future__ import annotations

import sys
import time
from typing import IO

from tasker_cluster.cli import exit_codes, printer
from tasker_cluster.cli.exit_codes import CommandExit
from tasker_cluster.cli.session import EnvFiles, open_cluster, write_lines
from tasker_cluster.process.stop import StopOutcome, StopWaitCallback

MAX_SHOWN = 6


def countdown_to(out: IO[str]) -> StopWaitCallback:
    """Print the grace period's countdown and what still runs, about once a second."""

    def countdown(left: float, running: list[str]) -> None:
        shown = ", ".join(running[:MAX_SHOWN]) + (" ..." if len(running) > MAX_SHOWN else "")
        write_lines(out, [f"  waiting for {len(running)} to exit ({left:.0f} s left): {shown}"])

    return countdown


def run_stop(
    env_file: EnvFiles,
    service: str | None,
    instance: str | None,
    timeout: float,
    *,
    out: IO[str] | None = None,
) -> None:
    out = out or sys.stdout
    began = time.monotonic()

    cluster = open_cluster(env_file)
    results = cluster.stop(
        service=service, instance=instance, timeout=timeout, on_wait=countdown_to(out)
    )
    write_lines(
        out, printer.stop_lines(results, time.monotonic() - began, printer.wants_colour(out))
    )
    survivors = [r.instance_id for r in results if r.outcome is StopOutcome.SURVIVED]
    if survivors:
        raise CommandExit(
            f"processes of {', '.join(survivors)} survived SIGKILL; see `ps`", exit_codes.FAILED
        )
