"""The Prometheus text registry."""

from __future__ import annotations

import threading

import pytest

from tasker_cluster.services.metrics import MetricsRegistry


def test_every_series_is_labelled_with_the_instance() -> None:
    registry = MetricsRegistry("orchestration-1")
    created = registry.counter("tasker_tasks_created_total", "Tasks created.")
    requests = registry.counter("tasker_http_requests_total", "Requests.", ("method", "status"))
    created.inc(3)
    requests.inc(method="GET", status="200")
    requests.inc(method="GET", status="200")
    assert registry.render().splitlines() == [
        "# HELP tasker_tasks_created_total Tasks created.",
        "# TYPE tasker_tasks_created_total counter",
        'tasker_tasks_created_total{instance="orchestration-1"} 3',
        "# HELP tasker_http_requests_total Requests.",
        "# TYPE tasker_http_requests_total counter",
        'tasker_http_requests_total{instance="orchestration-1",method="GET",status="200"} 2',
    ]


def test_label_values_are_escaped() -> None:
    registry = MetricsRegistry('odd"instance\\')
    registry.counter("c_total", "c", ("path",)).inc(path='a"b\nc')
    assert 'c_total{instance="odd\\"instance\\\\",path="a\\"b\\nc"} 1' in registry.render()


def test_wrong_labels_and_decreases_are_refused() -> None:
    counter = MetricsRegistry("x").counter("c_total", "c", ("outcome",))
    with pytest.raises(ValueError, match=r"takes labels \('outcome',\), got \['result'\]"):
        counter.inc(result="success")
    with pytest.raises(ValueError, match="cannot decrease"):
        counter.inc(-1, outcome="success")


def test_concurrent_increments_are_not_lost() -> None:
    counter = MetricsRegistry("x").counter("c_total", "c")

    def bump() -> None:
        for _ in range(2000):
            counter.inc()

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value() == 16000
