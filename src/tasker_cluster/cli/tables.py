"""The one table renderer of every command.

Tables are rich tables. On a terminal they may have borders and colour; anywhere else they are
plain, aligned text with no box characters (columns two spaces apart, no trailing blanks), so a
script or a log file reads them as it reads `cluster.status`. Whether there is colour is the
one policy of `cli.colour`.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDE = 10_000


def new_table(
    columns: Sequence[str],
    *,
    right: Collection[str] = (),
    title: str | None = None,
    show_header: bool = True,
    bordered: bool = False,
) -> Table:
    """A table with `columns` (those named in `right` right-aligned); `bordered` draws a box,
    which `render` keeps only on a terminal."""
    table = Table(
        title=title,
        title_justify="left",
        show_header=show_header,
        box=box.HEAVY_HEAD if bordered else None,
        pad_edge=False,
        show_edge=bordered,
        padding=(0, 1) if bordered else (0, 2, 0, 0),
        header_style="bold",
    )
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left", no_wrap=True)
    return table


def plain(table: Table) -> Table:
    """The same table without a box: what `render` prints off a terminal."""
    table.box = None
    table.show_edge = False
    table.padding = (0, 2, 0, 0)
    return table


def render_lines(table: Table, colour: bool) -> list[str]:
    """The table as lines of text; with `colour`, styled with ANSI codes, else plain."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=WIDE,
        force_terminal=colour,
        color_system="standard" if colour else None,
        no_color=not colour,
        highlight=False,
    )
    console.print(table if colour else plain(table), crop=False)
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def print_table(table: Table, console: Console) -> None:
    """Print to a rich console: as drawn where it has colour; anywhere else as plain lines,
    never cut to the console's width (a pipe or a log file has no width)."""
    if console.is_terminal and not console.no_color:
        console.print(table)
        return
    if table.title:
        console.out(str(table.title), highlight=False)
        table.title = None
    for line in render_lines(table, colour=False):
        console.out(line, highlight=False)


def cell(text: str, style: str | None) -> Text:
    """A table cell with an optional rich style (`green`, `bold red`, ...)."""
    return Text(text, style=style or "")
