"""Parse Prometheus text exposition into samples grouped by metric name."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tasker_cluster.client.errors import ResponseFormatError

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(self.labels.get(key) == value for key, value in labels.items())


@dataclass(frozen=True)
class Metrics:
    """Samples by metric name, e.g. `series["tasker_tasks_created_total"]`."""

    series: Mapping[str, tuple[Sample, ...]]
    text: str = field(repr=False, compare=False, default="")

    def samples(self, name: str, **labels: str) -> tuple[Sample, ...]:
        return tuple(s for s in self.series.get(name, ()) if s.matches(labels))

    def total(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels`; 0 when there are none."""
        return math.fsum(s.value for s in self.samples(name, **labels))


def parse_metrics(text: str, url: str) -> Metrics:
    series: dict[str, list[Sample]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            sample = _parse_sample(stripped)
        except ValueError as error:
            raise ResponseFormatError(url, "metrics", f"line {number} {line!r}: {error}") from None
        series.setdefault(sample.name, []).append(sample)
    return Metrics({name: tuple(samples) for name, samples in series.items()}, text)


def _parse_sample(line: str) -> Sample:
    name_match = _NAME.match(line)
    if not name_match:
        raise ValueError("no metric name")
    name = name_match.group()
    rest = line[name_match.end() :]
    labels: dict[str, str] = {}
    if rest.startswith("{"):
        labels, rest = _parse_labels(rest)
    parts = rest.split()
    if not parts:
        raise ValueError("no value")
    return Sample(name, labels, _parse_value(parts[0]))


def _parse_labels(text: str) -> tuple[dict[str, str], str]:
    """Labels from `{a="1",b="2"}...`; returns them and the text after the closing brace."""
    labels: dict[str, str] = {}
    position = 1
    while True:
        remainder = text[position:].lstrip()
        if remainder.startswith("}"):
            return labels, remainder[1:]
        label = _LABEL.match(text, position)
        if not label:
            raise ValueError("malformed labels")
        labels[label.group(1)] = re.sub(r'\\[\\"n]', _unescape, label.group(2))
        position = label.end()
        if label.group(3) == "}":
            return labels, text[position:]


def _unescape(match: re.Match[str]) -> str:
    return _UNESCAPE[match.group()]


def _parse_value(token: str) -> float:
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    if token in special:
        return special[token]
    return float(token)
