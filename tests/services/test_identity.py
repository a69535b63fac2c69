"""Instance identity: the environment allowlist, worker id precedence, instance-aware logs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tasker_cluster.services.errors import InvalidEnvironmentError
from tasker_cluster.services.identity import (
    IDENTIFIER_PATTERN,
    configure_logging,
    resolve_worker_id,
    validated_environment,
)
from tasker_cluster.services.settings import ServiceKind, ServiceSettings

from .support import ServiceFactory, run_service_expecting_failure


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("TASKER_INSTANCE_ID", "bad id!", f"does not match {IDENTIFIER_PATTERN}"),
        ("TASKER_INSTANCE_ID", "-leading-dash", f"does not match {IDENTIFIER_PATTERN}"),
        ("TASKER_WORKER_ID", "w" * 65, f"does not match {IDENTIFIER_PATTERN}"),
        ("TASKER_INSTANCE_PORT", "80", "is not in 1024..65535"),
        ("TASKER_INSTANCE_PORT", "80a", "does not match ^[0-9]{1,5}$"),
        ("TASKER_ENV", "staging", "does not match ^(test|development|production)$"),
        ("TASKER_WEB_BIND_ADDRESS", "localhost", "does not match"),
        ("TASKER_WEB_BIND_ADDRESS", "127.0.0.1:70000", "is not in 1..65535"),
        ("DATABASE_URL", "mysql://db", "does not match"),
        ("TASKER_WORKER_CONCURRENCY", "0", "is not in 1..64"),
        ("TASKER_VISIBILITY_TIMEOUT_SECONDS", "3601", "is not in 1..3600"),
        ("TASKER_POLL_INTERVAL_MS", "1", "is not in 5..10000"),
        ("TASKER_FAULTS", "no_such_fault", "names unknown fault 'no_such_fault'"),
    ],
)
def test_invalid_values_name_the_variable_and_the_rule(
    variable: str, value: str, rule: str
) -> None:
    with pytest.raises(InvalidEnvironmentError) as raised:
        ServiceSettings.from_environ(ServiceKind.ORCHESTRATION, {variable: value})
    message = str(raised.value)
    assert message.startswith(f"invalid environment: {variable}={value!r} ")
    assert rule in message
    assert raised.value.variable == variable


def test_the_documented_message_for_a_bad_instance_id() -> None:
    with pytest.raises(InvalidEnvironmentError) as raised:
        validated_environment({"TASKER_INSTANCE_ID": "bad id!"})
    assert str(raised.value) == (
        "invalid environment: TASKER_INSTANCE_ID='bad id!' does not match "
        "^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$"
    )


def test_valid_environment_becomes_settings(tmp_path: Path) -> None:
    settings = ServiceSettings.from_environ(
        ServiceKind.WORKER,
        {
            "TASKER_INSTANCE_ID": "worker-python-2",
            "TASKER_INSTANCE_PORT": "8301",
            "TASKER_CLUSTER_DIR": str(tmp_path),
            "TASKER_WORKER_CONCURRENCY": "7",
            "TASKER_WORKER_NAMESPACES": "load_testing,retry_workflow",
            "TASKER_FAULTS": "duplicate_results,stale_reads",
            "UNRELATED": "anything goes",
        },
    )
    assert (settings.host, settings.port) == ("127.0.0.1", 8301)
    assert settings.database_url == f"sqlite:///{tmp_path}/.data/tasker.sqlite3"
    assert settings.worker_concurrency == 7
    assert settings.worker_namespaces == ("load_testing", "retry_workflow")
    assert settings.faults.describe() == "duplicate_results,stale_reads"


def test_bind_address_wins_over_ports() -> None:
    settings = ServiceSettings.from_environ(
        ServiceKind.ORCHESTRATION,
        {"TASKER_WEB_BIND_ADDRESS": "0.0.0.0:9001", "TASKER_INSTANCE_PORT": "8080", "PORT": "7"},
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 9001)
    fallback = ServiceSettings.from_environ(ServiceKind.WORKER, {"PORT": "8311"})
    assert fallback.port == 8311
    assert ServiceSettings.from_environ(ServiceKind.WORKER, {}).port == 8300


def test_worker_id_precedence() -> None:
    both = {"TASKER_WORKER_ID": "w-explicit", "TASKER_INSTANCE_ID": "worker-python-1"}
    assert resolve_worker_id(both, "configured") == "w-explicit"
    assert resolve_worker_id({"TASKER_INSTANCE_ID": "worker-python-1"}, "cfg") == "worker-python-1"
    assert resolve_worker_id({}, "configured-7") == "configured-7"
    generated = resolve_worker_id({})
    assert generated.startswith("worker-") and len(generated) == len("worker-") + 36
    assert resolve_worker_id({}) != generated


def test_log_lines_carry_the_instance_id(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("orchestration-1")
        logging.getLogger("tasker.example").info("processing task abc")
        configure_logging(None)
        logging.getLogger("tasker.example").warning("no prefix")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(
        stamp + r"\[orchestration-1\] INFO tasker.example: processing task abc", lines[0]
    )
    assert re.fullmatch(stamp + "WARNING tasker.example: no prefix", lines[1])


@pytest.mark.parametrize("module", ["orchestration", "worker"])
def test_a_bad_instance_id_stops_the_service_at_once(module: str, tmp_path: Path) -> None:
    result = run_service_expecting_failure(module, tmp_path, TASKER_INSTANCE_ID="bad id!")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "invalid environment: TASKER_INSTANCE_ID='bad id!' does not match "
        "^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$"
    )
    assert not (tmp_path / "never.sqlite3").exists(), "it touched the database before failing"


def test_a_taken_port_is_reported_with_the_fix(services: ServiceFactory, sqlite_url: str) -> None:
    first = services.orchestration("orchestration-1", sqlite_url)
    second = services.start(
        "tasker_cluster.services.orchestration",
        "orchestration-2",
        sqlite_url,
        {"TASKER_WEB_BIND_ADDRESS": f"127.0.0.1:{first.port}"},
        wait=False,
    )
    assert second.wait(60) == 1
    assert f"cannot listen on 127.0.0.1:{first.port}" in second.log()
    assert "choose a free port with TASKER_WEB_BIND_ADDRESS" in second.log()


def test_service_log_lines_are_prefixed(services: ServiceFactory, sqlite_url: str) -> None:
    worker = services.worker("worker-python-9", sqlite_url)
    first_line = worker.log().splitlines()[0]
    stamp, _, rest = first_line.partition(" ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), first_line
    assert rest.startswith(
        "[worker-python-9] INFO tasker_cluster.services.startup: worker worker-python-9 listening"
    )
