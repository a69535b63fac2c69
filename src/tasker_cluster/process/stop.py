"""Stop whole process trees in parallel: SIGTERM to all at once, one grace period, SIGKILL."""

from __future__ import annotations

import contextlib
import enum
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from tasker_cluster.process.exits import has_exited, reap_if_child
from tasker_cluster.process.records import InstanceRecord, Liveness
from tasker_cluster.process.trees import ProcessTree, collect_trees
from tasker_cluster.wait import Deadline, WaitTimeoutError, wait_for

log = logging.getLogger(__name__)

# Looks for exits start 2 ms apart and back off to 20 ms: a process that exits at once on
# SIGTERM is seen gone (or a zombie: gone) within milliseconds, and a long grace period costs
# at most fifty looks a second.
POLL_INTERVAL = 0.002
POLL_MAX_INTERVAL = 0.02
KILL_GRACE = 5.0
PROGRESS_INTERVAL = 1.0

StopWaitCallback = Callable[[float, list[str]], None]


def any_alive(tree: ProcessTree) -> bool:
    return any(not has_exited(process) for process in tree.processes)


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
    log_tail: tuple[str, ...] = ()


def wait_gone(
    processes: Sequence[psutil.Process],
    deadline: Deadline,
    on_poll: Callable[[], None] | None = None,
) -> list[psutil.Process]:
    """Poll until every process has exited (zombies count) or the deadline passes; return
    the survivors. `on_poll` runs before each look (e.g. to signal new orphans)."""
    alive = list(processes)

    def all_gone() -> bool:
        if on_poll is not None:
            on_poll()
        alive[:] = [process for process in alive if not has_exited(process)]
        return not alive

    with contextlib.suppress(WaitTimeoutError):
        wait_for(
            all_gone,
            deadline,
            "processes to exit",
            interval=POLL_INTERVAL,
            max_interval=POLL_MAX_INTERVAL,
        )
    return alive


def stop_records(
    records: Sequence[InstanceRecord],
    timeout: float,
    on_wait: StopWaitCallback | None = None,
) -> list[StopResult]:
    """SIGTERM every tree at once, SIGKILL what outlives `timeout`, all on one deadline.

    Each process gets at most one SIGTERM: the leader at once, any other member only once its
    parent has exited (see `ProcessTree.terminate_orphans`). `on_wait(seconds left, ids still
    running)` is called about every `PROGRESS_INTERVAL` of the grace period.
    """
    trees = collect_trees(records)
    deadline = Deadline(timeout)
    signalled: set[int] = set()
    last_report = [time.monotonic()]

    def poll() -> None:
        for tree in trees:
            tree.terminate_orphans(signalled)
        if on_wait is not None and time.monotonic() - last_report[0] >= PROGRESS_INTERVAL:
            last_report[0] = time.monotonic()
            running = [t.record.instance_id for t in trees if any_alive(t)]
            on_wait(deadline.remaining(), running)

    everything = [process for tree in trees for process in tree.processes]
    survivors = {process.pid for process in wait_gone(everything, deadline, poll)}
    killed = [tree for tree in trees if survivors & tree.members.keys()]
    for tree in killed:
        log.info(
            "%s outlived %g s after SIGTERM; sending SIGKILL", tree.record.instance_id, timeout
        )
        tree.signal(signal.SIGKILL, only=survivors)
    leftover = [process for tree in killed for process in tree.processes]
    unkillable = {p.pid for p in wait_gone(leftover, Deadline(KILL_GRACE))}
    for tree in trees:
        if tree.liveness is not Liveness.REUSED:
            reap_if_child(tree.record.pid)
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
