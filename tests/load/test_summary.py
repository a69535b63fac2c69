"""Throughput window and latencies come from the service's timestamps; CLI target choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tasker_cluster.cli.load import resolve_cli_target
from tasker_cluster.client.errors import ClusterConfigError
from tasker_cluster.load.errors import NoOrchestrationError
from tasker_cluster.load.summary import completion_window, latencies_ms
from tasker_cluster.load.tracking import TrackedTask

START = datetime(2026, 1, 1, tzinfo=UTC)


def finished(
    number: int, created_s: float, done_s: float | None, status: str = "complete"
) -> TrackedTask:
    return TrackedTask(
        task_uuid=str(number),
        step_count=3,
        created_by=0,
        status=status,
        created_at=START + timedelta(seconds=created_s),
        completed_at=None if done_s is None else START + timedelta(seconds=done_s),
    )


def test_window_runs_from_first_creation_to_last_completion() -> None:
    tasks = [finished(1, 0.0, 2.0), finished(2, 0.5, 4.0), finished(3, 1.0, 3.0)]
    assert completion_window(tasks) == 4.0
    assert latencies_ms(tasks) == [2000.0, 3500.0, 2000.0]


def test_unfinished_and_failed_tasks_have_no_latency() -> None:
    tasks = [finished(1, 0.0, None, "steps_in_process"), finished(2, 0.0, 1.0, "error")]
    assert latencies_ms(tasks) == []
    assert completion_window([finished(1, 0.0, None)]) == 0.0


def test_naive_timestamps_are_taken_as_utc() -> None:
    task = finished(1, 0.0, 1.5)
    task.completed_at = task.completed_at.replace(tzinfo=None) if task.completed_at else None
    assert latencies_ms([task]) == [1500.0]


def test_urls_win_over_the_cluster_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKER_TEST_ORCHESTRATION_URLS", "http://127.0.0.1:40001")
    from_env = resolve_cli_target(None, None, None)
    assert from_env.config.orchestration_urls == ("http://127.0.0.1:40001",)
    assert from_env.cluster is None and from_env.faults is None
    flag = resolve_cli_target(None, None, "http://127.0.0.1:40002,http://127.0.0.1:40003")
    assert flag.description == "urls http://127.0.0.1:40002,http://127.0.0.1:40003"
    with pytest.raises(ClusterConfigError, match="'ftp://x:1' is not an http"):
        resolve_cli_target(None, None, "ftp://x:1")


def test_an_empty_cluster_directory_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TASKER_TEST_ORCHESTRATION_URLS", raising=False)
    with pytest.raises(NoOrchestrationError) as caught:
        resolve_cli_target(str(tmp_path), None, None)
    assert str(caught.value) == (
        f"no running orchestration instance found in the cluster directory {tmp_path} and "
        "TASKER_TEST_ORCHESTRATION_URLS is not set"
    )
