"""The plugin stays in its lane: other projects' tests, collection-time skips, help, header,
typed ini keys and the fixture factories, in inner pytest runs (`pytester`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .fake_processes import StartFakes

pytest_plugins = ["pytester"]

SKIP_MARKERS_AT_COLLECTION = """
def pytest_collection_finish(session):
    for item in session.items:
        reasons = [mark.kwargs.get("reason") for mark in item.iter_markers("skip")]
        print("COLLECTED", item.name, reasons)
"""


@pytest.fixture(autouse=True)
def _no_cluster_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TASKER_TEST_ORCHESTRATION_URLS", "TASKER_TEST_WORKER_URLS", "TASKER_CLUSTER_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_an_unrelated_projects_async_tests_are_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        async def test_bare_coroutine():
            pass

        @pytest.mark.anyio
        async def test_on_anyio(anyio_backend):
            import sniffio
            assert sniffio.current_async_library() == anyio_backend

        def test_sync():
            pass
        """
    )
    with_plugin = pytester.runpytest("-p", "no:randomly")
    without_plugin = pytester.runpytest("-p", "no:randomly", "-p", "no:tasker_cluster")
    assert with_plugin.parseoutcomes() == without_plugin.parseoutcomes()
    # pytest's own verdict on an async test no plugin claims, not ours
    with_plugin.stdout.fnmatch_lines(["*async def functions are not natively supported*"])
    assert "passed" in with_plugin.parseoutcomes()
    assert not [line for line in with_plugin.outlines if line.startswith("tasker cluster:")]


def test_fault_injection_tests_are_skipped_at_collection_when_attached_by_url(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nothing listens on port 9: a cluster start or health wait would fail the test instead
    monkeypatch.setenv("TASKER_TEST_ORCHESTRATION_URLS", "http://127.0.0.1:9")
    pytester.makeconftest(
        SKIP_MARKERS_AT_COLLECTION
        + """
from tasker_cluster.testing.plugin_factories import tasker_cluster_noproc

staging = tasker_cluster_noproc(orchestration_urls=["http://127.0.0.1:9"])
"""
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.fault_injection
        async def test_kills_an_instance(tasker_cluster):
            raise AssertionError("must not run")

        @pytest.mark.fault_injection
        def test_kills_on_staging(staging):
            raise AssertionError("must not run")
        """
    )
    result = pytester.runpytest(
        "-s", "-rs", "--strict-markers", "--tasker-cluster=external", "--tasker-startup-timeout=1"
    )
    result.assert_outcomes(skipped=2)
    reason = (
        "fault_injection test: {} is attached by URL ({}), so its processes are unknown; "
        "attach through its directory (TASKER_CLUSTER_DIR or --tasker-cluster-dir) or use a "
        "managed cluster"
    )
    default = reason.format("the cluster", "TASKER_TEST_ORCHESTRATION_URLS")
    staging = reason.format(
        "the cluster of fixture 'staging'", "tasker_cluster_noproc(orchestration_urls=...)"
    )
    result.stdout.fnmatch_lines(
        [
            f"COLLECTED test_kills_an_instance [[]'{default}'[]]",
            f'COLLECTED test_kills_on_staging [[]"{staging}"[]]',
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines([f"SKIPPED*{default}", f"SKIPPED*{staging}"], consecutive=False)


def test_fault_injection_tests_of_a_managed_cluster_are_kept(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SKIP_MARKERS_AT_COLLECTION)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.fault_injection
        def test_kills(tasker_cluster):
            pass
        """
    )
    result = pytester.runpytest("-s", "--collect-only", "--strict-markers")
    result.stdout.fnmatch_lines(["COLLECTED test_kills []"])


def test_factories_declared_twice_get_their_own_instance_counts(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        SKIP_MARKERS_AT_COLLECTION
        + """
from tasker_cluster.testing.plugin_factories import tasker_cluster_proc

small = tasker_cluster_proc(orchestration=1, workers=0)
large = tasker_cluster_proc(orchestration=3, workers=1, scope="module")
"""
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.multi_instance
        def test_races_on_small(small):
            pass

        @pytest.mark.multi_instance
        def test_races_on_large(large):
            pass

        @pytest.mark.single_instance
        def test_alone_on_large(large):
            pass
        """
    )
    result = pytester.runpytest("-s", "--collect-only", "--strict-markers")
    result.stdout.fnmatch_lines(
        [
            'COLLECTED test_races_on_small [[]"multi_instance test: the cluster of fixture '
            "'small' has 1 orchestration instance; run with --tasker-orchestration=2\"[]]",
            "COLLECTED test_races_on_large []",
            'COLLECTED test_alone_on_large [[]"single_instance test: the cluster of fixture '
            "'large' has 3 orchestration instances; run with --tasker-orchestration=1\"[]]",
        ]
    )


def test_help_shows_metavars_and_typed_ini_keys(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*--tasker-cluster=MODE*",
            "*--tasker-orchestration=N*",
            "*--tasker-workers=M*",
            "*--tasker-db=DB*",
            "*--tasker-env-file=PATH*",
            "*--tasker-ports=PORTS*",
            "*--tasker-cluster-dir=DIR*",
            "*--tasker-startup-timeout=SECONDS*",
            "*--tasker-log-lines=N*",
            "*--tasker-env=KEY=VALUE*",
        ],
        consecutive=False,
    )
    assert "=TASKER_" not in output
    result.stdout.fnmatch_lines(
        [
            "*tasker_orchestration (int):*",
            "*tasker_startup_timeout (float):*",
            "*tasker_env (linelist):*",
        ],
        consecutive=False,
    )


def test_typed_ini_keys_are_parsed_and_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_settings(tasker_settings):
            print("SETTINGS", tasker_settings.orchestration, tasker_settings.startup_timeout)
        """
    )
    pytester.makeini("[pytest]\ntasker_orchestration = 3\ntasker_startup_timeout = 2.5\n")
    pytester.runpytest("-s").stdout.fnmatch_lines(["*SETTINGS 3 2.5"])
    pytester.makeini("[pytest]\ntasker_orchestration = three\n")
    bad = pytester.runpytest()
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "three" in bad.stderr.str()  # named by pytest (>= 9.2) or by the plugin


def test_the_report_header_names_the_cluster_under_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    managed = pytester.runpytest(
        "--tasker-orchestration=3", "--tasker-db=postgres", "--tasker-env=TASKER_FAULTS=x"
    )
    managed.stdout.fnmatch_lines(
        [
            "tasker cluster: managed, 3 orchestration + 2 worker instance(s), postgres, "
            "free ports, state in a temporary directory, env TASKER_FAULTS=x"
        ]
    )
    monkeypatch.setenv("TASKER_TEST_ORCHESTRATION_URLS", "http://127.0.0.1:9,http://127.0.0.1:10")
    external = pytester.runpytest("--tasker-cluster=external")
    external.stdout.fnmatch_lines(
        [
            "tasker cluster: external, attached by URL "
            "http://127.0.0.1:9,http://127.0.0.1:10 (no fault injection)"
        ]
    )


@pytest.mark.slow
def test_factory_clusters_start_side_by_side_and_attach(
    pytester: pytest.Pytester, fake_instances: StartFakes
) -> None:
    fakes = fake_instances(2)
    pytester.makeconftest(
        f"""
from tasker_cluster.testing.plugin_factories import tasker_cluster_noproc, tasker_cluster_proc

one = tasker_cluster_proc(orchestration=1, workers=0)
two = tasker_cluster_proc(orchestration=2, workers=0, scope="module")
fakes = tasker_cluster_noproc(orchestration_urls=[{fakes[0].url!r}, {fakes[1].url!r}])
"""
    )
    pytester.makepyfile(
        """
        async def test_all_three(one, two, fakes):
            assert (one.orchestration_count, two.orchestration_count) == (1, 2)
            assert one.cluster_dir != two.cluster_dir
            assert one.can_inject_faults and not fakes.can_inject_faults
            assert (await two.cluster.client(1).health()).status == "healthy"
            assert (await fakes.cluster.client(1).health()).status == "healthy"
            print("DIRS", one.cluster_dir, two.cluster_dir)
        """
    )
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    directories = re.findall(r"DIRS (\S+) (\S+)", result.stdout.str())[0]
    for directory in directories:
        assert not Path(directory).exists(), f"{directory} was left behind after a passing run"
