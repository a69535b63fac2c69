"""The plugin against a cluster with auth on (inner pytest runs, `pytester`): a managed
cluster's own key is sent, `--tasker-api-key` / the ini key / TASKER_TEST_API_KEY replace it,
and a refused request names what was sent, never the secret."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

API_KEY = "plugin-key-7"
AUTH_OPTIONS = ("--tasker-env=TASKER_AUTH_ENABLED=true", f"--tasker-env=TASKER_API_KEY={API_KEY}")
CREATES_A_TASK = """
from tasker_cluster.testing import TaskRequest

async def test_creates_a_task(tasker_cluster):
    created = await tasker_cluster.cluster.create_task(TaskRequest.sleep(0))
    await tasker_cluster.wait_for_task_completion(created.task_uuid)
"""


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TASKER_TEST_ORCHESTRATION_URLS",
        "TASKER_TEST_WORKER_URLS",
        "TASKER_CLUSTER_DIR",
        "TASKER_TEST_API_KEY",
        "TASKER_TEST_JWT",
    ):
        monkeypatch.delenv(name, raising=False)


def _run(pytester: pytest.Pytester, *options: str) -> pytest.RunResult:
    pytester.makepyfile(CREATES_A_TASK)
    return pytester.runpytest_subprocess(
        "--tasker-orchestration=1", "--tasker-workers=1", *AUTH_OPTIONS, *options
    )


@pytest.mark.slow
def test_a_managed_cluster_with_auth_on_gets_its_own_key(pytester: pytest.Pytester) -> None:
    result = _run(pytester)
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_a_wrong_key_is_refused_and_named_without_the_secret(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--tasker-api-key=not-the-key")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "401" in output
    assert "invalid API key" in output
    assert "the client sent X-API-Key; check the key or token" in output
    assert "not-the-key" not in output.replace("--tasker-api-key=not-the-key", "")


@pytest.mark.slow
def test_the_ini_key_wins_over_the_environment_which_wins_over_the_clusters_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKER_TEST_API_KEY", "from-the-environment")
    refused = _run(pytester)
    refused.assert_outcomes(failed=1)
    assert "invalid API key" in refused.stdout.str()
    pytester.makeini(f"[pytest]\ntasker_api_key = {API_KEY}\n")
    _run(pytester).assert_outcomes(passed=1)


def test_the_header_says_a_key_is_sent_not_which(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--tasker-api-key=hidden-value", "--tasker-orchestration=1")
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert "sending API key" in output
    assert "hidden-value" not in output


def test_a_key_that_cannot_be_a_header_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--tasker-api-key=two words")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--tasker-api-key is '***': the credential contains whitespace*"])
