"""Read the last lines of many instance logs, and follow them (new files, truncation)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOG_SUFFIX = ".log"
FOLLOW_INTERVAL = 0.2
_BLOCK = 8192

Selector = Callable[[str], bool]


@dataclass(frozen=True)
class LogLine:
    instance_id: str
    text: str


def log_files(logs_dir: Path, select: Selector) -> dict[str, Path]:
    """`{instance id: path}` of the selected `<id>.log` files, sorted by id."""
    if not logs_dir.is_dir():
        return {}
    found = {path.name[: -len(LOG_SUFFIX)]: path for path in logs_dir.glob(f"*{LOG_SUFFIX}")}
    return {instance_id: found[instance_id] for instance_id in sorted(found) if select(instance_id)}


def _decode(data: bytes) -> str:
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
    lines = _decode(data).splitlines()
    return (lines[-count:] if count > 0 else []), end


def tail_logs(logs_dir: Path, select: Selector, count: int) -> list[LogLine]:
    """The last `count` lines of each selected log, one log after another in id order."""
    return [
        LogLine(instance_id, text)
        for instance_id, path in log_files(logs_dir, select).items()
        for text in tail_lines(path, count)[0]
    ]


@dataclass
class _Cursor:
    inode: int
    offset: int
    partial: bytes = b""


class LogFollower:
    """Reads what was appended to each selected log since the last poll, in reading order.

    Files that appear later are read from their start; a file that shrank (truncated) or was
    replaced (new inode) is read again from its start.
    """

    def __init__(self, logs_dir: Path, select: Selector, tail: int = 0) -> None:
        self.logs_dir = logs_dir
        self.select = select
        self.initial: list[LogLine] = []
        self._cursors: dict[str, _Cursor] = {}
        for instance_id, path in log_files(logs_dir, select).items():
            lines, end = tail_lines(path, tail)
            self.initial.extend(LogLine(instance_id, text) for text in lines)
            self._cursors[instance_id] = _Cursor(_inode(path), end)

    @property
    def instance_ids(self) -> list[str]:
        """The instances whose logs this follower has seen so far."""
        return list(self._cursors)

    def poll(self) -> list[LogLine]:
        lines: list[LogLine] = []
        for instance_id, path in log_files(self.logs_dir, self.select).items():
            lines.extend(self._read_new(instance_id, path))
        return lines

    def _read_new(self, instance_id: str, path: Path) -> list[LogLine]:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                cursor = self._cursors.get(instance_id)
                if cursor is None or cursor.inode != stat.st_ino or stat.st_size < cursor.offset:
                    cursor = self._cursors[instance_id] = _Cursor(stat.st_ino, 0)
                handle.seek(cursor.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        cursor.offset += len(data)
        if not data:
            if not cursor.partial:
                return []
            data, cursor.partial = cursor.partial + b"\n", b""
        chunk = cursor.partial + data
        complete, newline, cursor.partial = chunk.rpartition(b"\n")
        if not newline:
            return []
        return [LogLine(instance_id, text) for text in _decode(complete).split("\n")]


def _inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return 0
