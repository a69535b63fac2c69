"""`load.run` against a cluster with auth on: the key given by flag, by environment or by the
cluster's own configuration is sent with every request; a wrong key is named, not retried."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasker_cluster.load.report import LoadReport
from tasker_cluster.load.runner import run_load_async
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.target import target_from_cluster
from tasker_cluster.testing.manager import MultiInstanceTestManager

pytestmark = pytest.mark.slow

API_KEY = "load-test-key-1"
AUTH_ENV = {"TASKER_AUTH_ENABLED": "true", "TASKER_API_KEY": API_KEY}
TASKS_FILE = """
from invoke import Collection

from tasker_cluster.cli.load import load_collection

ns = Collection()
ns.add_collection(load_collection)
"""


@pytest.fixture(scope="module")
def secured() -> Iterator[MultiInstanceTestManager]:
    manager = MultiInstanceTestManager()
    asyncio.run(manager.setup(orchestration=1, workers=1, env=AUTH_ENV))
    try:
        yield manager
    finally:
        manager.teardown()


def _load_run(
    secured: MultiInstanceTestManager, tmp_path: Path, *flags: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], LoadReport | None]:
    (tmp_path / "tasks.py").write_text(TASKS_FILE)
    report_path = tmp_path / "report.json"
    urls = ",".join(secured.cluster.urls)
    command = [
        sys.executable, "-m", "invoke", "--search-root", str(tmp_path), "load.run",
        "--tasks=3", "--width=2", "--timeout=60", f"--urls={urls}", f"--report={report_path}",
        *flags,
    ]  # fmt: skip
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TASKER_TEST_")}
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**environ, **env},
    )
    report = None
    if report_path.is_file():
        report = LoadReport.from_dict(json.loads(report_path.read_text()))
    return result, report


def test_the_key_of_a_managed_cluster_is_sent_by_the_library(
    secured: MultiInstanceTestManager,
) -> None:
    """The cluster's own configuration names its key: the target built from it sends it."""
    target = target_from_cluster(secured.faults().lifecycle)
    assert target.config.api_key == API_KEY
    assert API_KEY not in repr(target.config)
    report = asyncio.run(run_load_async(LoadSpec(tasks=3, width=2, timeout=60), target))
    assert report.ok, report.broken_invariants
    assert (report.tasks_created, report.tasks_completed, report.create_errors) == (3, 3, 0)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_load_run_sends_the_given_key(
    secured: MultiInstanceTestManager, tmp_path: Path, how: str
) -> None:
    if how == "flag":
        result, report = _load_run(secured, tmp_path, f"--api-key={API_KEY}")
    else:
        result, report = _load_run(secured, tmp_path, TASKER_TEST_API_KEY=API_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report is not None
    assert (report.tasks_created, report.tasks_completed, report.create_errors) == (3, 3, 0)
    assert API_KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("flags", "sent"),
    [((), "the client sent no credentials"), (("--api-key=not-the-key",), "sent X-API-Key")],
    ids=["no-key", "wrong-key"],
)
def test_refused_creations_fail_the_run_and_say_why(
    secured: MultiInstanceTestManager, tmp_path: Path, flags: tuple[str, ...], sent: str
) -> None:
    result, report = _load_run(secured, tmp_path, *flags)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "task creation failed (3)" in output
    assert report is not None
    assert (report.tasks_created, report.create_errors) == (0, 3)
    assert "401" in output and sent in output, output


def test_a_credential_that_cannot_be_a_header_is_a_usage_error(
    secured: MultiInstanceTestManager, tmp_path: Path
) -> None:
    result, _ = _load_run(secured, tmp_path, "--api-key=two words")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--api-key is '***': the credential contains whitespace" in result.stderr
    assert "two words" not in result.stderr
