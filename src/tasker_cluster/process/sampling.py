"""Cheap looks at many processes at once: who is whose child, and CPU use over a short window.

`children_by_parent` reads every process's parent in one pass (on Linux straight from
`/proc/<pid>/stat`), where `psutil.Process.children(recursive=True)` would scan every process
once per call. `CpuSample` measures CPU use between two looks: on Linux from each thread's
`/proc/<pid>/task/<tid>/schedstat` (nanoseconds), so a window of a few tens of milliseconds
is exact; elsewhere from `psutil.Process.cpu_times` (clock ticks, 10 ms), which needs a
longer window (`CpuSample.window`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

PROC = Path("/proc")
PRECISE_WINDOW = 0.02  # nanosecond counters: 20 ms tell 1 % from 2 %
COARSE_WINDOW = 0.1  # clock ticks of 10 ms: one tick is 10 % of this window
# /proc/<pid>/stat after "(comm) ": field 3 (state) is index 0, so field 22 (starttime) is 19
STARTTIME_FIELD = 19


def children_by_parent() -> dict[int, list[int]]:
    """Every process's pid under its parent's, from one pass over all processes."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    return children


def descendants(pid: int, children: Mapping[int, Sequence[int]]) -> list[int]:
    """The pids below `pid` in `children` (see `children_by_parent`), nearest first."""
    found: list[int] = []
    todo = list(children.get(pid, ()))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(children.get(child, ()))
    return found


def _parents() -> dict[int, int]:
    if not _has_proc_stat():
        import psutil  # noqa: PLC0415

        return {p.pid: p.info["ppid"] for p in psutil.process_iter(["ppid"])}
    parents = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(Path(entry.path, "stat").read_bytes())
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if len(fields) > 1:
            parents[int(entry.name)] = int(fields[1])
    return parents


def _has_proc_stat() -> bool:
    return (PROC / "self" / "stat").is_file()


def _stat_fields(text: bytes) -> list[bytes]:
    """The fields of a `/proc/<pid>/stat` after `pid (comm) `, field 3 (state) first: comm
    may hold spaces and parentheses; it ends at the last ")"."""
    return text[text.rfind(b")") + 2 :].split()


def create_time(pid: int) -> float:
    """When `pid` started, in seconds since the epoch, as `psutil.Process(pid).create_time()`
    computes it (the same value to the bit, so records compare with psutil's later looks): on
    Linux its start in clock ticks after boot from `/proc/<pid>/stat` plus the boot time of
    `/proc/stat`, without loading psutil; elsewhere psutil's. Raises ProcessLookupError when
    the process is gone."""
    fields: list[bytes] = []
    if _has_proc_stat():
        try:
            fields = _stat_fields((PROC / str(pid) / "stat").read_bytes())
        except FileNotFoundError:
            raise ProcessLookupError(pid) from None
        except OSError:  # not ours to read: psutil says why
            fields = []
    if len(fields) <= STARTTIME_FIELD:
        import psutil  # noqa: PLC0415

        try:
            return float(psutil.Process(pid).create_time())
        except psutil.NoSuchProcess:
            raise ProcessLookupError(pid) from None
    return float(fields[STARTTIME_FIELD]) / os.sysconf("SC_CLK_TCK") + _boot_time()


def _boot_time() -> float:
    with (PROC / "stat").open("rb") as stat:
        for line in stat:
            if line.startswith(b"btime"):
                return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def _thread_nanoseconds(pid: int) -> dict[int, int] | None:
    """CPU nanoseconds of each thread of `pid` by thread id; None if they cannot be read (the
    process is gone, or not ours to read)."""
    try:
        threads = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return None
    found = {}
    for thread in threads:
        try:
            found[int(thread.name)] = int((thread / "schedstat").read_bytes().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return found or None


class CpuSample:
    """CPU use of processes between `CpuSample(...)` and `percent()`, in % of one CPU.

    Threads that end within the window lose their share of it (they cannot be read any more);
    threads that start within it count in full. A process that cannot be read counts as 0.
    """

    def __init__(self, processes: Iterable[psutil.Process]) -> None:
        self._processes = {process.pid: process for process in processes}
        self.precise = (PROC / "self" / "schedstat").is_file()
        self._precise = {
            pid: _thread_nanoseconds(pid) or {} for pid in self._processes if self.precise
        }
        self._coarse = {} if self.precise else {p: self._cpu_seconds(p) for p in self._processes}
        self._began = time.monotonic()

    @property
    def window(self) -> float:
        """The shortest window worth measuring with the counters this sample reads."""
        return PRECISE_WINDOW if self.precise else COARSE_WINDOW

    def wait(self) -> None:
        """Sleep until `window` has passed since the first look."""
        time.sleep(max(0.0, self.window - (time.monotonic() - self._began)))

    def percent(self) -> dict[int, float]:
        """CPU % of each process since the first look (100: one CPU busy throughout)."""
        elapsed = max(time.monotonic() - self._began, 1e-9)
        if self.precise:
            used = {pid: self._precise_seconds(pid) for pid in self._processes}
        else:
            used = {
                pid: max(0.0, self._cpu_seconds(pid) - self._coarse[pid]) for pid in self._processes
            }
        return {pid: 100.0 * seconds / elapsed for pid, seconds in used.items()}

    def _precise_seconds(self, pid: int) -> float:
        before = self._precise[pid]
        after = _thread_nanoseconds(pid) or {}
        used = sum(max(0, ns - before.get(tid, 0)) for tid, ns in after.items())
        return used / 1e9

    def _cpu_seconds(self, pid: int) -> float:
        import psutil  # noqa: PLC0415

        try:
            times = self._processes[pid].cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)
