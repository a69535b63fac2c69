"""Merge the lines of many instance logs in time order and pick lines: since a time, matching
a pattern, mentioning a task or its steps."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tasker_cluster.logs.files import LogLine

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def merge_by_time(lines: Mapping[str, Sequence[LogLine]]) -> list[LogLine]:
    """All lines ordered by their time; a line without one keeps its place after the line
    before it in its own log (it takes that line's time), ties keep instance order."""
    keyed = []
    for rank, (_, own) in enumerate(lines.items()):
        current = _EARLIEST
        for position, line in enumerate(own):
            current = line.time or current
            keyed.append(((current, rank, position), line))
    keyed.sort(key=lambda item: item[0])
    return [line for _, line in keyed]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`--since`: a duration back from now (`90s`, `5m`, `2h`, `1d`, `250ms`) or an ISO-8601
    time (UTC when it names no zone). Raises ValueError naming the accepted forms."""
    value = text.strip()
    if match := _DURATION.match(value):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (90s, 5m, 2h, 1d) nor an ISO-8601 time "
            "(2026-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LineFilter:
    """Which lines to show: at or after `since` (a line without a time counts as the one
    before it), matching `pattern`, mentioning one of `needles` (e.g. a task and its steps)."""

    since: datetime | None = None
    pattern: re.Pattern[str] | None = None
    needles: tuple[str, ...] = ()

    @property
    def selects_all(self) -> bool:
        return self.since is None and self.pattern is None and not self.needles

    def apply(self, lines: Iterable[LogLine]) -> list[LogLine]:
        chosen = []
        current: dict[str, datetime] = {}
        for line in lines:
            moment = line.time or current.get(line.instance_id)
            if moment is not None:
                current[line.instance_id] = moment
            if self.since is not None and (moment is None or moment < self.since):
                continue
            if self.pattern is not None and not self.pattern.search(line.text):
                continue
            if self.needles and not any(needle in line.text for needle in self.needles):
                continue
            chosen.append(line)
        return chosen
