"""The printed report: readable, complete, and without colour codes off a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from tasker_cluster.cli.load import failure_message
from tasker_cluster.cli.load_render import LiveProgress, render_report
from tasker_cluster.load.invariants import ALL_INVARIANTS, Violation
from tasker_cluster.load.report import (
    Cost,
    FaultRecord,
    InvariantResult,
    LoadReport,
    OrchestrationStats,
    WorkerStats,
)
from tasker_cluster.load.spec import LoadSpec
from tasker_cluster.load.stats import LatencySummary
from tasker_cluster.load.tracking import Progress

DOUBLE = Violation(
    "steps_claimed_more_than_once",
    "11111111-1111-1111-1111-111111111111",
    "22222222-2222-2222-2222-222222222222",
    "step fan_out_3 claimed 2 times by worker-python-1, worker-python-2",
)


def report(broken: bool) -> LoadReport:
    invariants = tuple(
        InvariantResult(i.name, i.description, 2, (DOUBLE,))
        if broken and i.name == DOUBLE.invariant
        else InvariantResult(i.name, i.description, 0)
        for i in ALL_INVARIANTS
    )
    return LoadReport(
        spec=LoadSpec(tasks=100, width=10, seed=5),
        target="cluster /tmp/c",
        started_at="2026-01-01T00:00:00.000+00:00",
        elapsed_s=12.5,
        timed_out=False,
        tasks_created=100,
        create_errors=0,
        create_error_examples=(),
        tasks_completed=100,
        tasks_failed=0,
        tasks_unfinished=0,
        steps_completed=1100,
        tasks_per_s=8.5,
        steps_per_s=93.5,
        latency=LatencySummary(100, 850.0, 1900.0, 2500.0, 2600.0),
        orchestration=(
            OrchestrationStats("orchestration-1", "http://127.0.0.1:41001", 811, 50, 48),
            OrchestrationStats("orchestration-2", "http://127.0.0.1:41002", 802, 50, 52),
        ),
        workers=(WorkerStats("worker-python-1", 560), WorkerStats("worker-python-2", 540)),
        invariants=invariants,
        faults=(FaultRecord(5.0, "kill", "worker-python", "worker-python-2", 6.2),),
        follow_cost=Cost(412, 12.4),
        verify_cost=Cost(1200, 3.1),
    )


def rendered(item: LoadReport) -> str:
    buffer = io.StringIO()
    render_report(item, Console(file=buffer, width=200))
    return buffer.getvalue()


def test_a_clean_report() -> None:
    text = rendered(report(broken=False))
    assert text.startswith("load run OK: 100 x fan_out(width=10) against cluster /tmp/c, seed 5\n")
    for expected in (
        "850 ms / 1,900 ms",
        "2,500 ms / 2,600 ms",
        "orchestration-2",
        "worker-python-1",
        "560",
        "1,200 req 3.1 s",
        "5.0 s",
        "6.2 s",
    ):
        assert expected in text
    assert "\x1b[" not in text
    assert report(broken=False).ok


def test_a_broken_report_names_the_invariant_and_an_example() -> None:
    broken = report(broken=True)
    text = rendered(broken)
    assert text.startswith("load run FAILED")
    assert "2 broken" in text
    assert "step fan_out_3 claimed 2 times by worker-python-1, worker-python-2" in text
    assert not broken.ok
    assert failure_message(broken) == "load.run: broken: steps_claimed_more_than_once (2)"
    assert LoadReport.from_dict(broken.to_dict()) == broken


def test_progress_off_a_terminal_is_a_line_per_phase_and_period() -> None:
    buffer = io.StringIO()
    with LiveProgress(Console(file=buffer, width=200), total=10) as live:
        live.update(Progress("creating", 10, 5, 3, 0, 0, 1.0, 3.0, 0))
        live.update(Progress("creating", 10, 6, 3, 0, 0, 1.1, 3.0, 0))  # within the period
        live.update(Progress("verifying", 10, 10, 10, 0, 0, 2.0, 5.0, 1))
    assert buffer.getvalue().splitlines() == [
        "load.run creating: created 5/10, complete 3, failed 0, 3.0 tasks/s, faults 0, 1 s",
        "load.run verifying: created 10/10, complete 10, failed 0, 5.0 tasks/s, faults 1, 2 s",
    ]
    assert "\x1b[" not in buffer.getvalue()


def test_a_progress_line_off_a_terminal_is_never_wrapped() -> None:
    buffer = io.StringIO()
    with LiveProgress(Console(file=buffer, width=40), total=20000) as live:
        live.update(Progress("verifying", 20000, 20000, 19999, 1, 0, 123.0, 162.6, 12))
    assert buffer.getvalue().splitlines() == [
        "load.run verifying: created 20000/20000, complete 19999, failed 1, 162.6 tasks/s, "
        "faults 12, 123 s"
    ]
