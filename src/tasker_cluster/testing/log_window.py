"""The log lines instances wrote while one test ran, labelled with the instance id."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

MAX_LINE_BYTES = 4000


@dataclass(frozen=True)
class LogWindow:
    """Byte offsets of every `<instance id>.log` in a log directory at the start of a test."""

    logs_dir: Path
    offsets: dict[str, int]

    @classmethod
    def open(cls, logs_dir: Path) -> LogWindow:
        return cls(logs_dir, {path.stem: _size(path) for path in _log_files(logs_dir)})

    def read(self, max_lines_per_instance: int) -> str:
        """Lines written since `open`, grouped by instance, as `id | line` (newest last).

        A log that appeared later is read from its start; a truncated one from its new start.
        """
        files = _log_files(self.logs_dir)
        width = max((len(path.stem) for path in files), default=0)
        blocks: list[str] = []
        for path in files:
            start = self.offsets.get(path.stem, 0)
            if _size(path) < start:
                start = 0
            lines = _tail_from(path, start, max_lines_per_instance)
            if lines.dropped:
                blocks.append(f"{path.stem:<{width}} | ... {lines.dropped} earlier lines omitted")
            blocks.extend(f"{path.stem:<{width}} | {line}" for line in lines.kept)
        return "\n".join(blocks)


@dataclass(frozen=True)
class _Tail:
    kept: tuple[str, ...]
    dropped: int


def _tail_from(path: Path, start: int, limit: int) -> _Tail:
    kept: deque[str] = deque(maxlen=max(limit, 0))
    total = 0
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            for raw in handle:
                total += 1
                kept.append(raw[:MAX_LINE_BYTES].decode("utf-8", "replace").rstrip("\r\n"))
    except OSError as error:
        return _Tail((f"<cannot read {path}: {error}>",), 0)
    return _Tail(tuple(kept), total - len(kept))


def _log_files(logs_dir: Path) -> list[Path]:
    try:
        return sorted(path for path in logs_dir.glob("*.log") if path.is_file())
    except OSError:
        return []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
