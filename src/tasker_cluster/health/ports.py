"""Readiness of the ports besides REST: each declared port listening, held by the instance's
own process tree. An instance whose REST health is 200 while one of them is missing, or held
by another process, is degraded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil

from tasker_cluster.process.ports import find_holders


@dataclass(frozen=True)
class PortsOf:
    """The named ports one instance must hold, and the pid of its process (tree root)."""

    instance_id: str
    pid: int
    ports: Mapping[str, int]


@dataclass(frozen=True)
class PortProblem:
    """A declared port that is not listening, or held by a process outside the instance."""

    instance_id: str
    name: str
    port: int
    holder_pid: int | None = None
    holder_name: str | None = None

    @property
    def held_elsewhere(self) -> bool:
        return self.holder_pid is not None

    def describe(self) -> str:
        if self.holder_pid is None:
            return f"{self.name} port {self.port} is not listening"
        return (
            f"{self.name} port {self.port} is held by pid {self.holder_pid} "
            f"({self.holder_name or 'unknown'}), not by {self.instance_id}"
        )


def tree_pids(pid: int) -> set[int]:
    """`pid` and its descendants (empty if it is gone)."""
    try:
        process = psutil.Process(pid)
        return {pid, *(child.pid for child in process.children(recursive=True))}
    except psutil.Error:
        return set()


def port_problems(instances: Sequence[PortsOf]) -> list[PortProblem]:
    """Every declared port of `instances` that its instance does not hold, in order (a port
    whose holder this user may not see counts as held)."""
    wanted = [port for instance in instances for port in instance.ports.values()]
    if not wanted:
        return []
    holders = find_holders(wanted)
    problems = []
    for instance in instances:
        own = tree_pids(instance.pid)
        for name, port in instance.ports.items():
            holder = holders.get(port)
            if holder is None:
                problems.append(PortProblem(instance.instance_id, name, port))
            elif holder.pid is not None and holder.pid not in own:
                problems.append(
                    PortProblem(instance.instance_id, name, port, holder.pid, holder.name)
                )
    return problems
