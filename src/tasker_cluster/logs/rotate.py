"""Rotate an instance log by size, keeping a count: `<id>.log` is copied to `<id>.log.1` (older
copies shift to `.2`, `.3`, ...) and then truncated in place.

Instances write to their log through a file descriptor opened for appending, so truncating in
place is safe for the writer (its next write lands at the new end); copying until the size is
stable before truncating keeps the window in which a line could be lost to microseconds.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_KEEP = 3
_CHUNK = 1 << 20
_MAX_ROUNDS = 10


def rotated_path(path: Path, number: int = 1) -> Path:
    return path.with_name(f"{path.name}.{number}")


def rotate(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP) -> bool:
    """Rotate `path` if it is larger than `max_bytes`; whether it did. `keep` copies remain."""
    try:
        if path.stat().st_size <= max_bytes or keep < 1:
            return False
    except FileNotFoundError:
        return False
    rotated_path(path, keep).unlink(missing_ok=True)
    for number in range(keep - 1, 0, -1):
        older = rotated_path(path, number)
        if older.exists():
            older.replace(rotated_path(path, number + 1))
    with path.open("rb+") as source, rotated_path(path, 1).open("wb") as copy:
        for _ in range(_MAX_ROUNDS):
            chunk = source.read(_CHUNK)
            while chunk:
                copy.write(chunk)
                chunk = source.read(_CHUNK)
            copy.flush()
            if os.fstat(source.fileno()).st_size == source.tell():
                break
        source.truncate(0)
    return True
