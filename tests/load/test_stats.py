"""Percentiles and latency summaries."""

from __future__ import annotations

import pytest

from tasker_cluster.load.stats import LatencySummary, median, percentile, rate


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [40.0, 10.0, 30.0, 20.0]
    assert percentile(values, 0.0) == 10.0
    assert percentile(values, 1.0) == 40.0
    assert percentile(values, 0.5) == 25.0
    assert percentile(values, 0.95) == pytest.approx(38.5)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 0.99) == 7.0


def test_median_of_odd_count_is_the_middle_value() -> None:
    assert median([5.0, 1.0, 3.0]) == 3.0


def test_percentiles_of_one_to_hundred() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile(values, 0.99) == pytest.approx(99.01)


def test_percentile_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match=r"fraction 1\.5 is outside 0\.\.1"):
        percentile([1.0], 1.5)


def test_latency_summary() -> None:
    summary = LatencySummary.of([float(v) for v in range(1, 101)])
    assert summary is not None
    assert (summary.count, summary.max_ms) == (100, 100.0)
    assert summary.p99_ms == pytest.approx(99.01)
    assert LatencySummary.from_dict(summary.to_dict()) == summary
    assert LatencySummary.of([]) is None


def test_rate_of_nothing_measured_is_zero() -> None:
    assert rate(10, 0.0) == 0.0
    assert rate(10, 4.0) == 2.5
