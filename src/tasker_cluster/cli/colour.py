"""The one colour policy of every command: colour on a terminal, never with NO_COLOR, always
with FORCE_COLOR, never for TERM=dumb. It imports nothing heavy, so a command that prints no
table pays no rich import; rich consoles are built from it (`console_for`)."""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def wants_colour(stream: IO[str]) -> bool:
    """Whether output to `stream` gets colour (and live displays)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console_for(stream: IO[str], *, width: int | None = None) -> Console:
    """A rich console on `stream` that follows `wants_colour` (terminal features included)."""
    from rich.console import Console  # noqa: PLC0415 - rich only where something is drawn

    colour = wants_colour(stream)
    return Console(
        file=stream,
        width=width,
        force_terminal=colour,
        no_color=not colour,
        color_system="auto" if colour else None,
        highlight=False,
    )
