"""Follow many instance logs: new lines as they are appended, new files, truncation,
replacement, and rotation (`<id>.log` copied to `<id>.log.1` and truncated) without losing or
repeating a line."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tasker_cluster.logs.files import LogLine, Selector, decode, log_files, tail_lines
from tasker_cluster.logs.rotate import rotated_path

FOLLOW_INTERVAL = 0.2


@dataclass
class _Cursor:
    inode: int
    offset: int
    partial: bytes = b""
    read_at: float = field(default_factory=time.time)


def _rest_of_rotated(path: Path, cursor: _Cursor) -> bytes:
    """After a truncation: what the rotated copy holds past what was read, if the copy was
    made since the last read (a plain truncation has no such copy)."""
    copy = rotated_path(path)
    try:
        stat = copy.stat()
        if stat.st_mtime + 1.0 < cursor.read_at or stat.st_size < cursor.offset:
            return b""
        with copy.open("rb") as handle:
            handle.seek(cursor.offset)
            return handle.read()
    except FileNotFoundError:
        return b""


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
            self.initial.extend(LogLine.parsed(instance_id, text) for text in lines)
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
                missed = b""
                if cursor is not None and cursor.inode == stat.st_ino:
                    if stat.st_size < cursor.offset:  # truncated: rotated, or emptied
                        missed = _rest_of_rotated(path, cursor)
                        cursor = self._cursors[instance_id] = _Cursor(
                            stat.st_ino, 0, cursor.partial
                        )
                else:
                    cursor = self._cursors[instance_id] = _Cursor(stat.st_ino, 0)
                handle.seek(cursor.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        cursor.offset += len(data)
        cursor.read_at = time.time()
        data = missed + data
        if not data:
            if not cursor.partial:
                return []
            data, cursor.partial = cursor.partial + b"\n", b""
        chunk = cursor.partial + data
        complete, newline, cursor.partial = chunk.rpartition(b"\n")
        if not newline:
            return []
        return [LogLine.parsed(instance_id, text) for text in decode(complete).split("\n")]


def _inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return 0
