"""One pass over all processes for parent links; CPU use over a short window."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from tasker_cluster.process import sampling
from tasker_cluster.process.sampling import (
    PRECISE_WINDOW,
    CpuSample,
    children_by_parent,
    create_time,
    descendants,
)

BUSY = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass\n"
IDLE = "import time; time.sleep(30)"


@pytest.fixture
def children() -> Iterator[tuple[psutil.Process, psutil.Process]]:
    """A busy and an idle child of this process, killed afterwards."""
    started = [
        subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
        for code in (BUSY, IDLE)
    ]
    try:
        time.sleep(0.3)  # both past the interpreter's start-up
        yield psutil.Process(started[0].pid), psutil.Process(started[1].pid)
    finally:
        for process in started:
            process.kill()
            process.wait()


def test_every_process_is_listed_under_its_parent() -> None:
    found = children_by_parent()

    assert os.getpid() in found[os.getppid()]
    assert set(descendants(os.getppid(), found)) >= {os.getpid()}


def test_descendants_walks_the_whole_tree_nearest_first() -> None:
    tree = {1: [2, 3], 2: [4], 4: [5]}

    assert descendants(1, tree) == [2, 3, 4, 5]
    assert descendants(5, tree) == []


def test_a_busy_process_uses_a_cpu_and_an_idle_one_none(
    children: tuple[psutil.Process, psutil.Process],
) -> None:
    """Checked against psutil's clock ticks over the same window, so a machine busy with other
    work (the busy child then gets less than a CPU) measures the same on both."""
    busy, idle = children
    ticks_before, began = sum(busy.cpu_times()[:2]), time.monotonic()
    sample = CpuSample([busy, idle])
    time.sleep(0.3)

    percent = sample.percent()
    ticks = 100 * (sum(busy.cpu_times()[:2]) - ticks_before) / (time.monotonic() - began)

    assert percent[busy.pid] > 20
    assert abs(percent[busy.pid] - ticks) < 15, (percent[busy.pid], ticks)
    assert percent[idle.pid] < 5


def test_the_window_is_short_where_the_counters_are_precise() -> None:
    sample = CpuSample([psutil.Process()])
    began = time.monotonic()
    sample.wait()

    assert sample.precise == os.path.isfile("/proc/self/schedstat")  # noqa: PTH113
    assert time.monotonic() - began <= sample.window + 0.05
    if sample.precise:
        assert sample.window == PRECISE_WINDOW


def test_a_process_gone_before_the_second_look_counts_as_idle() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    process = psutil.Process(child.pid)
    sample = CpuSample([process])
    child.wait()

    assert sample.percent()[child.pid] >= 0.0


def test_create_time_is_psutils_to_the_bit_and_a_gone_pid_is_named() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for pid in (os.getpid(), os.getppid(), child.pid):
            assert create_time(pid) == psutil.Process(pid).create_time(), pid
    finally:
        child.kill()
        child.wait()
    with pytest.raises(ProcessLookupError):
        create_time(child.pid)


def test_create_time_without_proc_is_psutils(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampling, "_has_proc_stat", lambda: False)

    assert create_time(os.getpid()) == psutil.Process().create_time()
    with pytest.raises(ProcessLookupError):
        create_time(2**22 + 1)  # above the largest pid Linux hands out
