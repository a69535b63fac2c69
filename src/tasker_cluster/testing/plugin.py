"""pytest plugin: session clusters (managed or external) and fixture factories for more, instance
markers, and instance logs attached to failed tests' reports.

It stays in its lane: only tests that use its fixtures or markers are touched. Their `async def`
bodies run on anyio's test runner (the plugin holds a lease on it for the session, so the
clusters' HTTP clients and the tests share one event loop); every other async test is left to
whichever plugin claims it, or to pytest.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Coroutine, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from tasker_cluster.testing.log_window import LogWindow
from tasker_cluster.testing.plugin_factories import cluster_spec
from tasker_cluster.testing.plugin_options import (
    PluginSettings,
    add_options,
    check_external_target,
    describe,
    is_configured,
    no_faults_reason,
    read_settings,
)
from tasker_cluster.testing.plugin_session import DEFAULT_CLUSTER, XDIST_WORKER_VAR, PluginSession

if TYPE_CHECKING:
    from tasker_cluster.client.client import OrchestrationCluster
    from tasker_cluster.testing.manager import MultiInstanceTestManager

T = TypeVar("T")
DEFAULT_FIXTURES = frozenset({"tasker_cluster", "orchestration_cluster"})
PLUGIN_FIXTURES = DEFAULT_FIXTURES | {"tasker_run", "tasker_settings"}
PLUGIN_MARKERS = frozenset({"multi_instance", "single_instance", "fault_injection"})
OTHER_ASYNC_MARKERS = frozenset({"asyncio", "anyio", "trio"})
LOG_SECTION = "tasker cluster logs"
KEPT_OUTPUT = "tasker_cluster_kept_dirs"  # xdist workeroutput key
_SESSION = pytest.StashKey[PluginSession]()
_WINDOWS = pytest.StashKey[dict[str, "LogWindow | None"]]()
_FAILED = pytest.StashKey[bool]()

MARKERS = (
    "multi_instance: needs two or more orchestration instances (skipped otherwise)",
    "single_instance: needs exactly one orchestration instance (skipped otherwise)",
    "fault_injection: kills, pauses or restarts instances; skipped at collection when the "
    "cluster is attached by URL",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    settings = read_settings(config)
    check_external_target(settings, os.environ)
    config.stash[_SESSION] = PluginSession(settings, os.environ.get(XDIST_WORKER_VAR) or None)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()


def plugin_session(config: pytest.Config) -> PluginSession:
    """The plugin's state for this pytest run (used by the fixture factories)."""
    return config.stash[_SESSION]


_session = plugin_session


def _xdist_workers(config: pytest.Config) -> int:
    if not config.pluginmanager.hasplugin("xdist"):
        return 0
    count = config.getoption("numprocesses", None)
    return count if isinstance(count, int) else 0


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the cluster under test, when this run configures the plugin at all."""
    if not is_configured(config):
        return []
    line = "tasker cluster: " + describe(_session(config).settings, os.environ)
    if _xdist_workers(config) and _session(config).settings.mode == "managed":
        line += "; one cluster per xdist worker"
    return [line]


def _cluster_settings(item: pytest.Item) -> dict[str, PluginSettings]:
    """The clusters a test uses, by fixture name: the session's and any factory-made ones."""
    session = _session(item.config)
    names = set(getattr(item, "fixturenames", ()))
    clusters: dict[str, PluginSettings] = {}
    if names & DEFAULT_FIXTURES:
        clusters[DEFAULT_CLUSTER] = session.settings
    info = getattr(item, "_fixtureinfo", None)
    definitions: dict[str, Any] = getattr(info, "name2fixturedefs", {}) or {}
    for name in names - DEFAULT_FIXTURES:
        chain = definitions.get(name) or ()
        spec = cluster_spec(chain[-1].func) if chain else None
        if spec is not None:
            clusters[name] = spec.resolve(session.settings, name)
    return clusters


def _in_lane(item: pytest.Item) -> bool:
    """Whether a test uses the plugin's fixtures or markers."""
    if PLUGIN_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if any(item.get_closest_marker(name) for name in PLUGIN_MARKERS):
        return True
    return bool(_cluster_settings(item))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, before any cluster starts, the tests the cluster they use cannot serve."""
    session = _session(config)
    for item in items:
        if not any(item.get_closest_marker(name) for name in PLUGIN_MARKERS):
            continue
        clusters = _cluster_settings(item) or {DEFAULT_CLUSTER: session.settings}
        for name, settings in clusters.items():
            reason = _skip_reason(item, session, name, settings)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
                break


def _skip_reason(
    item: pytest.Item, session: PluginSession, name: str, settings: PluginSettings
) -> str | None:
    label = "the cluster" if name == DEFAULT_CLUSTER else f"the cluster of fixture {name!r}"
    if item.get_closest_marker("fault_injection"):
        why = no_faults_reason(settings, os.environ)
        if why is not None:
            return f"fault_injection test: {why.replace('the cluster', label, 1)}"
    if not (
        item.get_closest_marker("multi_instance") or item.get_closest_marker("single_instance")
    ):
        return None
    count = session.orchestration_count(None if name == DEFAULT_CLUSTER else settings)
    if count is None:
        return None
    external = settings.mode == "external"
    if item.get_closest_marker("multi_instance") and count < 2:
        fix = "attach to a larger cluster" if external else "run with --tasker-orchestration=2"
        return f"multi_instance test: {label} has {count} orchestration instance; {fix}"
    if item.get_closest_marker("single_instance") and count != 1:
        fix = (
            "attach to a one-instance cluster" if external else "run with --tasker-orchestration=1"
        )
        return f"single_instance test: {label} has {count} orchestration instances; {fix}"
    return None


@pytest.fixture(scope="session")
def tasker_settings(pytestconfig: pytest.Config) -> PluginSettings:
    """The plugin's options as parsed for this session."""
    return _session(pytestconfig).settings


@pytest.fixture(scope="session")
def tasker_cluster(request: pytest.FixtureRequest) -> Iterator[MultiInstanceTestManager]:
    """The session's cluster manager: started (managed) or attached (external) once."""
    session = _session(request.config)
    manager = session.start_manager()
    yield manager
    session.stop_manager(keep_files=request.session.testsfailed > 0)


@pytest.fixture(scope="session")
def orchestration_cluster(tasker_cluster: MultiInstanceTestManager) -> OrchestrationCluster:
    """The client of the session cluster's orchestration instances (round robin)."""
    return tasker_cluster.cluster


@pytest.fixture(scope="session")
def tasker_run(pytestconfig: pytest.Config) -> Callable[[Coroutine[Any, Any, T]], T]:
    """Run a coroutine on the loop the clusters and async tests share, from sync code."""
    return _session(pytestconfig).run


def _runs_on_other_plugin(item: pytest.Function) -> bool:
    markers = {marker.name for marker in item.iter_markers()}
    return bool(markers & OTHER_ASYNC_MARKERS) or "anyio_backend" in item.fixturenames


@pytest.hookimpl
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run the `async def` tests that use this plugin (and no other async plugin) on anyio's
    runner; every other test is left alone."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function) or _runs_on_other_plugin(pyfuncitem):
        return None
    if not _in_lane(pyfuncitem):
        return None
    names = inspect.signature(function).parameters
    arguments = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}
    _session(pyfuncitem.config).run_test(function, arguments)
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    clusters = _cluster_settings(item)
    if not clusters:
        return
    session = _session(item.config)
    windows: dict[str, LogWindow | None] = {}
    for name, settings in clusters.items():
        logs_dir = session.logs_dir(name, settings)
        windows[name] = LogWindow.open(logs_dir) if logs_dir else None
    item.stash[_WINDOWS] = windows


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """After a failed test, bring the clusters it used back to full strength."""
    if not item.stash.get(_FAILED, False):
        return
    session = _session(item.config)
    for name in item.stash.get(_WINDOWS, {}):
        handle = session.clusters.get(name)
        if handle is None or handle.manager is None:
            continue
        started = session.run(handle.manager.heal())
        if started:
            label = "" if name == DEFAULT_CLUSTER else f" {name}"
            item.add_report_section("teardown", f"tasker cluster{label}", f"restarted: {started}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.failed:
        item.stash[_FAILED] = True
    if report.failed and _WINDOWS in item.stash:
        section = _failed_test_logs(item)
        if section:
            report.sections.append((f"{LOG_SECTION} ({report.when})", section))
    return report


def _failed_test_logs(item: pytest.Item) -> str:
    session = _session(item.config)
    windows = item.stash[_WINDOWS]
    blocks: list[str] = []
    for name, opened in windows.items():
        window = opened
        if window is None:
            logs_dir = session.logs_dir(name, _cluster_settings(item).get(name))
            if logs_dir is None:
                continue
            window = LogWindow(logs_dir, {})
        text = window.read(session.settings.log_lines) or "(no instance wrote a log line)"
        blocks.append(text if len(windows) == 1 else f"== {name} ==\n{text}")
    return "\n".join(blocks)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, hand the kept directories to the controller's summary."""
    output = getattr(session.config, "workeroutput", None)
    if isinstance(output, dict):
        output[KEPT_OUTPUT] = [str(path) for path in _session(session.config).kept_dirs]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: collect what each worker kept."""
    output = getattr(node, "workeroutput", None) or {}
    config: pytest.Config = node.config
    kept = _session(config).kept_dirs
    kept.extend(Path(path) for path in output.get(KEPT_OUTPUT, ()) if Path(path) not in kept)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for kept in _session(config).kept_dirs:
        terminalreporter.write_line(f"tasker cluster state and logs kept in {kept}")
