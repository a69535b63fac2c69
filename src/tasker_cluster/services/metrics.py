"""A small thread-safe metrics registry rendering the Prometheus text exposition format."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.help_text = help_text
        self.labelnames = labelnames
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()
        if not labelnames:
            self._values[()] = 0.0

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(str(labels[name]) for name in self.labelnames)

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[tuple[dict[str, str], float]]:
        with self._lock:
            items = sorted(self._values.items())
        return [(dict(zip(self.labelnames, key, strict=True)), value) for key, value in items]


_M = TypeVar("_M", bound=_Metric)


class Counter(_Metric):
    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"counter {self.name} cannot decrease (got {amount})")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(_Metric):
    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: tuple[str, ...] = (),
        read: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self._read = read

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = value

    def samples(self) -> list[tuple[dict[str, str], float]]:
        if self._read is not None:
            return [({}, self._read())]
        return super().samples()


class MetricsRegistry:
    """Every rendered series carries `instance="<instance>"` as its first label."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self._metrics: dict[str, _Metric] = {}

    def counter(self, name: str, help_text: str, labelnames: tuple[str, ...] = ()) -> Counter:
        return self._register(Counter(name, help_text, labelnames))

    def gauge(
        self,
        name: str,
        help_text: str,
        labelnames: tuple[str, ...] = (),
        read: Callable[[], float] | None = None,
    ) -> Gauge:
        return self._register(Gauge(name, help_text, labelnames, read))

    def _register(self, metric: _M) -> _M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is already registered")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        lines: list[str] = []
        instance = f'instance="{_escape(self.instance)}"'
        for metric in self._metrics.values():
            lines.append(f"# HELP {metric.name} {metric.help_text}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            for labels, value in metric.samples():
                pairs = [instance, *(f'{k}="{_escape(v)}"' for k, v in labels.items())]
                lines.append(f"{metric.name}{{{','.join(pairs)}}} {_format_number(value)}")
        return "\n".join(lines) + "\n"


class ServiceMetrics:
    """A service's metrics: those `register` adds, then the HTTP requests it served."""

    def __init__(self, instance: str) -> None:
        self.registry = MetricsRegistry(instance)
        self.register(self.registry.counter)
        self.http_requests = self.registry.counter(
            "tasker_http_requests_total", "HTTP requests served.", ("method", "route", "status")
        )

    def register(self, counter: Callable[..., Counter]) -> None:
        """Add the service's own counters (in the order /metrics renders them)."""
