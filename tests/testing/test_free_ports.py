"""Port runs for managed clusters come from outside the kernel's ephemeral range."""

from __future__ import annotations

from pathlib import Path

from tasker_cluster.testing.free_ports import free_port_range, is_free


def test_port_runs_are_free_and_below_the_ephemeral_range() -> None:
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    bases = [free_port_range(3) for _ in range(20)]
    for base in bases:
        assert base >= 20000 and base + 2 < ephemeral_low
        assert all(is_free("127.0.0.1", port) for port in range(base, base + 3))


def test_avoided_ports_are_never_chosen() -> None:
    first = free_port_range(50)
    taken = set(range(first, first + 50))
    for _ in range(20):
        base = free_port_range(4, avoid=taken)
        assert not taken & set(range(base, base + 4))
