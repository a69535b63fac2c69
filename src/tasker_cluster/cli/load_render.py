"""Human-readable output of a load run: report tables and a live progress bar (rich)."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tasker_cluster.cli.tables import new_table, print_table
from tasker_cluster.load.report import LoadReport
from tasker_cluster.load.tracking import Progress as RunProgress


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _table(
    title: str, columns: Sequence[str], right: Collection[str] = (), *, show_header: bool = True
) -> Table:
    """A left-titled, bordered table with `columns`, those named in `right` right-aligned."""
    return new_table(columns, right=right, title=title, show_header=show_header, bordered=True)


def headline(report: LoadReport) -> str:
    spec = report.spec
    what = f"{spec.tasks} x {spec.template}"
    if spec.template == "fan_out":
        what += f"(width={spec.width})"
    verdict = "OK" if report.ok else "FAILED"
    return f"load run {verdict}: {what} against {report.target}, seed {spec.seed}"


def render_report(report: LoadReport, console: Console) -> None:
    style = "bold green" if report.ok else "bold red"
    console.print(headline(report), style=style, highlight=False)
    print_table(_overview(report), console)
    print_table(_instances(report), console)
    if report.workers:
        print_table(_workers(report), console)
    print_table(_invariants(report), console)
    if report.faults:
        print_table(_faults(report), console)
    if report.create_errors:
        console.print(f"[red]{report.create_errors} creation(s) failed[/red], e.g.:")
        for example in report.create_error_examples[:5]:
            console.print(f"  {example}", markup=False, highlight=False)


def _overview(report: LoadReport) -> Table:
    table = _table("throughput and latency", ("figure", "value"), {"value"}, show_header=False)
    table.add_row("tasks created", f"{report.tasks_created:,}")
    table.add_row("tasks complete", f"{report.tasks_completed:,}")
    table.add_row("tasks failed", f"{report.tasks_failed:,}")
    table.add_row("tasks unfinished", f"{report.tasks_unfinished:,}")
    table.add_row("tasks/s", f"{report.tasks_per_s:,.1f}")
    table.add_row("steps/s", f"{report.steps_per_s:,.1f}")
    if report.latency is not None:
        latency = report.latency
        table.add_row("latency p50 / p95", f"{_ms(latency.p50_ms)} / {_ms(latency.p95_ms)}")
        table.add_row("latency p99 / max", f"{_ms(latency.p99_ms)} / {_ms(latency.max_ms)}")
    table.add_row(
        "run time", f"{report.elapsed_s:.1f} s" + (" (timed out)" if report.timed_out else "")
    )
    table.add_row(
        "follow / verify cost",
        f"{report.follow_cost.requests:,} req {report.follow_cost.seconds:.1f} s / "
        f"{report.verify_cost.requests:,} req {report.verify_cost.seconds:.1f} s",
    )
    return table


def _instances(report: LoadReport) -> Table:
    columns = ("instance", "url", "requests served", "tasks created", "tasks finalized")
    table = _table("orchestration instances", columns, columns[2:])
    for row in report.orchestration:
        table.add_row(
            row.instance_id,
            row.url,
            f"{row.requests_served:,}",
            f"{row.tasks_created:,}",
            f"{row.tasks_finalized:,}",
        )
    return table


def _workers(report: LoadReport) -> Table:
    table = _table("workers", ("worker", "steps run"), {"steps run"})
    for row in report.workers:
        table.add_row(row.worker_id, f"{row.steps_run:,}")
    return table


def _invariants(report: LoadReport) -> Table:
    table = _table("invariants (checked through the API)", ("invariant", "result", "first example"))
    for result in report.invariants:
        verdict = "[green]ok[/green]" if result.ok else f"[red]{result.violations} broken[/red]"
        example = ""
        if result.examples:
            first = result.examples[0]
            example = f"task {first.task_uuid}: {first.detail}"
        table.add_row(result.name, verdict, example)
    return table


def _faults(report: LoadReport) -> Table:
    columns = ("at", "action", "instance", "back at", "problem")
    table = _table("injected faults", columns, {"at", "back at"})
    for fault in report.faults:
        back = "-" if fault.restored_offset_s is None else f"{fault.restored_offset_s:.1f} s"
        table.add_row(
            f"{fault.offset_s:.1f} s", fault.action, fault.instance_id, back, fault.error or ""
        )
    return table


PROGRESS_LINE_EVERY = 5.0


def progress_line(progress: RunProgress) -> str:
    """One line of progress, for logs and pipes."""
    return (
        f"load.run {progress.phase}: created {progress.created}/{progress.total}, "
        f"complete {progress.completed}, failed {progress.failed}, "
        f"{progress.tasks_per_s:.1f} tasks/s, faults {progress.faults}, "
        f"{progress.elapsed_s:.0f} s"
    )


class LiveProgress:
    """A progress bar fed by `on_progress` on a terminal; elsewhere a progress line every
    `PROGRESS_LINE_EVERY` seconds and at each change of phase."""

    def __init__(self, console: Console, total: int) -> None:
        self._console = console
        self._last_line = 0.0
        self._last_phase = ""
        self._enabled = console.is_terminal
        self._progress = Progress(
            TextColumn("{task.fields[phase]:<9}"),
            BarColumn(),
            TextColumn(
                "created {task.fields[created]}  complete {task.completed:.0f}/{task.total:.0f}"
                "  failed {task.fields[failed]}  {task.fields[rate]:.1f} tasks/s"
                "  faults {task.fields[faults]}"
            ),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self._enabled,
        )
        self._task: TaskID = self._progress.add_task(
            "load", total=total, phase="starting", created=0, failed=0, rate=0.0, faults=0
        )

    def __enter__(self) -> LiveProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def update(self, progress: RunProgress) -> None:
        if not self._enabled:
            now = time.monotonic()
            if progress.phase != self._last_phase or now - self._last_line >= PROGRESS_LINE_EVERY:
                self._last_phase, self._last_line = progress.phase, now
                # one line per update, never wrapped: a log or a script reads it whole
                line = progress_line(progress)
                self._console.print(line, markup=False, highlight=False, soft_wrap=True)
            return
        self._progress.update(
            self._task,
            completed=progress.completed,
            phase=progress.phase,
            created=progress.created,
            failed=progress.failed,
            rate=progress.tasks_per_s,
            faults=progress.faults,
        )
