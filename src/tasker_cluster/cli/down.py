"""`cluster.down [--data]`: stop every instance, then remove the cluster's state."""

from __future__ import annotations

import sys
import time
from typing import IO

from tasker_cluster.cli import exit_codes, printer
from tasker_cluster.cli.exit_codes import CommandExit
from tasker_cluster.cli.session import EnvFiles, open_cluster, write_lines
from tasker_cluster.cli.stop import countdown_to
from tasker_cluster.process.stop import StopOutcome


def run_down(env_file: EnvFiles, data: bool, timeout: float, *, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    began = time.monotonic()
    cluster = open_cluster(env_file)
    results, removed = cluster.down(data=data, timeout=timeout, on_wait=countdown_to(out))
    elapsed = time.monotonic() - began
    write_lines(out, printer.stop_lines(results, elapsed, printer.wants_colour(out)))
    survivors = [r.instance_id for r in results if r.outcome is StopOutcome.SURVIVED]
    if survivors:
        message = f"processes of {', '.join(survivors)} survived SIGKILL; nothing was removed"
        raise CommandExit(message, exit_codes.FAILED)
    shown = ", ".join(str(path) for path in removed) or "nothing (no state found)"
    write_lines(out, [f"removed {shown}"])
