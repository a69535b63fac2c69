"""Runs of consecutive free TCP ports for test clusters.

The ports are taken from outside the kernel's ephemeral range: a port the OS hands out for
`bind(0)` may be given to any outgoing connection while its instance is down for a restart,
and the instance could then not get it back.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Collection
from pathlib import Path

from tasker_cluster.testing.errors import NoFreePortRangeError

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_DEFAULT_EPHEMERAL = (32768, 60999)
LOWEST_PORT = 20000
MIN_WINDOW = 2000
MAX_PORT = 65535


def free_port_range(
    count: int, host: str = "127.0.0.1", avoid: Collection[int] = (), attempts: int = 200
) -> int:
    """A base port such that `base .. base+count-1` are free now and none is in `avoid`."""
    low, high = _non_ephemeral_window()
    chooser = random.SystemRandom()
    for _ in range(attempts):
        base = chooser.randrange(low, high - count + 1)
        ports = range(base, base + count)
        if any(port in avoid for port in ports):
            continue
        if all(is_free(host, port) for port in ports):
            return base
    raise NoFreePortRangeError(count, host, attempts)


def is_free(host: str, port: int) -> bool:
    """Whether `port` can be bound now; stricter than a server's bind (no SO_REUSEADDR)."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _non_ephemeral_window() -> tuple[int, int]:
    """[low, high) below the ephemeral range, else above it, else everything from 20000."""
    try:
        first, last = (int(part) for part in EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        first, last = LINUX_DEFAULT_EPHEMERAL
    if first - LOWEST_PORT >= MIN_WINDOW:
        return LOWEST_PORT, first
    if MAX_PORT - last >= MIN_WINDOW:
        return last + 1, MAX_PORT + 1
    return LOWEST_PORT, MAX_PORT + 1
