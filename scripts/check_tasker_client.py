#!/usr/bin/env python3
"""Drive tasker-core's own Rust client against an orchestration and report each operation.

    python scripts/check_tasker_client.py http://127.0.0.1:8080 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

The client is the one bundled in the `tasker-py` wheel (import name `tasker_core`; install it
with `pip install tasker-py` or this project's `tasker-core` extra): `tasker_core.client.
TaskerClient`, whose calls go through tasker-core's Rust `OrchestrationApiClient`, which
decodes every answer into tasker-core's own response types. A field our service sends with
the wrong name or type therefore fails the call, with serde's message.

The Rust client only exists inside a bootstrapped tasker-core worker system, so this script
bootstraps one in-process first: with a generated configuration whose orchestration client
points at the URL given, its web and gRPC servers off and no templates. Bootstrapping
connects to a PostgreSQL database (any database on a reachable server; nothing is written
to it); the worker's queue pollers then log errors about a missing `pgmq` schema, which do
not affect the client. tasker-core's log lines go to stderr; the table goes to stdout.

The operations: health_check, create_task, get_task (until the task is complete),
list_tasks, list_task_steps, get_step, get_step_audit_history, cancel_task (of a second,
sleeping task, then read back). The orchestration needs a worker for the task to complete.
Exit status 0 when every operation succeeded, 1 when any failed, 2 when tasker-py is missing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

NOT_INSTALLED = "tasker-py is not installed (pip install tasker-py)"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LINEAR_STEPS = ["linear_step_1", "linear_step_2", "linear_step_3", "linear_step_4"]
POLL_INTERVAL = 0.1

# tasker-core's worker configuration (its config/tasker/generated/worker-test.toml, with the
# orchestration client, database and template path filled in and the servers switched off).
# Every section is required: tasker-core's loader has no defaults for them.
CONFIG_TEMPLATE = """\
[common.backoff]
backoff_multiplier = 2.0
default_backoff_seconds = [1, 2, 4]
jitter_enabled = true
jitter_max_percentage = 0.15
max_backoff_seconds = 10

[common.cache]
analytics_ttl_seconds = 30
backend = "moka"
default_ttl_seconds = 3600
enabled = false
template_ttl_seconds = 300

[common.cache.moka]
max_capacity = 10000

[common.cache.redis]
connection_timeout_seconds = 5
database = 0
max_connections = 10
url = "redis://127.0.0.1:6379"

[common.circuit_breakers.component_configs.cache]
failure_threshold = 5
success_threshold = 2

[common.circuit_breakers.component_configs.pgmq]
failure_threshold = 5
success_threshold = 2

[common.circuit_breakers.component_configs.task_readiness]
failure_threshold = 10
success_threshold = 3

[common.circuit_breakers.default_config]
failure_threshold = 5
success_threshold = 2
timeout_seconds = 30

[common.circuit_breakers.global_settings]
metrics_collection_interval_seconds = 10
min_state_transition_interval_seconds = 5.0

[common.database]
url = "{database_url}"

[common.database.pool]
acquire_timeout_seconds = 10
idle_timeout_seconds = 60
max_connections = 4
max_lifetime_seconds = 3600
min_connections = 1
slow_acquire_threshold_ms = 500

[common.execution]
environment = "test"
step_enqueue_batch_size = 10

[common.mpsc_channels.event_publisher]
event_queue_buffer_size = 100

[common.mpsc_channels.ffi]
ruby_event_buffer_size = 100

[common.mpsc_channels.overflow_policy]
log_warning_threshold = 0.8

[common.mpsc_channels.overflow_policy.metrics]
saturation_check_interval_seconds = 10

[common.pgmq_database]
enabled = false
url = ""

[common.pgmq_database.pool]
acquire_timeout_seconds = 5
idle_timeout_seconds = 60
max_connections = 2
max_lifetime_seconds = 3600
min_connections = 1
slow_acquire_threshold_ms = 500

[common.queues]
backend = "pgmq"
default_visibility_timeout_seconds = 30
naming_pattern = "{{namespace}}_{{name}}_queue"
orchestration_namespace = "orchestration"
worker_namespace = "worker"

[common.queues.orchestration_queues]
step_results = "orchestration_step_results"
task_finalizations = "orchestration_task_finalizations"
task_requests = "orchestration_task_requests"

[common.queues.pgmq]
poll_interval_ms = 250

[common.queues.pgmq.queue_depth_thresholds]
critical_threshold = 500
overflow_threshold = 1000

[common.queues.rabbitmq]
heartbeat_seconds = 30
prefetch_count = 10
url = "amqp://tasker:tasker@127.0.0.1:5672/%2F"

[common.system]
default_dependent_system = "default"

[common.task_templates]
search_paths = ["{templates}/*.yaml"]

[worker]
worker_id = "check-tasker-client"
worker_type = "general"

[worker.circuit_breakers.ffi_completion_send]
failure_threshold = 3
recovery_timeout_seconds = 1
slow_send_threshold_ms = 50
success_threshold = 1

[worker.event_systems.worker]
deployment_mode = "PollingOnly"
system_id = "worker-event-system"

[worker.event_systems.worker.health]
enabled = true
error_rate_threshold_per_minute = 20
max_consecutive_errors = 10
performance_monitoring_enabled = false

[worker.event_systems.worker.metadata.fallback_poller]
age_threshold_seconds = 2
batch_size = 20
enabled = false
max_age_hours = 12
polling_interval_ms = 5000
supported_namespaces = []
visibility_timeout_seconds = 30

[worker.event_systems.worker.metadata.in_process_events]
deduplication_cache_size = 1000
ffi_integration_enabled = true

[worker.event_systems.worker.metadata.listener]
batch_processing = true
connection_timeout_seconds = 30
event_timeout_seconds = 60
max_retry_attempts = 5
retry_interval_seconds = 5

[worker.event_systems.worker.processing]
batch_size = 20
max_concurrent_operations = 10
max_retries = 3

[worker.event_systems.worker.processing.backoff]
initial_delay_ms = 100
jitter_percent = 0.1
max_delay_ms = 10000
multiplier = 2.0

[worker.event_systems.worker.timing]
claim_timeout_seconds = 300
fallback_polling_interval_seconds = 5
health_check_interval_seconds = 30
processing_timeout_seconds = 60
visibility_timeout_seconds = 30

[worker.grpc]
bind_address = "127.0.0.1:0"
enable_health_service = false
enable_reflection = false
enabled = false
keepalive_interval_seconds = 10
keepalive_timeout_seconds = 5
max_concurrent_streams = 100
max_frame_size = 16384
tls_enabled = false

[worker.mpsc_channels.command_processor]
command_buffer_size = 100

[worker.mpsc_channels.domain_events]
command_buffer_size = 100
log_dropped_events = true
shutdown_drain_timeout_ms = 1000

[worker.mpsc_channels.event_listeners]
pgmq_event_buffer_size = 100

[worker.mpsc_channels.event_subscribers]
completion_buffer_size = 100
result_buffer_size = 100

[worker.mpsc_channels.event_systems]
event_channel_buffer_size = 100

[worker.mpsc_channels.handler_dispatch]
completion_buffer_size = 100
dispatch_buffer_size = 100
handler_timeout_ms = 5000
max_concurrent_handlers = 5

[worker.mpsc_channels.handler_dispatch.load_shedding]
capacity_threshold_percent = 80.0
enabled = true
warning_threshold_percent = 70.0

[worker.mpsc_channels.in_process_events]
broadcast_buffer_size = 1000
dispatch_timeout_ms = 2000
log_subscriber_errors = true

[worker.orchestration_client]
base_url = "{orchestration_url}"
max_retries = 1
timeout_ms = {timeout_ms}

[worker.web]
bind_address = "127.0.0.1:0"
config_endpoint_enabled = false
enabled = false
request_timeout_ms = 30000

[worker.web.auth]
api_key = ""
api_key_header = "X-API-Key"
enabled = false
jwt_audience = "worker-api"
jwt_issuer = "tasker-worker"
jwt_private_key = ""
jwt_public_key = ""
jwt_public_key_path = ""
jwt_token_expiry_hours = 24

[worker.web.database_pools]
max_total_connections_hint = 4
web_api_connection_timeout_seconds = 15
web_api_idle_timeout_seconds = 300
web_api_max_connections = 2
web_api_pool_size = 1
"""

# Environment tasker-core would read over the configuration file.
OVERRIDDEN = (
    "DATABASE_URL",
    "PGMQ_DATABASE_URL",
    "TASKER_WEB_BIND_ADDRESS",
    "TASKER_WORKER_GRPC_BIND_ADDRESS",
    "TASKER_MESSAGING_BACKEND",
    "TASKER_INSTANCE_PORT",
)


class CheckFailed(Exception):
    """An operation answered, but not what it should have."""


def expect(condition: object, problem: str) -> None:
    if not condition:
        raise CheckFailed(problem)


def with_password(url: str) -> str:
    """tasker-core's URL check wants `user:password@`; a server that trusts the user ignores
    the placeholder password added here."""
    parts = urlsplit(url)
    if parts.username and parts.password is None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username}:unused@{host}")
    return urlunsplit(parts)


class Checks:
    """The operations, in order; later ones use the task the earlier ones made."""

    def __init__(self, client: Any, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.task_uuid: str | None = None
        self.step_uuid: str | None = None
        # a context of its own: the template's identity strategy refuses a repeated one
        self.even_number = 2 * random.randint(1, 500_000)

    def operations(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("health_check", self.health_check),
            ("create_task", self.create_task),
            ("get_task", self.get_task),
            ("list_tasks", self.list_tasks),
            ("list_task_steps", self.list_task_steps),
            ("get_step", self.get_step),
            ("get_step_audit_history", self.get_step_audit_history),
            ("cancel_task", self.cancel_task),
        ]

    def _task(self) -> str:
        if self.task_uuid is None:
            raise CheckFailed("not run: create_task failed")
        return self.task_uuid

    def _step(self) -> str:
        if self.step_uuid is None:
            raise CheckFailed("not run: list_task_steps failed")
        return self.step_uuid

    def health_check(self) -> str:
        health = self.client.health_check()
        expect(health.healthy is True, f"healthy is {health.healthy!r}")
        return "healthy"

    def create_task(self) -> str:
        task = self.client.create_task(
            "mathematical_sequence",
            namespace="linear_workflow",
            context={"even_number": self.even_number},
        )
        expect(task.task_uuid, "the answer has no task_uuid")
        expect(task.namespace == "linear_workflow", f"namespace is {task.namespace!r}")
        expect(len(task.steps) == 4, f"{len(task.steps)} steps instead of 4")
        self.task_uuid = task.task_uuid
        return f"task {task.task_uuid} ({task.status}, {len(task.steps)} steps)"

    def get_task(self) -> str:
        task_uuid = self._task()
        deadline = time.monotonic() + self.timeout
        while True:
            task = self.client.get_task(task_uuid)
            expect(task.task_uuid == task_uuid, f"answered task {task.task_uuid}")
            if task.status == "complete":
                break
            expect(task.status not in ("error", "cancelled"), f"task ended {task.status}")
            expect(
                time.monotonic() < deadline,
                f"task still {task.status} after {self.timeout:.0f} s (is a worker running?)",
            )
            time.sleep(POLL_INTERVAL)
        expect(task.completed_steps == 4, f"completed_steps is {task.completed_steps}")
        return f"complete, {task.completed_steps}/{task.total_steps} steps"

    def list_tasks(self) -> str:
        task_uuid = self._task()
        listing = self.client.list_tasks(limit=50, offset=0, namespace="linear_workflow")
        uuids = [task.task_uuid for task in listing.tasks]
        expect(task_uuid in uuids, f"task {task_uuid} not among {len(uuids)} listed")
        total = listing.pagination.total_count
        expect(total >= 1, f"pagination.total_count is {total}")
        return f"{len(uuids)} task(s), total_count {total}"

    def list_task_steps(self) -> str:
        steps = self.client.list_task_steps(self._task())
        names = [step.name for step in steps]
        expect(names == LINEAR_STEPS, f"steps {names}")
        states = {step.current_state for step in steps}
        expect(states == {"complete"}, f"step states {sorted(states)}")
        self.step_uuid = steps[0].step_uuid
        return f"{len(steps)} steps, all complete"

    def get_step(self) -> str:
        step = self.client.get_step(self._task(), self._step())
        expect(step.step_uuid == self.step_uuid, f"answered step {step.step_uuid}")
        expect(step.name == LINEAR_STEPS[0], f"name is {step.name!r}")
        expected = {"value": self.even_number**2}
        expect(step.results == expected, f"results are {step.results!r}, not {expected!r}")
        return f"{step.name}: {step.current_state}, results {step.results}"

    def get_step_audit_history(self) -> str:
        entries = self.client.get_step_audit_history(self._task(), self._step())
        expect(len(entries) == 1, f"{len(entries)} audit entries instead of 1")
        entry = entries[0]
        expect(entry.workflow_step_uuid == self.step_uuid, "audit of another step")
        expect(entry.success is True, f"success is {entry.success!r}")
        return f"1 entry: {entry.from_state} -> {entry.to_state}"

    def cancel_task(self) -> str:
        task = self.client.create_task(
            "sleep",
            namespace="load_testing",
            context={"seconds": 60 + random.random()},
            reason="to be cancelled",
        )
        answer = self.client.cancel_task(task.task_uuid)
        after = self.client.get_task(task.task_uuid)
        expect(after.status == "cancelled", f"status after cancelling is {after.status!r}")
        return f"cancelled (answer {answer!r})"


def run(checks: Checks) -> list[tuple[str, bool, str]]:
    results = []
    for name, operation in checks.operations():
        try:
            results.append((name, True, operation()))
        except CheckFailed as failure:
            results.append((name, False, str(failure)))
        except Exception as error:  # tasker-core raises RuntimeError with serde's message
            results.append((name, False, f"{type(error).__name__}: {error}"))
    return results


def print_table(out: TextIO, results: list[tuple[str, bool, str]]) -> None:
    width = max(len("operation"), *(len(name) for name, _, _ in results))
    out.write(f"{'operation':<{width}}  result\n{'-' * width}  {'-' * 6}\n")
    for name, ok, detail in results:
        out.write(f"{name:<{width}}  {'ok' if ok else 'error'}: {detail}\n")
    out.flush()


def own_stdout() -> TextIO:
    """The table's stream; file descriptor 1 (where tasker-core logs) becomes stderr."""
    sys.stdout.flush()
    table = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return table


def bootstrap(core: Any, workspace: Path, orchestration_url: str, args: argparse.Namespace) -> None:
    templates = workspace / "config" / "tasks"
    templates.mkdir(parents=True)
    config = workspace / "worker.toml"
    config.write_text(
        CONFIG_TEMPLATE.format(
            database_url=with_password(args.database_url),
            orchestration_url=orchestration_url,
            templates=templates,
            timeout_ms=int(args.request_timeout * 1000),
        ),
        encoding="utf-8",
    )
    for name in OVERRIDDEN:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "TASKER_CONFIG_PATH": str(config),
            "TASKER_TEMPLATE_PATH": str(templates),
            "WORKSPACE_PATH": str(workspace),
            "TASKER_ENV": "test",
        }
    )
    started = core.bootstrap_worker({})
    if started.get("status") != "started":
        raise RuntimeError(f"bootstrap_worker answered {started!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("orchestration_url", help="e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TASKER_TEST_POSTGRES_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL database tasker-core's worker bootstrap can connect to "
        "(default: $TASKER_TEST_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds for the task to complete"
    )
    parser.add_argument(
        "--request-timeout", type=float, default=10.0, help="seconds per client request"
    )
    args = parser.parse_args(argv)
    table = own_stdout()
    os.environ.setdefault("RUST_LOG", "error")  # read once, when tasker_core is imported
    # tasker_core has no stubs for this project's type check: reached through importlib.
    try:
        core = importlib.import_module("tasker_core._tasker_core")
        client_module = importlib.import_module("tasker_core.client")
    except ImportError:
        table.write(f"{NOT_INSTALLED}\n")
        return 2
    url = args.orchestration_url.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="check-tasker-client-") as directory:
        try:
            bootstrap(core, Path(directory), url, args)
        except Exception as error:
            traceback.print_exc()
            print_table(table, [("bootstrap_worker", False, f"{type(error).__name__}: {error}")])
            return 1
        try:
            results = run(Checks(client_module.TaskerClient(), args.timeout))
        finally:
            core.stop_worker()
    print_table(table, results)
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
