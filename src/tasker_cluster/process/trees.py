"""Find every process that belongs to a recorded instance: its group, session and descendants."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field

import psutil

from tasker_cluster.process.exits import has_exited
from tasker_cluster.process.records import CREATE_TIME_TOLERANCE, InstanceRecord, Liveness, liveness


@dataclass(eq=False)
class ProcessTree:
    """The processes of one instance; `group` is its process group when the leader is ours."""

    record: InstanceRecord
    liveness: Liveness
    group: int | None
    members: dict[int, psutil.Process] = field(default_factory=dict)
    outside_group: set[int] = field(default_factory=set)

    @property
    def processes(self) -> list[psutil.Process]:
        return list(self.members.values())

    def terminate_orphans(self, signalled: set[int]) -> None:
        """SIGTERM each live member whose parent is not a live member of this tree, once.

        That is the leader first; a member whose parent is in the tree is left to its parent,
        which may forward the signal (as `uv run` does) or not (as `cargo run` does not): once
        that parent has exited, its children are orphans and get their SIGTERM here. So no
        process gets a second SIGTERM from a forwarding wrapper and from us. `signalled`
        collects the pids signalled so far.
        """
        alive = {pid for pid, process in self.members.items() if not has_exited(process)}
        for pid in sorted(alive - signalled):
            process = self.members[pid]
            try:
                parent = process.ppid()
            except psutil.Error:
                continue
            if parent in alive and parent != pid:
                continue
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                process.send_signal(signal.SIGTERM)
                signalled.add(pid)

    def signal(self, signum: int, only: set[int] | None = None) -> None:
        """Signal the process group, then each member that left it (e.g. via setsid).

        With `only`, just those members (and the group only while one of them is in it, so a
        group id can never have been reused).
        """
        chosen = set(self.members) if only is None else only & set(self.members)
        if self.group is not None and (only is None or chosen - self.outside_group):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signum)
        individually = chosen & self.outside_group if self.group is not None else chosen
        for pid in individually:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                self.members[pid].send_signal(signal.Signals(signum))


@dataclass(frozen=True)
class _Membership:
    process: psutil.Process
    group: int
    session: int
    create_time: float
    parent: int


def _scan_memberships() -> dict[int, _Membership]:
    """One pass over every process: its group, session, create time and parent, by pid."""
    protected = {os.getpid(), *(p.pid for p in _own_ancestors())}
    found = {}
    for process in psutil.process_iter(["ppid", "create_time"]):
        if process.pid in protected:
            continue
        try:
            found[process.pid] = _Membership(
                process,
                os.getpgid(process.pid),
                os.getsid(process.pid),
                process.info["create_time"],
                process.info["ppid"],
            )
        except (ProcessLookupError, PermissionError, psutil.Error, TypeError):
            continue
    return found


def _descendants(pid: int, memberships: dict[int, _Membership]) -> list[int]:
    """The pids below `pid` in the snapshot's parent links."""
    children: dict[int, list[int]] = {}
    for member in memberships.values():
        children.setdefault(member.parent, []).append(member.process.pid)
    found, todo = [], list(children.get(pid, ()))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, ()))
    return found


def _own_ancestors() -> list[psutil.Process]:
    try:
        return psutil.Process().parents()
    except psutil.Error:
        return []


def collect_trees(records: Sequence[InstanceRecord]) -> list[ProcessTree]:
    """Snapshot the process tree of every record, before anything is signalled.

    A live leader brings its descendants and its whole group and session. When the leader is
    gone, the members of its old group or session started after it are its leftovers; the
    kernel keeps a group or session id from being reused while it has members. A pid that now
    belongs to another process yields an empty tree: it is never signalled.
    """
    trees = []
    memberships: dict[int, _Membership] | None = None
    for record in records:
        state, leader = liveness(record)
        tree = ProcessTree(record, state, record.pid if state is Liveness.OURS else None)
        if state is Liveness.REUSED:
            trees.append(tree)
            continue
        if memberships is None:
            memberships = _scan_memberships()
        earliest = record.create_time - CREATE_TIME_TOLERANCE
        if leader is not None:
            tree.members[leader.pid] = leader
            for pid in _descendants(leader.pid, memberships):
                if memberships[pid].create_time >= earliest:
                    tree.members[pid] = memberships[pid].process
        for member in memberships.values():
            related = record.pid in (member.group, member.session)
            if related and member.create_time >= earliest:
                tree.members.setdefault(member.process.pid, member.process)
        for pid, process in list(tree.members.items()):
            if has_exited(process):
                del tree.members[pid]
            elif tree.group is not None and _group_of(pid, memberships) != tree.group:
                tree.outside_group.add(pid)
        trees.append(tree)
    return trees


def _group_of(pid: int, memberships: dict[int, _Membership]) -> int | None:
    if pid in memberships:
        return memberships[pid].group
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
