"""Task identity and idempotency, as tasker-core defines them (docs/services.md, "Identity and
idempotency"): `strict` refuses a repeated request with 409, an `idempotency_key` answers the task
the first request created (on any instance sharing the database, even when requests race or the
first instance died before answering), `always_unique` makes a task per request, and
`caller_provided` refuses a request without a key."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .inspection import query
from .support import ServiceFactory, metric_value, task_request

NAMESPACE = "identity_tests"
# One template per identity strategy, in tasker-core's YAML format, each with one step that
# needs no context (the fan_out item handler).
STRATEGIES = ("strict", "always_unique", "caller_provided")
TEMPLATE = """\
name: {strategy}_job
namespace_name: {namespace}
version: 1.0.0
description: "One step; identity strategy {strategy}."
identity_strategy: {strategy}
steps:
  - name: work
    handler:
      callable: TaskerCluster::FanOutItemHandler
    dependencies: []
"""


def write_identity_templates(directory: Path) -> dict[str, str]:
    """Write the templates; the environment a service needs to load them."""
    directory.mkdir(parents=True, exist_ok=True)
    for strategy in STRATEGIES:
        (directory / f"{strategy}_job.yaml").write_text(
            TEMPLATE.format(strategy=strategy, namespace=NAMESPACE), encoding="utf-8"
        )
    return {"TASKER_TEMPLATE_PATH": str(directory)}


def request(strategy: str, key: str | None = None, **extra: Any) -> dict[str, Any]:
    """A full `TaskRequest` for the template of `strategy`, with `key` or without any key."""
    body = task_request(NAMESPACE, f"{strategy}_job", {"item": 1}, **extra)
    del body["idempotency_key"]
    if key is not None:
        body["idempotency_key"] = key
    return body


def task_uuids(client: httpx.Client, url: str) -> list[str]:
    """Every task the instance lists (`GET /v1/tasks`)."""
    response = client.get(f"{url}/v1/tasks", params={"per_page": 100})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["pagination"]["total_count"] == len(page["tasks"])
    return [task["task_uuid"] for task in page["tasks"]]


UPSTREAM_CODES = {"BadRequest": "BAD_REQUEST", "Conflict": "CONFLICT"}


def api_error(response: httpx.Response, status: int, variant: str, kind: str) -> str:
    """The message of tasker-core's `ApiError`, as its document (`{variant: {message}}`) and
    its server (`{"error": {code, message}}`, code upper-case) give it, our `kind` added."""
    assert response.status_code == status, response.text
    body = response.json()
    message = body["error"]["message"]
    error = {"code": UPSTREAM_CODES[variant], "message": message, "kind": kind}
    assert body == {variant: {"message": message}, "error": error}
    assert isinstance(message, str)
    return message


@pytest.fixture
def template_env(tmp_path: Path) -> dict[str, str]:
    return write_identity_templates(tmp_path / "templates")


@pytest.fixture
def orchestration_url(
    services: ServiceFactory, sqlite_url: str, template_env: dict[str, str]
) -> str:
    """One orchestration instance (no worker: tasks stay where creation put them)."""
    return services.orchestration("orchestration-1", sqlite_url, **template_env).url


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def test_the_templates_declare_their_strategies(
    client: httpx.Client, orchestration_url: str
) -> None:
    listed = client.get(f"{orchestration_url}/v1/templates").json()["templates"]
    names = {template["name"] for template in listed if template["namespace"] == NAMESPACE}
    assert names == {f"{strategy}_job" for strategy in STRATEGIES}
    openapi = client.get(f"{orchestration_url}/api-docs/openapi.json").json()
    variants = openapi["components"]["schemas"]["TaskRequest"]["oneOf"]
    required = {
        variant["properties"]["name"]["enum"][0]: "idempotency_key" in variant["required"]
        for variant in variants
        if variant["properties"]["namespace"]["enum"] == [NAMESPACE]
    }
    assert required == {
        "strict_job": False,
        "always_unique_job": False,
        "caller_provided_job": True,
    }


@pytest.mark.parametrize(
    ("namespace", "name", "context"),
    [
        ("load_testing", "fan_out", {"width": 2}),  # built-in, strict by default
        (NAMESPACE, "strict_job", {"item": 1}),  # declares `identity_strategy: strict`
    ],
)
def test_the_same_request_twice_is_refused_under_strict_identity(
    client: httpx.Client, orchestration_url: str, namespace: str, name: str, context: Any
) -> None:
    body = task_request(namespace, name, context)
    del body["idempotency_key"]
    first = client.post(f"{orchestration_url}/v1/tasks", json=body)
    assert first.status_code == 201, first.text
    existing = first.json()["task_uuid"]

    # The same request again, and the same named task and context sent by someone else at
    # another time: strict identity is namespace/name/version and the context, nothing else.
    again = client.post(f"{orchestration_url}/v1/tasks", json=body)
    elsewhere = {**body, "correlation_id": task_request(namespace, name, {})["correlation_id"]}
    elsewhere |= {"requested_at": "2027-06-01T12:00:00Z", "initiator": "someone else"}
    for response in (again, client.post(f"{orchestration_url}/v1/tasks", json=elsewhere)):
        message = api_error(response, 409, "Conflict", "duplicate_task")
        assert message.startswith(f"a task with the same identity already exists: {existing} ")
        assert message.endswith("send an idempotency_key to get it back instead")
    assert task_uuids(client, orchestration_url) == [existing]

    # another context is another identity
    other = {**body, "context": {**context, "extra": True}}
    assert client.post(f"{orchestration_url}/v1/tasks", json=other).status_code == 201
    assert len(task_uuids(client, orchestration_url)) == 2


def _status_for_a_known_key(client: httpx.Client, url: str) -> int:
    """The status the served OpenAPI document gives a create that repeats a known key."""
    document = client.get(f"{url}/api-docs/openapi.json").json()
    responses = document["paths"]["/v1/tasks"]["post"]["responses"]
    statuses = [int(code) for code, r in responses.items() if "idempotency_key" in r["description"]]
    assert len(statuses) == 1, responses
    return statuses[0]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_same_idempotency_key_twice_answers_the_same_task(
    client: httpx.Client, orchestration_url: str, strategy: str
) -> None:
    expected = _status_for_a_known_key(client, orchestration_url)
    assert expected == 201  # docs/services.md: "answers 201 with the task the first one created"
    body = request(strategy, key=f"key-{strategy}")
    first = client.post(f"{orchestration_url}/v1/tasks", json=body)
    assert first.status_code == 201, first.text
    second = client.post(f"{orchestration_url}/v1/tasks", json=body)
    assert second.status_code == expected, second.text
    created, repeated = first.json(), second.json()
    assert repeated["task_uuid"] == created["task_uuid"]
    assert repeated["idempotency_key"] == created["idempotency_key"] == f"key-{strategy}"
    assert repeated["correlation_id"] == created["correlation_id"]
    assert [s["workflow_step_uuid"] for s in repeated["steps"]] == [
        s["workflow_step_uuid"] for s in created["steps"]
    ]
    assert task_uuids(client, orchestration_url) == [created["task_uuid"]]
    assert metric_value(client, orchestration_url, "tasker_tasks_created_total") == 1


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_different_keys_with_the_same_context_make_two_tasks(
    client: httpx.Client, orchestration_url: str, strategy: str
) -> None:
    answers = [
        client.post(f"{orchestration_url}/v1/tasks", json=request(strategy, key=key))
        for key in ("first-key", "second-key")
    ]
    assert [answer.status_code for answer in answers] == [201, 201], [a.text for a in answers]
    created = [answer.json()["task_uuid"] for answer in answers]
    assert created[0] != created[1]
    assert sorted(task_uuids(client, orchestration_url)) == sorted(created)


def test_always_unique_makes_a_task_per_identical_request(
    client: httpx.Client, orchestration_url: str
) -> None:
    body = request("always_unique")
    answers = [client.post(f"{orchestration_url}/v1/tasks", json=body) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [201] * 3, [a.text for a in answers]
    created = {answer.json()["task_uuid"] for answer in answers}
    assert len(created) == 3
    assert set(task_uuids(client, orchestration_url)) == created


@pytest.mark.parametrize("key", ["absent", None], ids=["absent", "null"])
def test_caller_provided_without_a_key_is_refused_naming_idempotency_key(
    client: httpx.Client, orchestration_url: str, key: str | None
) -> None:
    body = request("caller_provided")
    if key is None:
        body["idempotency_key"] = None
    message = api_error(
        client.post(f"{orchestration_url}/v1/tasks", json=body), 400, "BadRequest", "invalid_field"
    )
    assert message == (
        "field 'idempotency_key' is required: expected a string (the template's identity"
        " strategy is caller_provided)"
    )
    assert task_uuids(client, orchestration_url) == []
    keyed = client.post(f"{orchestration_url}/v1/tasks", json=request("caller_provided", "k-1"))
    assert keyed.status_code == 201, keyed.text
    assert task_uuids(client, orchestration_url) == [keyed.json()["task_uuid"]]


async def _send_each_key_to_both(urls: list[str], keys: list[str]) -> list[list[httpx.Response]]:
    """Every key's request to every instance, all in flight at once; answers per key."""
    bodies = {key: request("strict", key=key) for key in keys}
    limits = httpx.Limits(max_connections=len(keys) * len(urls))
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        answers = await asyncio.gather(
            *(http.post(f"{url}/v1/tasks", json=bodies[key]) for key in keys for url in urls)
        )
    return [list(answers[i * len(urls) : (i + 1) * len(urls)]) for i in range(len(keys))]


def test_one_key_sent_to_two_instances_at_once_makes_one_task(
    services: ServiceFactory, database_url: str, template_env: dict[str, str]
) -> None:
    urls = [
        services.orchestration(f"orchestration-{n}", database_url, **template_env).url
        for n in (1, 2)
    ]
    keys = [f"race-{n}" for n in range(30)]

    answers = asyncio.run(_send_each_key_to_both(urls, keys))

    named: dict[str, str] = {}
    for key, pair in zip(keys, answers, strict=True):
        assert [answer.status_code for answer in pair] == [201, 201], [a.text for a in pair]
        uuids = {answer.json()["task_uuid"] for answer in pair}
        assert len(uuids) == 1, f"{key}: the instances answered different tasks {uuids}"
        named[key] = uuids.pop()
    stored = query(database_url, "SELECT idempotency_key, task_uuid FROM tasks")
    assert sorted(stored) == sorted(named.items()), "a key made more (or fewer) than one task"
    with httpx.Client(timeout=10) as client:
        assert sorted(task_uuids(client, urls[1])) == sorted(named.values())
        created = [metric_value(client, url, "tasker_tasks_created_total") for url in urls]
    assert sum(created) == len(keys), f"tasks created per instance: {created}"


@pytest.mark.slow
def test_a_create_whose_instance_died_before_answering_is_answered_elsewhere(
    services: ServiceFactory, database_url: str, template_env: dict[str, str]
) -> None:
    """`exit_after_create`: the instance commits the task, then SIGKILLs itself."""
    dying = services.orchestration(
        "orchestration-1", database_url, TASKER_FAULTS="exit_after_create", **template_env
    )
    survivor = services.orchestration("orchestration-2", database_url, **template_env)
    body = request("strict", key="sent-twice")
    with httpx.Client(timeout=10) as client:
        with pytest.raises(httpx.TransportError):
            client.post(f"{dying.url}/v1/tasks", json=body)
        assert dying.wait(10) == -signal.SIGKILL
        stored = query(
            database_url, "SELECT task_uuid FROM tasks WHERE idempotency_key = ?", ("sent-twice",)
        )
        assert len(stored) == 1, "the dying instance did not commit the task before it died"
        retried = client.post(f"{survivor.url}/v1/tasks", json=body)
        assert retried.status_code == 201, retried.text
        assert retried.json()["task_uuid"] == stored[0][0]
        assert task_uuids(client, survivor.url) == [stored[0][0]]
