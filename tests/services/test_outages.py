"""A database that is missing at start, or goes away while the services run."""

from __future__ import annotations

from functools import partial

import httpx
import psycopg
import pytest

from .support import ServiceFactory, free_port, wait_until


def _answers(client: httpx.Client, url: str, status: int) -> bool:
    return client.get(url).status_code == status


@pytest.mark.slow
def test_an_unreachable_database_fails_the_start_with_its_reason(
    services: ServiceFactory,
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    service = services.start(
        "tasker_cluster.services.orchestration", "orchestration-1", url, wait=False
    )
    assert service.wait(60) == 1
    log = service.log()
    assert "database not ready yet" in log
    assert f"cannot start: database {url} is unavailable: connection failed" in log


@pytest.mark.postgres
def test_losing_the_database_makes_instances_unready_not_broken(
    services: ServiceFactory, postgres_url: str, postgres_server: str
) -> None:
    services.tracebacks_expected = True
    orchestration = services.orchestration("orchestration-1", postgres_url)
    worker = services.worker("worker-python-1", postgres_url)
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    with httpx.Client(timeout=10) as client:
        for service in (orchestration, worker):
            ready_url = f"{service.url}/health/ready"
            wait_until(
                partial(_answers, client, ready_url, 503),
                30,
                what=f"{service.instance_id} to report not ready",
            )
            assert client.get(f"{service.url}/health").status_code == 200
        response = client.get(f"{orchestration.url}/v1/tasks")
        assert response.status_code == 503
        assert response.json() == "ServiceUnavailable"  # tasker-core's ApiError variant
        assert response.headers["x-tasker-error-code"] == "SERVICE_UNAVAILABLE"
        assert response.headers["x-tasker-error-kind"] == "unavailable"
        assert response.headers["x-tasker-error-message"].startswith(
            "service unavailable: database"
        )
