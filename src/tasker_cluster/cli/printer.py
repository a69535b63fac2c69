"""Formatting only: `id |` prefixes padded to the widest, status, stop and start tables.

Colour follows the one policy of `cli.colour.wants_colour`. Importing the printer loads no
part of the library and no rich: a command loads what it runs, and a plain table (no colour,
printable ASCII) is laid out here exactly as rich lays it out (`cli.tables`), without rich.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tasker_cluster.cli.colour import wants_colour

if TYPE_CHECKING:
    from tasker_cluster.cluster.start import StartReport
    from tasker_cluster.cluster.status import InstanceStatus
    from tasker_cluster.logs import LogLine
    from tasker_cluster.process.stop import StopResult

_RESET = "\x1b[0m"
_PALETTE = ("\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m", "\x1b[34m", "\x1b[96m", "\x1b[93m")
# by the states' and outcomes' values (they are string enums, so either finds its style)
_STATE_STYLES = {
    "healthy": "green",
    "degraded": "yellow",
    "unhealthy": "yellow",
    "starting": "cyan",
    "crashed": "red",
    "stopped": "dim",
}
_OUTCOME_STYLES = {
    "stopped": "green",
    "killed after timeout": "yellow",
    "not running": "dim",
    "still running after SIGKILL": "red",
}
COLUMN_GAP = "  "
WIDEST_PLAIN = 10_000  # the width rich renders at (`cli.tables.WIDE`); wider goes to rich
STATUS_COLUMNS = ("INSTANCE", "STATE", "PID", "PORT", "UPTIME", "CPU%", "RSS", "HEALTH", "DETAIL")


def paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


class LogFormatter:
    """Prefixes log lines with `id |`, padded to the widest id seen so far; on a terminal each
    instance gets its own colour, in the order the instances first appear."""

    def __init__(self, colour: bool, instance_ids: Iterable[str] = ()) -> None:
        self.colour = colour
        self.width = 0
        self._colours: dict[str, str] = {}
        for instance_id in instance_ids:
            self._see(instance_id)

    def _see(self, instance_id: str) -> str:
        self.width = max(self.width, len(instance_id))
        return self._colours.setdefault(instance_id, _PALETTE[len(self._colours) % len(_PALETTE)])

    def format(self, lines: Iterable[LogLine]) -> list[str]:
        batch = list(lines)
        codes = [self._see(line.instance_id) for line in batch]
        return [
            f"{paint(f'{line.instance_id:<{self.width}} |', code, self.colour)} {line.text}"
            for line, code in zip(batch, codes, strict=True)
        ]


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def size(count: int | None) -> str:
    if count is None:
        return "-"
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


CellStyle = Callable[[int, int], str | None]


def table(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    style_cell: CellStyle | None = None,
    *,
    colour: bool = False,
) -> list[str]:
    """Left-aligned columns two spaces apart, no trailing blanks (the one renderer: rich).

    `style_cell(row, column)` may name a rich style for a body cell, used only with `colour`.
    Without colour, a table of printable ASCII is laid out by `plain_table`, as rich would.
    """
    if not colour:
        lines = plain_table(rows, headers)
        if lines is not None:
            return lines
    from tasker_cluster.cli.tables import cell, new_table, render_lines  # noqa: PLC0415 - rich

    rendered = new_table(headers)
    for number, row in enumerate(rows):
        styles = [style_cell(number, column) if style_cell else None for column in range(len(row))]
        rendered.add_row(*(cell(text, style) for text, style in zip(row, styles, strict=True)))
    return render_lines(rendered, colour)


def _plain_text(text: str) -> bool:
    return text.isascii() and text.isprintable()


def plain_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> list[str] | None:
    """The lines rich renders for this table without colour (`cli.tables.render_lines`):
    each column as wide as its widest cell, two spaces apart, trailing blanks cut.

    None when rich might render a cell differently: any text that is not printable ASCII
    (wide or combining characters, tabs, line breaks), a header holding rich markup (`[`) or
    an emoji code (`:`), or a table wider than rich's render width.
    """
    if not all(_plain_text(h) and "[" not in h and ":" not in h for h in headers):
        return None
    if not all(len(row) == len(headers) and all(map(_plain_text, row)) for row in rows):
        return None
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(text)) for width, text in zip(widths, row, strict=True)]
    if sum(widths) + len(COLUMN_GAP) * (len(widths) - 1) > WIDEST_PLAIN:
        return None
    return [
        COLUMN_GAP.join(
            text.ljust(width) for text, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in (headers, *rows)
    ]


def status_lines(rows: Sequence[InstanceStatus], colour: bool) -> list[str]:
    cells = [
        [
            row.instance_id,
            row.state.value,
            str(row.pid) if row.pid is not None else "-",
            " ".join([str(row.port), *(f"{name}:{port}" for name, port in row.ports.items())]),
            duration(row.uptime_seconds),
            f"{row.cpu_percent:.1f}" if row.cpu_percent is not None else "-",
            size(row.rss_bytes),
            f"{row.health_latency_ms:.0f} ms" if row.health_latency_ms is not None else "-",
            row.detail,
        ]
        for row in rows
    ]

    def state_style(number: int, column: int) -> str | None:
        return _STATE_STYLES[rows[number].state] if column == 1 else None

    return [*table(cells, STATUS_COLUMNS, state_style, colour=colour), status_summary(rows)]


def status_summary(rows: Sequence[InstanceStatus]) -> str:
    from tasker_cluster.cluster.status import InstanceState  # noqa: PLC0415 - rows came from it

    if not rows:
        return "no instances configured or running"
    counts = {state: sum(row.state is state for row in rows) for state in InstanceState}
    parts = [f"{count} {state.value}" for state, count in counts.items() if count]
    return f"{len(rows)} instance(s): {', '.join(parts)}"


def stop_lines(results: Sequence[StopResult], elapsed: float, colour: bool) -> list[str]:
    from tasker_cluster.process.stop import StopOutcome  # noqa: PLC0415 - results came from it

    cells = [
        [
            result.instance_id,
            result.outcome.value,
            str(result.pid) if result.pid is not None else "-",
            result.detail,
        ]
        for result in results
    ]

    def outcome_style(number: int, column: int) -> str | None:
        return _OUTCOME_STYLES[results[number].outcome] if column == 1 else None

    headers = ("INSTANCE", "RESULT", "PID", "DETAIL")
    lines = table(cells, headers, outcome_style, colour=colour) if results else []
    counts = {o: sum(r.outcome is o for r in results) for o in StopOutcome}
    parts = [f"{count} {outcome.value}" for outcome, count in counts.items() if count]
    tails = [
        line
        for result in results
        if result.outcome in (StopOutcome.KILLED, StopOutcome.SURVIVED)
        for line in (
            [
                f"{result.instance_id} needed SIGKILL; the last lines of its log:",
                *(f"    | {text}" for text in result.log_tail),
            ]
            if result.log_tail
            else [f"{result.instance_id} needed SIGKILL (its log is empty)"]
        )
    ]
    return [*lines, *tails, f"{', '.join(parts) or 'nothing to stop'} in {elapsed:.1f} s"]


def start_lines(report: StartReport) -> list[str]:
    cells = [
        [
            instance.id,
            "started" if instance.id in report.started else "already running",
            instance.url,
        ]
        for instance in report.instances
    ]
    lines = table(cells, ("INSTANCE", "ACTION", "URL")) if cells else []
    verdict = (
        f"all {len(report.instances)} healthy after {report.elapsed:.1f} s"
        if report.waited
        else f"done in {report.elapsed:.1f} s without waiting for health"
    )
    summary = (
        f"{len(report.started)} started, {len(report.already_running)} already running; {verdict}"
    )
    if report.stale_records_removed:
        summary += f"; removed stale records of {', '.join(report.stale_records_removed)}"
    return [*lines, summary]


def to_json(data: Any) -> str:
    """JSON of dataclasses (and lists of them); enums as their values, paths as strings."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        return value

    return json.dumps(plain(data), indent=2, default=str)


__all__ = [
    "LogFormatter",
    "start_lines",
    "status_lines",
    "stop_lines",
    "table",
    "to_json",
    "wants_colour",
]
