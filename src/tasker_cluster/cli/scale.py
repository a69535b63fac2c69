"""`cluster.scale TYPE=N ...`: run exactly N instances of each named type, in both directions
(the surplus stops first, highest number first, gracefully)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.progress import progress_view
from tasker_cluster.cli.session import EnvFiles, interrupt_undoes, open_cluster, write_lines
from tasker_cluster.cli.start import parse_scale
from tasker_cluster.cluster.facade import ScaleReport


def run_scale(
    env_file: EnvFiles,
    counts: Sequence[str],
    timeout: float,
    start_timeout: float,
    *,
    out: IO[str] | None = None,
) -> ScaleReport:
    out = out or sys.stdout
    cluster = open_cluster(env_file)
    wanted, origins = parse_scale(counts, {}, key="TYPE=N", origin="the cluster.scale arguments")
    colour = printer.wants_colour(out)
    with interrupt_undoes("scale"), progress_view(out, 0) as on_progress:
        report = cluster.scale(
            wanted, origins, timeout=timeout, start_timeout=start_timeout, on_progress=on_progress
        )
    if report.stopped:
        write_lines(out, printer.stop_lines(report.stopped, 0.0, colour)[:-1])
    write_lines(out, printer.start_lines(report.started))
    return report
