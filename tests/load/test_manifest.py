"""Manifests and load specs survive a round trip through JSON; bad files are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasker_cluster.api.task_request import REQUIRED_FIELDS
from tasker_cluster.load.chaos_spec import parse_chaos
from tasker_cluster.load.cluster_manifest import redact
from tasker_cluster.load.errors import LoadSpecError, ManifestError, UnknownTemplateError
from tasker_cluster.load.manifest import new_manifest, read_manifest, write_manifest
from tasker_cluster.load.spec import LoadSpec

SPEC = LoadSpec(
    tasks=20,
    template="fan_out",
    width=3,
    concurrency=4,
    rate=12.5,
    chaos=(
        parse_chaos("kill:worker-python:every=2s"),
        parse_chaos("pause:orchestration:every=3s,for=1s"),
    ),
    seed=1234,
    timeout=45.0,
)


def test_load_manifest_round_trips(tmp_path: Path) -> None:
    manifest = new_manifest(
        "load-run",
        cluster={"dir": str(tmp_path), "counts": {"orchestration": 2}},
        timings={"run_s": 1.5},
        load=SPEC,
        summary={"ok": True},
    )
    path = write_manifest(tmp_path / "manifests" / "load-run-x.json", manifest)
    again = read_manifest(path)
    assert again == manifest
    assert again.load == SPEC
    raw = json.loads(path.read_text())
    assert raw["seed"] == 1234
    assert raw["load"]["chaos"] == [
        "kill:worker-python:every=2s,for=0s",
        "pause:orchestration:every=3s,for=1s",
    ]
    assert raw["versions"]["python"].count(".") == 2


def test_missing_file_names_path_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert str(caught.value) == f"cannot use manifest {path}: the file does not exist"


def test_wrong_schema_and_bad_parameters_are_named(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"schema": 99}')
    with pytest.raises(ManifestError, match="schema is 99, expected 1"):
        read_manifest(path)
    manifest = new_manifest("load-run", cluster={}, timings={}, load=SPEC)
    data = manifest.to_dict()
    data["load"]["width"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=r"invalid load parameter width=0: must be between"):
        read_manifest(path)


def test_spec_validation_messages() -> None:
    with pytest.raises(LoadSpecError) as caught:
        LoadSpec(tasks=0)
    assert str(caught.value) == "invalid load parameter tasks=0: must be at least 1"
    with pytest.raises(UnknownTemplateError) as unknown:
        LoadSpec(template="nope")
    assert str(unknown.value).startswith("unknown template 'nope': use one of cpu_burn, diamond,")


def test_task_request_for_fan_out_and_namespaced_templates() -> None:
    request = SPEC.task_request()
    assert (request.namespace, request.name, request.version) == (
        "load_testing",
        "fan_out",
        "1.0.0",
    )
    assert request.context == {"width": 3, "sleep_ms": 0}
    body = request.to_json()
    assert set(REQUIRED_FIELDS) <= set(body)
    assert body["idempotency_key"].startswith("load-")
    again = SPEC.task_request()
    assert (again.idempotency_key, again.correlation_id) != (
        request.idempotency_key,
        request.correlation_id,
    ), "every creation is its own"
    other = LoadSpec(template="linear_workflow/mathematical_sequence")
    assert other.task_request().context == {"even_number": 2}
    custom = LoadSpec(template="mine/thing/2.0.0").task_request()
    assert (custom.namespace, custom.name, custom.version, custom.context) == (
        "mine",
        "thing",
        "2.0.0",
        {},
    )


def test_secrets_are_masked() -> None:
    assert redact("postgresql://app:s3cret@db:5432/tasker") == "postgresql://app:***@db:5432/tasker"
    assert redact("postgresql://postgres@127.0.0.1/x") == "postgresql://postgres@127.0.0.1/x"
