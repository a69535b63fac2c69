"""`cluster.restart`: stop the selected instances, then start them again."""

from __future__ import annotations

import sys
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.progress import progress_view
from tasker_cluster.cli.session import EnvFiles, interrupt_undoes, open_cluster, write_lines


def run_restart(
    env_file: EnvFiles,
    service: str | None,
    instance: str | None,
    timeout: float,
    *,
    rolling: int | None = None,
    out: IO[str] | None = None,
) -> None:
    """Restart at once, or with `rolling=N` N at a time, each batch healthy before the next."""
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    with interrupt_undoes("restart"), progress_view(out, 0) as on_progress:
        report = cluster.restart(
            service=service,
            instance=instance,
            timeout=timeout,
            rolling=rolling,
            on_progress=on_progress,
        )
    write_lines(out, printer.start_lines(report))
