"""The pytest plugin, exercised in inner pytest runs (`pytester`)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .fake_processes import StartFakes, is_running, record_as_instance

pytest_plugins = ["pytester"]

SETTINGS_PROBE = """
def test_settings(tasker_settings):
    s = tasker_settings
    print("SETTINGS", s.mode, s.orchestration, s.workers, s.db, sorted(s.env.items()))
"""


@pytest.fixture(autouse=True)
def _no_cluster_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TASKER_TEST_ORCHESTRATION_URLS", "TASKER_TEST_WORKER_URLS", "TASKER_CLUSTER_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_options_are_parsed_into_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SETTINGS_PROBE)
    result = pytester.runpytest(
        "-s",
        "--tasker-orchestration=3",
        "--tasker-workers=1",
        "--tasker-db=postgres",
        "--tasker-env",
        "TASKER_FAULTS=no_claim_guard",
        "--tasker-env=EXTRA=a=b",
    )
    result.assert_outcomes(passed=1)
    expected = (
        "SETTINGS managed 3 1 postgres [('EXTRA', 'a=b'), ('TASKER_FAULTS', 'no_claim_guard')]"
    )
    assert expected in result.stdout.str()


def test_ini_keys_are_read_and_options_win(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        tasker_orchestration = 4
        tasker_workers = 3
        tasker_env =
            TASKER_POLL_INTERVAL_MS=20
        """
    )
    pytester.makepyfile(SETTINGS_PROBE)
    result = pytester.runpytest("-s", "--tasker-workers=2")
    result.assert_outcomes(passed=1)
    assert "SETTINGS managed 4 2 sqlite [('TASKER_POLL_INTERVAL_MS', '20')]" in result.stdout.str()


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("--tasker-orchestration=0", "--tasker-orchestration='0': expected a whole number >= 1"),
        ("--tasker-workers=many", "--tasker-workers='many': expected a whole number >= 0"),
        ("--tasker-env=NOEQUALS", "--tasker-env 'NOEQUALS': expected KEY=VALUE"),
    ],
)
def test_bad_option_values_are_usage_errors(
    pytester: pytest.Pytester, argument: str, message: str
) -> None:
    pytester.makepyfile(SETTINGS_PROBE)
    result = pytester.runpytest(argument)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_external_mode_without_a_cluster_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SETTINGS_PROBE)
    result = pytester.runpytest("--tasker-cluster=external")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --tasker-cluster=external needs a running cluster to attach to: set "
            "TASKER_TEST_ORCHESTRATION_URLS to its comma-separated orchestration URLs*"
            "or TASKER_CLUSTER_DIR (or --tasker-cluster-dir) to the directory of a cluster "
            "started with `invoke cluster.start`"
        ]
    )


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.multi_instance: needs two or more orchestration instances*",
            "@pytest.mark.single_instance: needs exactly one orchestration instance*",
        ]
    )


def test_instance_markers_skip_by_orchestration_count(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKER_TEST_ORCHESTRATION_URLS", "http://127.0.0.1:9")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.multi_instance
        def test_needs_many():
            pass

        @pytest.mark.single_instance
        def test_needs_one():
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "--tasker-cluster=external", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*multi_instance test: the cluster has 1 orchestration instance; "
            "attach to a larger cluster"
        ]
    )
    managed = pytester.runpytest("--strict-markers", "--tasker-orchestration=3", "-rs")
    managed.assert_outcomes(passed=1, skipped=1)
    managed.stdout.fnmatch_lines(
        [
            "SKIPPED*single_instance test: the cluster has 3 orchestration instances; "
            "run with --tasker-orchestration=1"
        ]
    )


def test_async_tests_run_on_one_session_loop(pytester: pytest.Pytester) -> None:
    """The plugin's async tests (those using its fixtures) share one loop."""
    pytester.makepyfile(
        """
        import asyncio

        LOOPS = []

        async def test_first(tasker_settings):
            LOOPS.append(asyncio.get_running_loop())

        async def test_second(tasker_run):
            LOOPS.append(asyncio.get_running_loop())
            assert LOOPS[0] is LOOPS[1]

        def test_sync_helper(tasker_run):
            async def loop():
                return asyncio.get_running_loop()
            assert tasker_run(loop()) is LOOPS[0]
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


FAILING_AND_PASSING = """
def append(path, line):
    with path.open("a") as handle:
        handle.write(line + "\\n")

def test_passes(tasker_cluster):
    append(tasker_cluster.logs_dir / "orchestration-1.log", "[orchestration-1] INFO quiet test")

def test_fails(tasker_cluster):
    logs = tasker_cluster.logs_dir
    append(logs / "orchestration-1.log", "[orchestration-1] INFO boom happened")
    append(logs / "orchestration-2.log", "[orchestration-2] WARNING second instance")
    assert False, "the invariant broke"
"""


@pytest.mark.slow
def test_a_failed_test_report_gets_the_instance_logs_of_its_time_window(
    pytester: pytest.Pytester, fake_instances: StartFakes, tmp_path: Path
) -> None:
    cluster_dir = tmp_path / "cluster"
    for number, fake in enumerate(fake_instances(2), start=1):
        record_as_instance(cluster_dir, fake, "orchestration", number)
    (cluster_dir / ".logs").mkdir()
    (cluster_dir / ".logs" / "orchestration-1.log").write_text("[orchestration-1] INFO old\n")
    pytester.makepyfile(FAILING_AND_PASSING)
    result = pytester.runpytest(
        "--tasker-cluster=external", f"--tasker-cluster-dir={cluster_dir}", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    section = output[output.index("tasker cluster logs (call)") :]
    assert section.splitlines()[1:3] == [
        "orchestration-1 | [orchestration-1] INFO boom happened",
        "orchestration-2 | [orchestration-2] WARNING second instance",
    ]
    assert "INFO old" not in output
    assert "quiet test" not in output


MANAGED_SESSION = """
from tasker_cluster.testing import TaskRequest

async def test_creates_a_task(tasker_cluster, orchestration_cluster):
    created = await orchestration_cluster.create_task(TaskRequest.sleep(0))
    assert created.step_count == 1

async def test_fails_after_a_task(tasker_cluster):
    assert tasker_cluster.orchestration_ids == ("orchestration-1",)
    created = await tasker_cluster.cluster.create_task(TaskRequest.mathematical_sequence(2))
    await tasker_cluster.wait_for_task_completion(created.task_uuid)
    tasker_cluster.kill_instance("worker-python-1")
    assert False, f"deliberately, after task {created.task_uuid}"

async def test_the_failed_test_left_a_whole_cluster(tasker_cluster):
    assert (await tasker_cluster.cluster.worker(0).health()).worker_id == "worker-python-1"
    print("PIDS", *[record.pid for record in tasker_cluster.faults().records()])
"""


@pytest.mark.slow
def test_managed_session_reports_logs_keeps_state_and_stops_everything(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(MANAGED_SESSION)
    result = pytester.runpytest("-s", "--tasker-orchestration=1", "--tasker-workers=1")
    output = result.stdout.str()
    kept = Path(output.split("tasker cluster state and logs kept in ")[1].split()[0])
    try:
        result.assert_outcomes(passed=2, failed=1)
        task_uuid = re.findall(r"deliberately, after task ([0-9a-f-]{36})", output)[0]
        section = output[output.index("tasker cluster logs (call)") :].splitlines()
        assert any(line.startswith("orchestration-1 | ") and task_uuid in line for line in section)
        assert (kept / ".logs" / "worker-python-1.log").is_file()
        assert not list((kept / ".pids").glob("*.pid")), "an instance record was left behind"
        pids = [int(pid) for pid in re.findall(r"PIDS ([\d ]+)", output)[0].split()]
        assert len(pids) == 2
        running = [pid for pid in pids if is_running(pid)]
        assert not running, f"instance processes still running: {running}"
    finally:
        shutil.rmtree(kept)
