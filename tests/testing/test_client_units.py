"""Configuration, request builders, parsing and key hashing of the client (no processes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Hashable

import pytest

from tasker_cluster.client.cluster_config import ClusterConfig
from tasker_cluster.client.errors import (
    ClusterConfigError,
    InvalidTaskRequestError,
    ResponseFormatError,
)
from tasker_cluster.client.models import Task, TaskCreated
from tasker_cluster.client.prometheus import parse_metrics
from tasker_cluster.client.strategies import stable_index
from tasker_cluster.client.task_request import TaskRequest


def test_from_env_reads_comma_separated_urls() -> None:
    config = ClusterConfig.from_env(
        {
            "TASKER_TEST_ORCHESTRATION_URLS": " http://127.0.0.1:8080/, http://127.0.0.1:8081",
            "TASKER_TEST_WORKER_URLS": "http://127.0.0.1:8300",
        }
    )
    assert config.orchestration_urls == ("http://127.0.0.1:8080", "http://127.0.0.1:8081")
    assert config.worker_urls == ("http://127.0.0.1:8300",)
    assert (config.health_timeout, config.health_retry_interval) == (5.0, 0.5)


def test_from_env_without_urls_says_what_to_set() -> None:
    with pytest.raises(ClusterConfigError) as caught:
        ClusterConfig.from_env({})
    assert str(caught.value) == (
        "TASKER_TEST_ORCHESTRATION_URLS is unset: no URLs given. Set "
        "TASKER_TEST_ORCHESTRATION_URLS to comma-separated URLs, e.g. "
        "http://127.0.0.1:8080,http://127.0.0.1:8081."
    )


def test_from_env_names_the_malformed_url() -> None:
    with pytest.raises(ClusterConfigError) as caught:
        ClusterConfig.from_env(
            {"TASKER_TEST_ORCHESTRATION_URLS": "http://127.0.0.1:8080,localhost:8081"}
        )
    assert str(caught.value) == (
        "TASKER_TEST_ORCHESTRATION_URLS is 'http://127.0.0.1:8080,localhost:8081': "
        "'localhost:8081' is not an http:// or https:// URL. "
        "Use comma-separated base URLs like http://127.0.0.1:8080."
    )


def test_with_orchestration_instances_uses_consecutive_ports() -> None:
    config = ClusterConfig.with_orchestration_instances(3, 18080)
    assert config.orchestration_urls == (
        "http://127.0.0.1:18080",
        "http://127.0.0.1:18081",
        "http://127.0.0.1:18082",
    )
    with pytest.raises(ClusterConfigError, match=r"ports 65535\.\.65536 are outside 1\.\.65535"):
        ClusterConfig.with_orchestration_instances(2, 65535)


def test_sticky_index_is_the_same_in_processes_with_other_hash_seeds() -> None:
    keys: list[Hashable] = ["tenant-42", ("order", 7), b"raw", frozenset({"a", "b", "c"})]
    here = [stable_index(key, 7) for key in keys]
    script = (
        "from tasker_cluster.client.strategies import stable_index\n"
        "keys = ['tenant-42', ('order', 7), b'raw', frozenset({'a', 'b', 'c'})]\n"
        "print([stable_index(k, 7) for k in keys])"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        output = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout
        assert output.strip() == str(here)
    task_uuid = uuid.UUID("00000000-0000-0000-0000-00000000000b")
    assert stable_index(task_uuid, 3) == 11 % 3


def test_task_request_builders_match_the_templates() -> None:
    fan_out = TaskRequest.fan_out(12, sleep_ms=5).to_json()
    assert (fan_out["namespace"], fan_out["name"], fan_out["version"]) == (
        "load_testing",
        "fan_out",
        "1.0.0",
    )
    assert fan_out["context"] == {"width": 12, "sleep_ms": 5}
    uuid.UUID(fan_out["correlation_id"])
    sequence = TaskRequest.mathematical_sequence(6).to_json()
    assert sequence["context"] == {"even_number": 6}


def test_task_request_builders_reject_values_the_template_refuses() -> None:
    with pytest.raises(InvalidTaskRequestError) as caught:
        TaskRequest.mathematical_sequence(3)
    assert str(caught.value) == (
        "linear_workflow/mathematical_sequence: even_number=3 is invalid: must be an even int"
    )
    with pytest.raises(InvalidTaskRequestError, match=r"width=0 is invalid: must be 1\.\.1000"):
        TaskRequest.fan_out(0)


def test_models_name_the_missing_field_and_keep_the_raw_json() -> None:
    with pytest.raises(ResponseFormatError) as caught:
        Task.parse({"name": "x"}, "http://127.0.0.1:9/v1/tasks/1")
    assert str(caught.value) == (
        "unexpected task from http://127.0.0.1:9/v1/tasks/1: field 'task_uuid' is missing"
    )
    raw = {
        "task_uuid": "00000000-0000-0000-0000-000000000001",
        "name": "t",
        "namespace": "n",
        "version": "1.0.0",
        "status": "pending",
        "context": {},
        "created_at": "2024-01-01T00:00:00Z",
        "completion_percentage": 0.0,
        "steps": [
            {
                "workflow_step_uuid": "00000000-0000-0000-0000-000000000002",
                "task_uuid": "00000000-0000-0000-0000-000000000001",
                "name": "only",
                "current_state": "pending",
                "dependencies_satisfied": True,
                "ready_for_execution": True,
            }
        ],
        "extra": True,
    }
    created = TaskCreated.parse(raw, "u")
    assert created.step_mapping == {"only": uuid.UUID(int=2)}
    assert created.step_count == 1
    assert created.task.steps[0].ready_for_execution
    assert created.raw["extra"] is True


def test_metrics_text_is_parsed_into_labelled_series() -> None:
    metrics = parse_metrics(
        "# HELP tasker_duplicate_results_total Duplicates.\n"
        "# TYPE tasker_duplicate_results_total counter\n"
        'tasker_duplicate_results_total{instance="orchestration-1"} 2\n'
        'tasker_duplicate_results_total{instance="orchestration-2"} 3\n'
        'tasker_http_requests_total{method="GET",route="/v1/tasks/{task_uuid}",status="200",} 5\n'
        'odd{text="a \\"quoted\\" \\\\ value"} 1.5e1 1700000000000\n',
        "u",
    )
    assert metrics.total("tasker_duplicate_results_total") == 5
    assert metrics.total("tasker_duplicate_results_total", instance="orchestration-2") == 3
    assert metrics.total("tasker_http_requests_total", route="/v1/tasks/{task_uuid}") == 5
    assert metrics.samples("odd")[0].labels == {"text": 'a "quoted" \\ value'}
    assert metrics.total("odd") == 15.0
    assert metrics.total("absent_total") == 0.0
    with pytest.raises(
        ResponseFormatError, match=re.escape("line 1 'bad{x=1} 2': malformed labels")
    ):
        parse_metrics("bad{x=1} 2", "u")
