"""pytest plugin: a session cluster (managed or external), client fixtures, instance markers,
async tests on one session event loop, and instance logs attached to failed tests' reports."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Coroutine, Generator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from tasker_cluster.testing.log_window import LogWindow
from tasker_cluster.testing.plugin_options import (
    PluginSettings,
    add_options,
    check_external_target,
    read_settings,
)
from tasker_cluster.testing.plugin_session import PluginSession

if TYPE_CHECKING:
    from tasker_cluster.client.client import OrchestrationCluster
    from tasker_cluster.testing.manager import MultiInstanceTestManager

T = TypeVar("T")
CLUSTER_FIXTURES = frozenset({"tasker_cluster", "orchestration_cluster"})
LOG_SECTION = "tasker cluster logs"
_SESSION = pytest.StashKey[PluginSession]()
_WINDOW = pytest.StashKey["LogWindow | None"]()
_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "multi_instance: needs two or more orchestration instances (skipped otherwise)",
    )
    config.addinivalue_line(
        "markers",
        "single_instance: needs exactly one orchestration instance (skipped otherwise)",
    )
    settings = read_settings(config)
    check_external_target(settings, os.environ)
    config.stash[_SESSION] = PluginSession(settings)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()


def _session(config: pytest.Config) -> PluginSession:
    return config.stash[_SESSION]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [
        i
        for i in items
        if i.get_closest_marker("multi_instance") or i.get_closest_marker("single_instance")
    ]
    if not marked:
        return
    session = _session(config)
    count = session.orchestration_count()
    if count is None:
        return
    external = session.settings.mode == "external"
    for item in marked:
        if item.get_closest_marker("multi_instance") and count < 2:
            fix = "attach to a larger cluster" if external else "run with --tasker-orchestration=2"
            reason = f"multi_instance test: the cluster has {count} orchestration instance; {fix}"
            item.add_marker(pytest.mark.skip(reason=reason))
        elif item.get_closest_marker("single_instance") and count != 1:
            fix = (
                "attach to a one-instance cluster"
                if external
                else "run with --tasker-orchestration=1"
            )
            reason = f"single_instance test: the cluster has {count} orchestration instances; {fix}"
            item.add_marker(pytest.mark.skip(reason=reason))


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
    """Run a coroutine on the session's event loop (where async tests run) from sync code."""
    return _session(pytestconfig).run


def _runs_on_other_plugin(item: pytest.Function) -> bool:
    markers = {marker.name for marker in item.iter_markers()}
    return bool(markers & {"asyncio", "anyio", "trio"}) or "anyio_backend" in item.fixturenames


@pytest.hookimpl
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests that no other async plugin claims on the session's event loop."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function) or _runs_on_other_plugin(pyfuncitem):
        return None
    names = inspect.signature(function).parameters
    arguments = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}
    _session(pyfuncitem.config).run(function(**arguments))
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if not CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return
    logs_dir = _session(item.config).logs_dir()
    item.stash[_WINDOW] = LogWindow.open(logs_dir) if logs_dir else None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """After a failed test, bring the session's cluster back to full strength."""
    session = _session(item.config)
    if item.stash.get(_FAILED, False) and session.manager is not None:
        started = session.run(session.manager.heal())
        if started:
            item.add_report_section("teardown", "tasker cluster", f"restarted: {started}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.failed:
        item.stash[_FAILED] = True
    if report.failed and _WINDOW in item.stash:
        section = _failed_test_logs(item)
        if section:
            report.sections.append((f"{LOG_SECTION} ({report.when})", section))
    return report


def _failed_test_logs(item: pytest.Item) -> str:
    session = _session(item.config)
    window = item.stash[_WINDOW]
    if window is None:
        logs_dir = session.logs_dir()
        if logs_dir is None:
            return ""
        window = LogWindow(logs_dir, {})
    return window.read(session.settings.log_lines) or "(no instance wrote a log line)"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    kept = _session(config).kept_dir
    if kept is not None:
        terminalreporter.write_line(f"tasker cluster state and logs kept in {kept}")
