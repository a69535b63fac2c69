"""Starting real service processes for tests, and talking to them over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tasker_cluster.states import TASK_TERMINAL

ORCHESTRATION_MODULE = "tasker_cluster.services.orchestration"
WORKER_MODULE = "tasker_cluster.services.worker"
FAN_OUT = {"namespace": "load_testing", "name": "fan_out"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class ServiceProcess:
    """One service in its own session (process group), logging to a file."""

    instance_id: str
    module: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.instance_id} exited with {self.process.returncode}:\n{self.log()[-3000:]}"
            )
        try:
            return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 30.0) -> ServiceProcess:
        wait_until(self.healthy, timeout, what=f"{self.instance_id} to answer /health")
        return self

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the group; SIGKILL it if it has not exited within `timeout`."""
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.process.wait(timeout)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_service_expecting_failure(
    module: str, directory: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m tasker_cluster.services.<module>` with `env` on a free port and a
    database file in `directory` (`never.sqlite3`, which a refused start must not create)."""
    return subprocess.run(
        [sys.executable, "-m", f"tasker_cluster.services.{module}"],
        env={
            "TASKER_WEB_BIND_ADDRESS": f"127.0.0.1:{free_port()}",
            "DATABASE_URL": f"sqlite:///{directory}/never.sqlite3",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class ServiceFactory:
    """Starts services for one test and guarantees none survives it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[ServiceProcess] = []
        self.survivors: list[str] = []
        # Set by tests that break the database on purpose, so exceptions are expected.
        self.tracebacks_expected = False

    def start(
        self,
        module: str,
        instance_id: str | None,
        database_url: str,
        env: Mapping[str, str] | None = None,
        *,
        wait: bool = True,
        args: Iterable[str] = (),
    ) -> ServiceProcess:
        port = free_port()
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TASKER_") and key not in ("DATABASE_URL", "PORT")
        }
        environment.update(
            {
                "TASKER_WEB_BIND_ADDRESS": f"127.0.0.1:{port}",
                "DATABASE_URL": database_url,
                "TASKER_CLUSTER_DIR": str(self.directory),
                "TASKER_POLL_INTERVAL_MS": "20",
            }
        )
        if instance_id:
            environment["TASKER_INSTANCE_ID"] = instance_id
        environment.update(env or {})
        name = instance_id or f"{module.rsplit('.', 1)[-1]}-{port}"
        log_path = self.directory / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.directory,
            )
        service = ServiceProcess(name, module, port, log_path, process, environment)
        self.started.append(service)
        return service.wait_healthy() if wait else service

    def orchestration(
        self, instance_id: str | None, database_url: str, **env: str
    ) -> ServiceProcess:
        return self.start(ORCHESTRATION_MODULE, instance_id, database_url, env)

    def worker(self, instance_id: str | None, database_url: str, **env: str) -> ServiceProcess:
        return self.start(WORKER_MODULE, instance_id, database_url, env)

    def tracebacks(self) -> list[str]:
        """Ids of services whose log shows an unexpected exception."""
        if self.tracebacks_expected:
            return []
        return [service.instance_id for service in self.started if "Traceback" in service.log()]

    def finish(self) -> None:
        """Clean up, then fail if a service outlived its test or logged an exception."""
        survivors = self.cleanup()
        assert not survivors, f"processes survived their test: {survivors}"
        assert not self.tracebacks(), f"services logged exceptions: {self.tracebacks()}"

    def cleanup(self) -> list[str]:
        """Kill every group we started; return the ids of any that still had processes."""
        survivors = self.survivors
        for service in self.started:
            if service.process.poll() is None:
                service.signal(signal.SIGKILL)
                service.process.wait(10)
            if group_alive(service.pid):
                try:
                    os.killpg(service.pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                survivors.append(service.instance_id)
        return survivors


def task_request(
    namespace: str, name: str, context: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A full upstream `TaskRequest`, with a fresh idempotency key so that equal contexts make
    distinct tasks (tasker-core's `strict` identity refuses a repeated context with 409)."""
    return {
        "namespace": namespace,
        "name": name,
        "version": "1.0.0",
        "context": context,
        "initiator": "tests",
        "source_system": "tasker-cluster-tests",
        "reason": "test",
        "tags": [],
        "requested_at": "2026-01-01T00:00:00Z",
        "correlation_id": str(uuid.uuid4()),
        "idempotency_key": str(uuid.uuid4()),
        **extra,
    }


def create_task(
    client: httpx.Client, url: str, namespace: str, name: str, context: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = client.post(f"{url}/v1/tasks", json=task_request(namespace, name, context, **extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def step_mapping(task: Mapping[str, Any]) -> dict[str, str]:
    """Step name -> step uuid of a `TaskResponse` (its `steps` are `StepReadinessStatus`)."""
    return {step["name"]: step["workflow_step_uuid"] for step in task["steps"]}


def task_status(client: httpx.Client, url: str, task_uuid: str) -> str:
    response = client.get(f"{url}/v1/tasks/{task_uuid}")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def wait_for_task(client: httpx.Client, url: str, task_uuid: str, timeout: float = 60.0) -> str:
    return str(
        wait_until(
            lambda: (status := task_status(client, url, task_uuid)) in TASK_TERMINAL and status,
            timeout,
            what=f"task {task_uuid} to finish",
        )
    )


def count_with_status(client: httpx.Client, url: str, status: str) -> int:
    response = client.get(f"{url}/v1/tasks", params={"status": status, "per_page": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["pagination"]["total_count"])


def metric_value(client: httpx.Client, url: str, name: str) -> float:
    """Sum of every series of `name` in the /metrics text."""
    text = client.get(f"{url}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total
