"""Show `start` progress: a live bar on a terminal, one line per change otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO

from tasker_cluster.cli import printer
from tasker_cluster.cli.colour import console_for
from tasker_cluster.health.readiness import ProgressCallback, ProgressEvent


def _write_line(out: IO[str], line: str) -> None:
    out.write(f"{line}\n")
    out.flush()


@contextlib.contextmanager
def progress_view(out: IO[str], total: int) -> Iterator[ProgressCallback]:
    """A progress bar on a terminal; otherwise one line per instance that became healthy."""
    if not printer.wants_colour(out):

        def as_line(event: ProgressEvent) -> None:
            if event.state != "spawned":
                elapsed = f"{event.elapsed_seconds:.1f} s"
                count = f"{event.healthy}/{event.total}"
                _write_line(out, f"  {event.instance_id}: {event.state} ({count}, {elapsed})")

        yield as_line
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} healthy"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console_for(out), transient=True) as bar:
        task = bar.add_task("starting", total=total)

        def as_bar(event: ProgressEvent) -> None:
            description = f"{event.instance_id} {event.state}"
            bar.update(task, total=event.total, completed=event.healthy, description=description)

        yield as_bar
