"""Spawn instances detached; stop whole process trees in parallel (TERM, grace, KILL)."""

from __future__ import annotations

import enum
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from tasker_cluster.process.records import InstanceRecord, Liveness
from tasker_cluster.process.trees import ProcessTree, collect_trees

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.02
KILL_GRACE = 5.0

Reaper = Callable[[int], None]


class StopOutcome(enum.StrEnum):
    STOPPED = "stopped"
    KILLED = "killed after timeout"
    NOT_RUNNING = "not running"
    SURVIVED = "still running after SIGKILL"


@dataclass(frozen=True)
class StopResult:
    """What `stop` did to one instance."""

    instance_id: str
    service: str
    outcome: StopOutcome
    pid: int | None
    detail: str = ""


def _is_gone(process: psutil.Process, reap: Reaper) -> bool:
    """Exited processes count as gone, zombies included (slow init reaping must not stall us)."""
    try:
        if process.status() == psutil.STATUS_ZOMBIE:
            reap(process.pid)
            return True
        return not process.is_running()
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False


def wait_gone(
    processes: Sequence[psutil.Process], deadline: float, reap: Reaper
) -> list[psutil.Process]:
    """Poll until every process is gone or the monotonic deadline passes; return survivors."""
    alive = list(processes)
    while alive:
        alive = [process for process in alive if not _is_gone(process, reap)]
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
    return alive


def _no_reap(pid: int) -> None:
    del pid


def stop_records(
    records: Sequence[InstanceRecord], timeout: float, reap: Reaper = _no_reap
) -> list[StopResult]:
    """SIGTERM every tree at once, SIGKILL what outlives `timeout`, all on one deadline."""
    trees = collect_trees(records)
    deadline = time.monotonic() + timeout
    for tree in trees:
        tree.signal(signal.SIGTERM)
    everything = [process for tree in trees for process in tree.processes]
    survivors = {process.pid for process in wait_gone(everything, deadline, reap)}
    killed = [tree for tree in trees if survivors & tree.members.keys()]
    for tree in killed:
        log.info(
            "%s outlived %g s after SIGTERM; sending SIGKILL", tree.record.instance_id, timeout
        )
        tree.signal(signal.SIGKILL, only=survivors)
    leftover = [process for tree in killed for process in tree.processes]
    unkillable = {p.pid for p in wait_gone(leftover, time.monotonic() + KILL_GRACE, reap)}
    for tree in trees:
        if tree.liveness is not Liveness.REUSED:
            reap(tree.record.pid)
    return [_result(tree, killed, unkillable) for tree in trees]


def _result(tree: ProcessTree, killed: list[ProcessTree], unkillable: set[int]) -> StopResult:
    record = tree.record
    if not tree.members:
        detail = (
            f"pid {record.pid} now belongs to another process; it was not signalled"
            if tree.liveness is Liveness.REUSED
            else "it had already exited"
        )
        return StopResult(record.instance_id, record.service, StopOutcome.NOT_RUNNING, None, detail)
    if unkillable & tree.members.keys():
        pids = ", ".join(str(pid) for pid in sorted(unkillable & tree.members.keys()))
        outcome, detail = StopOutcome.SURVIVED, f"pids {pids} survived SIGKILL"
    elif any(tree is other for other in killed):
        outcome, detail = StopOutcome.KILLED, ""
    else:
        outcome, detail = StopOutcome.STOPPED, ""
    if tree.liveness is not Liveness.OURS:
        leftovers = "its main process had already exited; its leftover processes were stopped"
        detail = f"{detail}; {leftovers}" if detail else leftovers
    return StopResult(record.instance_id, record.service, outcome, record.pid, detail)
