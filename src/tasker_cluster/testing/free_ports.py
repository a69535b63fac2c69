"""Consecutive free TCP ports, found by asking the OS for one and checking its neighbours."""

from __future__ import annotations

import socket
from collections.abc import Collection

from tasker_cluster.testing.errors import NoFreePortRangeError

MAX_PORT = 65535


def free_port_range(
    count: int, host: str = "127.0.0.1", avoid: Collection[int] = (), attempts: int = 100
) -> int:
    """A base port such that `base .. base+count-1` are all free now and none is in `avoid`."""
    for _ in range(attempts):
        with socket.socket() as probe:
            probe.bind((host, 0))
            base = int(probe.getsockname()[1])
        ports = range(base, base + count)
        if ports[-1] > MAX_PORT or any(port in avoid for port in ports):
            continue
        if all(is_free(host, port) for port in ports):
            return base
    raise NoFreePortRangeError(count, host, attempts)


def is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
