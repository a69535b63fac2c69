"""The one table renderer and the one colour policy of every command.

Tables are rich tables. On a terminal they may have borders and colour; anywhere else they are
plain, aligned text with no box characters (columns two spaces apart, no trailing blanks), so a
script or a log file reads them as it reads `cluster.status`. Whether there is colour is rich's
console policy for every command alike: NO_COLOR, FORCE_COLOR, TERM=dumb and whether the stream
is a terminal.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDE = 10_000


def console_for(stream: IO[str], *, width: int | None = None) -> Console:
    """A rich console writing to `stream`, colour decided by rich's environment rules."""
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def wants_colour(stream: IO[str]) -> bool:
    """Whether output to `stream` gets colour: a terminal (or FORCE_COLOR), unless NO_COLOR
    is set or TERM is dumb."""
    console = console_for(stream)
    return console.color_system is not None and not console.no_color


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
    """Print to a rich console: as drawn on a terminal, plain anywhere else."""
    console.print(table if console.is_terminal else plain(table))


def cell(text: str, style: str | None) -> Text:
    """A table cell with an optional rich style (`green`, `bold red`, ...)."""
    return Text(text, style=style or "")
