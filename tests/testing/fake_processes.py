"""Throw-away HTTP processes standing in for orchestration instances in client tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from tasker_cluster.process.records import InstanceRecord, write_record

FAKE_SERVICE = Path(__file__).with_name("fake_service.py")


@dataclass
class FakeInstance:
    instance_id: str
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


StartFakes = Callable[[int], list[FakeInstance]]


def start_fake(instance_id: str) -> FakeInstance:
    """Bind a listening socket here (so the port is known and nothing races for it), then hand
    it to a fake service process."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, str(FAKE_SERVICE), str(listener.fileno()), instance_id],
            pass_fds=[listener.fileno()],
            start_new_session=True,
        )
    return FakeInstance(instance_id, f"http://127.0.0.1:{port}", process)


def record_as_instance(cluster_dir: Path, fake: FakeInstance, service: str, number: int) -> str:
    """Write a lifecycle record that makes `fake` look like instance `<service>-<number>`."""
    instance_id = f"{service}-{number}"
    process = psutil.Process(fake.process.pid)
    record = InstanceRecord(
        instance_id=instance_id,
        service=service,
        number=number,
        pid=process.pid,
        create_time=process.create_time(),
        argv=tuple(process.cmdline()),
        port=int(fake.url.rsplit(":", 1)[1]),
        url=fake.url,
        started_at=datetime.now(UTC).isoformat(),
    )
    write_record(cluster_dir / ".pids", record)
    return instance_id


def is_running(pid: int) -> bool:
    """A zombie (exited, not yet reaped) counts as not running."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
