"""Which ports are taken, and by whom (pid and process name where the OS lets us see it)."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasker_cluster.config.instances import Instance
from tasker_cluster.config.model import key_part
from tasker_cluster.process.exits import has_exited

if TYPE_CHECKING:
    from tasker_cluster.wait import Deadline

# psutil and the wait machinery load where a port is taken: a start whose ports are free (the
# check before it spawns anything) needs neither.

log = logging.getLogger(__name__)

RELEASE_WAIT = 3.0
RELEASE_POLL = 0.02


@dataclass(frozen=True)
class PortConflict:
    """A port an instance needs that something else already holds."""

    port: int
    instance_id: str
    base_port_key: str
    holder_pid: int | None
    holder_name: str | None
    holder_instance: str | None = None

    def describe(self) -> str:
        if self.holder_pid is None:
            holder = "is in use (its holder is not visible to this user)"
        else:
            holder = f"is held by pid {self.holder_pid} ({self.holder_name or 'unknown'})"
            if self.holder_instance:
                holder += f", which is {self.holder_instance} of this cluster"
        return f"port {self.port} for {self.instance_id} {holder}"


@dataclass(frozen=True)
class PortHolder:
    """A listening socket on a port and the process that owns it (when visible)."""

    port: int
    pid: int | None
    name: str | None


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could bind `host:port` now (the same way uvicorn binds)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            return error.errno != errno.EADDRINUSE
    return True


def find_holders(ports: Iterable[int]) -> dict[int, PortHolder]:
    """The listening holder of each port in `ports` that has one."""
    import psutil  # noqa: PLC0415

    wanted = set(ports)
    holders: dict[int, PortHolder] = {}
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return holders
    for connection in connections:
        if connection.status != psutil.CONN_LISTEN or not connection.laddr:
            continue
        port = connection.laddr.port
        if port in wanted and holders.get(port, PortHolder(port, None, None)).pid is None:
            holders[port] = PortHolder(port, connection.pid, _process_name(connection.pid))
    return holders


def _process_name(pid: int | None) -> str | None:
    import psutil  # noqa: PLC0415

    if pid is None:
        return None
    try:
        return psutil.Process(pid).name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _owning_instance(pid: int | None, record_pids: Mapping[int, str]) -> str | None:
    """The instance whose recorded process is `pid` or one of its ancestors."""
    import psutil  # noqa: PLC0415

    if pid is None:
        return None
    if pid in record_pids:
        return record_pids[pid]
    try:
        ancestors = psutil.Process(pid).parents()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return next((record_pids[p.pid] for p in ancestors if p.pid in record_pids), None)


def declared_ports(instance: Instance) -> list[tuple[int, str]]:
    """Every port the instance listens on, REST first, with the key that sets its base."""
    prefix = f"TASKER_{key_part(instance.service)}"
    return [
        (instance.port, f"{prefix}_BASE_PORT"),
        *((port, f"{prefix}_{key_part(name)}_BASE_PORT") for name, port in instance.ports.items()),
    ]


def port_conflicts(
    instances: Iterable[Instance], bind_host: str, record_pids: Mapping[int, str]
) -> list[PortConflict]:
    """A conflict for every port of the instances (REST and named) that cannot be bound now."""
    busy = [
        (instance, port, key)
        for instance in instances
        for port, key in declared_ports(instance)
        if not port_is_free(bind_host, port)
    ]
    if not busy:
        return []
    holders = find_holders(port for _, port, _ in busy)
    conflicts = []
    for instance, port, key in busy:
        holder = holders.get(port, PortHolder(port, None, None))
        conflicts.append(
            PortConflict(
                port=port,
                instance_id=instance.id,
                base_port_key=key,
                holder_pid=holder.pid,
                holder_name=holder.name,
                holder_instance=_owning_instance(holder.pid, record_pids),
            )
        )
    return conflicts


def _is_releasing(conflict: PortConflict) -> bool:
    """Whether the holder is hidden, gone or a zombie: a dying process whose threads still
    hold the socket for a moment (a killed process is a zombie before its threads exit)."""
    import psutil  # noqa: PLC0415

    if conflict.holder_pid is None:
        return True
    try:
        return has_exited(psutil.Process(conflict.holder_pid))
    except psutil.NoSuchProcess:
        return True


def wait_for_ports(
    instances: Sequence[Instance],
    bind_host: str,
    record_pids: Mapping[int, str],
    deadline: Deadline,
) -> list[PortConflict]:
    """`port_conflicts`, after waiting (at most `RELEASE_WAIT` s) for ports still being released.

    Ports held by a live process come back at once; ports whose holder is not visible or is
    exiting are polled until bindable or the wait ends, then reported as they are.
    """
    from tasker_cluster.wait import WaitTimeoutError, wait_for  # noqa: PLC0415

    last: list[PortConflict] = []

    def settled() -> list[PortConflict] | None:
        nonlocal last
        last = port_conflicts(instances, bind_host, record_pids)
        releasing = [conflict for conflict in last if _is_releasing(conflict)]
        if len(releasing) < len(last) or not releasing:
            return last
        log.debug("waiting for ports %s to be released", [c.port for c in releasing])
        return None

    try:
        release = deadline.within(RELEASE_WAIT)
        return wait_for(settled, release, "ports to be released", interval=RELEASE_POLL)
    except WaitTimeoutError:
        return last
