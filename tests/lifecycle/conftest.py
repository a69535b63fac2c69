"""Fixtures for lifecycle tests: a private cluster directory and free ports per test, and a
guard that fails a test (after cleaning up) if any process it started is left running."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tasker_cluster.testing.free_ports import free_port_range

from .helpers import ClusterFactory, processes_of


def _kill_leftovers(cluster_dir: Path) -> list[str]:
    leftovers = processes_of(cluster_dir)
    described = []
    for process in leftovers:
        try:
            described.append(f"pid {process.pid} {' '.join(process.cmdline())}")
            process.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue
    psutil.wait_procs(leftovers, timeout=5)
    return described


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[ClusterFactory]:
    """A cluster factory; after the test no process of its cluster directory may remain."""
    cluster_dir = tmp_path / "cluster"
    orchestration_port = free_port_range(5)
    worker_port = free_port_range(5, avoid=range(orchestration_port, orchestration_port + 5))
    made = ClusterFactory(cluster_dir, orchestration_port, worker_port)
    yield made
    leftovers = _kill_leftovers(cluster_dir)
    assert not leftovers, f"processes left running after the test: {leftovers}"


from fakes.tasker_core import CoreCluster, kill_holders, kill_strays, make_checkout  # noqa: E402


@pytest.fixture
def tasker_core(tmp_path: Path) -> Iterator[CoreCluster]:
    """A fixture tasker-core checkout (tests/fakes/tasker_core.py) and a cluster directory;
    afterwards no process of that directory, no fake server and no stand-in may remain (port
    holders a test planted are foreign processes: they are killed, not reported)."""
    core = CoreCluster(make_checkout(tmp_path / "tasker-core"), tmp_path / "cluster")
    yield core
    leftovers = _kill_leftovers(core.cluster_dir) + kill_strays(core.checkout)
    kill_holders(core.checkout)
    assert not leftovers, f"processes left running after the test: {leftovers}"
