"""Fuzzing our services with tasker-core's own OpenAPI documents (read from ../shared).

Zero response-schema violations, zero schema-valid requests rejected, zero undocumented
status codes, zero 5xx. Auth is off, as in tasker-core's test configuration, so the auth
checks are not run. One documented gap of upstream's is allowed: `POST /v1/tasks` for a
template that does not exist answers 404 (as tasker-core does), which its document omits.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support import ServiceFactory
from .upstream import SCHEMAS, require, run_schemathesis

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "content_type_conformance",
    )
)
CONFIG = ""


def _schemathesis(document: Path, url: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG)
    options = ["--checks", CHECKS, "--phases", "examples,fuzzing,stateful", "--max-examples", "15"]
    return run_schemathesis(document, url, workdir, *options, config=config)


@pytest.fixture
def upstream() -> Path:
    require(SCHEMAS / "orchestration-openapi.json", "tasker-core's OpenAPI documents")
    return SCHEMAS


@pytest.mark.slow
@pytest.mark.parametrize("service", ["orchestration", "worker"])
def test_upstream_openapi_finds_nothing(
    services: ServiceFactory, sqlite_url: str, tmp_path: Path, upstream: Path, service: str
) -> None:
    if service == "orchestration":
        process = services.orchestration("orchestration-upstream", sqlite_url)
    else:
        process = services.worker("worker-upstream", sqlite_url)
    result = _schemathesis(upstream / f"{service}-openapi.json", process.url, tmp_path)
    failures = [line.strip() for line in result.stdout.splitlines() if "❌ ST" in line]
    allowed = ["❌ ST103 Undocumented status code: 1"]
    known_gap = "no task template" in result.stdout and "Received: 404" in result.stdout
    ok = result.returncode == 0 or (failures == allowed and known_gap)
    assert ok, result.stdout[-6000:] + result.stderr[-2000:]
