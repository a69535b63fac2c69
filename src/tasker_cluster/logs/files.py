"""Instance log files: which exist, their last lines, one line as a record."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tasker_cluster.layout import LOG_SUFFIX

_BLOCK = 8192

Selector = Callable[[str], bool]


@dataclass(frozen=True)
class LogLine:
    """One line of an instance's log; `time` when the line starts with an ISO-8601 time."""

    instance_id: str
    text: str
    time: datetime | None = None

    @classmethod
    def parsed(cls, instance_id: str, text: str) -> LogLine:
        return cls(instance_id, text, parse_time(text))


_TIME = re.compile(
    r"^\s*(?:\x1b\[[0-9;]*m)*(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)"
    r"(Z|[+-]\d\d:?\d\d)?"
)


def parse_time(text: str) -> datetime | None:
    """The ISO-8601 / RFC 3339 time a line starts with (UTC when it names no zone), or None."""
    match = _TIME.match(text)
    if match is None:
        return None
    stamp, zone = match.group(1).replace(",", ".").replace(" ", "T"), match.group(2) or "Z"
    if "." in stamp:
        head, fraction = stamp.split(".")
        stamp = f"{head}.{fraction[:6]:0<6}"
    try:
        moment = datetime.fromisoformat(stamp + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return moment.astimezone(UTC)


def log_files(logs_dir: Path, select: Selector) -> dict[str, Path]:
    """`{instance id: path}` of the selected `<id>.log` files, sorted by id."""
    if not logs_dir.is_dir():
        return {}
    found = {path.name[: -len(LOG_SUFFIX)]: path for path in logs_dir.glob(f"*{LOG_SUFFIX}")}
    return {instance_id: found[instance_id] for instance_id in sorted(found) if select(instance_id)}


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def tail_lines(path: Path, count: int) -> tuple[list[str], int]:
    """The last `count` lines of a file and the offset its end was at when read."""
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            start, data = end, b""
            while start > 0 and data.count(b"\n") <= count:
                step = min(_BLOCK, start)
                start -= step
                handle.seek(start)
                data = handle.read(step) + data
    except FileNotFoundError:
        return [], 0
    lines = decode(data).splitlines()
    return (lines[-count:] if count > 0 else []), end


def tail_logs(logs_dir: Path, select: Selector, count: int) -> dict[str, list[LogLine]]:
    """The last `count` lines of each selected log, by instance id (in id order)."""
    return {
        instance_id: [LogLine.parsed(instance_id, text) for text in tail_lines(path, count)[0]]
        for instance_id, path in log_files(logs_dir, select).items()
    }
