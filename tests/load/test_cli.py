"""`invoke load.run` flags: spec building, manifest replay, help and user-facing errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tasker_cluster.cli.load import build_spec
from tasker_cluster.load.chaos_spec import parse_chaos
from tasker_cluster.load.errors import ChaosSpecError, ManifestError
from tasker_cluster.load.manifest import new_manifest, write_manifest
from tasker_cluster.load.spec import LoadSpec

TASKS_FILE = """
from invoke import Collection

from tasker_cluster.cli.load import load_collection

ns = Collection()
ns.add_collection(load_collection)
"""


def invoke(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "tasks.py").write_text(TASKS_FILE)
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


def test_defaults_get_a_random_seed() -> None:
    spec = build_spec()
    assert (spec.tasks, spec.template, spec.width, spec.concurrency) == (1000, "fan_out", 10, 50)
    assert 0 <= spec.seed < 2**31


def test_flags_override_the_manifest(tmp_path: Path) -> None:
    recorded = LoadSpec(
        tasks=30, width=4, chaos=(parse_chaos("kill:worker-python:every=5s"),), seed=9
    )
    path = write_manifest(
        tmp_path / "m.json", new_manifest("load-run", cluster={}, timings={}, load=recorded)
    )
    assert build_spec(manifest=str(path)) == recorded
    changed = build_spec(manifest=str(path), tasks=5, chaos=["pause:orchestration:every=4s"])
    assert (changed.tasks, changed.width, changed.seed) == (5, 4, 9)
    assert [c.text for c in changed.chaos] == ["pause:orchestration:every=4s,for=3s"]


def test_a_cluster_start_manifest_cannot_be_replayed(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "c.json", new_manifest("cluster-start", {}, {}))
    with pytest.raises(ManifestError, match="it records a cluster start, not a load run"):
        build_spec(manifest=str(path))


def test_bad_chaos_is_rejected_with_the_parser_message() -> None:
    with pytest.raises(ChaosSpecError, match="invalid chaos spec 'kill:x'"):
        build_spec(chaos=["kill:x"])


def test_help_lists_every_flag(tmp_path: Path) -> None:
    result = invoke(tmp_path, "--help", "load.run")
    assert result.returncode == 0, result.stderr
    for flag in (
        "--tasks",
        "--template",
        "--width",
        "--concurrency",
        "--rate",
        "--chaos",
        "--json",
        "--report",
        "--manifest",
        "--seed",
        "--timeout",
        "--sleep-ms",
        "--cluster-dir",
        "--env-file",
        "--urls",
    ):
        assert flag in result.stdout
    assert "Create tasks across the cluster" in result.stdout


def test_user_errors_exit_2_with_the_message(tmp_path: Path) -> None:
    result = invoke(tmp_path, "load.run", "--chaos=kill:worker-python:every=10")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "load.run: invalid chaos spec 'kill:worker-python:every=10': duration '10' is not a "
        "number followed by ms, s or m; expected ACTION:SERVICE:every=DURATION[,for=DURATION] "
        "with ACTION kill, pause or rolling-restart and durations like 500ms, 10s or 2m (e.g. "
        "kill:worker-python:every=10s or pause:orchestration:every=15s,for=3s)"
    )
    missing = invoke(tmp_path, "load.run", f"--manifest={tmp_path / 'gone.json'}")
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"load.run: cannot use manifest {tmp_path / 'gone.json'}: the file does not exist; "
        "pass --manifest a file written by `invoke load.run` "
        "(<cluster dir>/manifests/load-run-*.json)"
    )


def test_no_cluster_is_explained_with_the_commands_that_fix_it(tmp_path: Path) -> None:
    empty = tmp_path / "cluster"
    empty.mkdir()
    result = invoke(tmp_path, "load.run", "--tasks=1", f"--cluster-dir={empty}")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"load.run: no running orchestration instance found in the cluster directory {empty} "
        "and TASKER_TEST_ORCHESTRATION_URLS is not set; start one with `invoke cluster.start`, "
        "pass --cluster-dir, or set TASKER_TEST_ORCHESTRATION_URLS to comma-separated URLs"
    )


def test_nothing_listening_is_named(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = invoke(tmp_path, "load.run", "--tasks=1", f"--urls=http://127.0.0.1:{port}")
    assert result.returncode == 2
    assert f"http://127.0.0.1:{port}" in result.stderr
    assert "not healthy" in result.stderr
