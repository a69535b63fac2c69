"""Tables and summaries as the user sees them (no colour: not a terminal)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest

from tasker_cluster.cli.colour import console_for
from tasker_cluster.cli.printer import status_lines, stop_lines, to_json, wants_colour
from tasker_cluster.cluster.status import InstanceState, InstanceStatus
from tasker_cluster.process.stop import StopOutcome, StopResult


def row(instance_id: str, state: InstanceState, **figures: Any) -> InstanceStatus:
    bare = InstanceStatus(
        instance_id, "orchestration", state, None, 8080, "http://127.0.0.1:8080",
        None, None, None, None, "",
    )  # fmt: skip
    return replace(bare, **figures)


def test_status_table_and_summary() -> None:
    rows = [
        row("orchestration-1", InstanceState.HEALTHY, pid=41, uptime_seconds=3725.0,
            cpu_percent=2.5, rss_bytes=52_428_800, health_latency_ms=3.4),
        row("orchestration-2", InstanceState.UNHEALTHY, pid=42, uptime_seconds=75.0,
            cpu_percent=0.0, rss_bytes=1536, health_latency_ms=9.0,
            detail="port answered as orchestration-7"),
        row("orchestration-3", InstanceState.CRASHED, detail="process 43 has exited; see its log"),
    ]  # fmt: skip

    assert status_lines(rows, colour=False) == [
        "INSTANCE         STATE      PID  PORT  UPTIME  CPU%  RSS       HEALTH  DETAIL",
        "orchestration-1  healthy    41   8080  1h02m   2.5   50.0 MiB  3 ms",
        "orchestration-2  unhealthy  42   8080  1m15s   0.0   1.5 KiB   9 ms    "
        "port answered as orchestration-7",
        "orchestration-3  crashed    -    8080  -       -     -         -       "
        "process 43 has exited; see its log",
        "3 instance(s): 1 healthy, 1 unhealthy, 1 crashed",
    ]
    assert json.loads(to_json(rows[:1]))[0]["state"] == "healthy"


def test_stop_results_and_summary() -> None:
    results = [
        StopResult("orchestration-1", "orchestration", StopOutcome.STOPPED, 41),
        StopResult("worker-python-1", "worker-python", StopOutcome.KILLED, 42),
        StopResult("worker-python-2", "worker-python", StopOutcome.NOT_RUNNING, None, "no record"),
    ]

    assert stop_lines(results, 2.04, colour=False) == [
        "INSTANCE         RESULT                PID  DETAIL",
        "orchestration-1  stopped               41",
        "worker-python-1  killed after timeout  42",
        "worker-python-2  not running           -    no record",
        "worker-python-1 needed SIGKILL (its log is empty)",
        "1 stopped, 1 killed after timeout, 1 not running in 2.0 s",
    ]
    killed = StopResult(
        "worker-python-1", "worker-python", StopOutcome.KILLED, 42, log_tail=("a", "b")
    )
    assert stop_lines([killed], 2.0, colour=False)[2:] == [
        "worker-python-1 needed SIGKILL; the last lines of its log:",
        "    | a",
        "    | b",
        "1 killed after timeout in 2.0 s",
    ]
    assert stop_lines([], 0.01, colour=False) == ["nothing to stop in 0.0 s"]


def test_colour_only_for_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    assert not wants_colour(io.StringIO())
    assert wants_colour(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_colour(Terminal())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert wants_colour(io.StringIO()), "FORCE_COLOR colours a pipe too"
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour(Terminal()), "NO_COLOR wins over everything"


def test_every_command_follows_the_one_policy_rich_consoles_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    forced = console_for(io.StringIO())
    assert forced.is_terminal and forced.color_system is not None
    monkeypatch.setenv("NO_COLOR", "1")
    plain = console_for(io.StringIO())
    assert plain.color_system is None and not plain.is_terminal
