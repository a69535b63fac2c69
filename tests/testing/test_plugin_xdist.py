"""The plugin under pytest-xdist: a cluster per worker, one summary on the controller."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

RECORDING_TESTS = """
import os
import uuid
from pathlib import Path

import pytest

@pytest.mark.parametrize("n", range(4))
def test_fails(tasker_cluster, n):
    out = Path(os.environ["TASKER_XDIST_OUT"])
    worker = os.environ["PYTEST_XDIST_WORKER"]
    (out / uuid.uuid4().hex).write_text(
        f"{worker} {tasker_cluster.cluster.urls[0]} {tasker_cluster.cluster_dir}"
    )
    assert False, "deliberately"
"""


@pytest.mark.slow
def test_each_worker_runs_its_cluster_and_the_controller_reports_kept_state(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TASKER_TEST_ORCHESTRATION_URLS", "TASKER_TEST_WORKER_URLS", "TASKER_CLUSTER_DIR"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("TASKER_XDIST_OUT", str(out))
    cluster_dir = tmp_path / "cluster"
    pytester.makepyfile(RECORDING_TESTS)
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:randomly",
        "--tasker-orchestration=1",
        "--tasker-workers=0",
        f"--tasker-cluster-dir={cluster_dir}",
    )
    try:
        result.assert_outcomes(failed=4)
        records = [path.read_text().split() for path in out.iterdir()]
        assert len(records) == 4
        url_of: dict[str, set[str]] = {}
        dir_of: dict[str, set[str]] = {}
        for worker, url, directory in records:
            url_of.setdefault(worker, set()).add(url)
            dir_of.setdefault(worker, set()).add(directory)
        assert all(len(urls) == 1 for urls in url_of.values()), "one cluster per worker"
        ports = [next(iter(urls)) for urls in url_of.values()]
        assert len(set(ports)) == len(ports), f"workers shared a port: {url_of}"
        assert {w: {str(cluster_dir / w)} for w in dir_of} == dir_of
        kept = [
            line.split(" kept in ", 1)[1]
            for line in result.outlines
            if line.startswith("tasker cluster state and logs kept in ")
        ]
        assert sorted(kept) == sorted(str(cluster_dir / worker) for worker in dir_of)
        result.stdout.fnmatch_lines(["tasker cluster: managed, *; one cluster per xdist worker"])
    finally:
        shutil.rmtree(cluster_dir, ignore_errors=True)
