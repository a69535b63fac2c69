"""The cluster lock and port preflight, with real sockets and file locks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psutil
import pytest

from tasker_cluster.config.instances import plan_instances
from tasker_cluster.config.loader import load_settings
from tasker_cluster.process.errors import LockTimeoutError, PortsInUseError
from tasker_cluster.process.lock import ClusterLock
from tasker_cluster.process.ports import port_conflicts, port_is_free
from tasker_cluster.testing.free_ports import free_port_range


def test_a_second_holder_waits_then_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".pids" / ".lock"
    with ClusterLock(path, timeout=1.0):
        with pytest.raises(LockTimeoutError) as error:
            ClusterLock(path, timeout=0.2).acquire()
        assert str(error.value) == (
            f"pid {os.getpid()} has held the cluster lock {path} for more than 0.2 s; wait for "
            "that cluster command to finish (or stop it) and try again"
        )
    with ClusterLock(path, timeout=0.2):
        assert path.read_text() == f"{os.getpid()}\n"


def test_a_listening_port_is_reported_with_its_holder() -> None:
    base = free_port_range(2)
    settings = load_settings(
        [],
        {"TASKER_ORCHESTRATION_BASE_PORT": str(base), "TASKER_WORKER_PYTHON_INSTANCES": "0"},
        {"PATH": "/usr/bin:/bin"},
    )
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base + 1))
        holder.listen()
        assert not port_is_free("127.0.0.1", base + 1)

        conflicts = port_conflicts(plan_instances(settings), "127.0.0.1", {})

    assert port_is_free("127.0.0.1", base + 1)
    name = psutil.Process().name()
    assert str(PortsInUseError(conflicts)) == (
        "cannot start: 1 port(s) already in use, nothing was started:\n"
        f"  port {base + 1} for orchestration-2 is held by pid {os.getpid()} ({name})\n"
        "stop the holder, or move the instances with TASKER_ORCHESTRATION_BASE_PORT"
    )
