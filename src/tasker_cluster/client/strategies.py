"""Load-balancing strategies: frozen specs that build a stateful selector per cluster client."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tasker_cluster.client.errors import NoHealthyInstanceError

HealthProbe = Callable[[int], Awaitable[str | None]]
"""Probe instance `i`; returns None when healthy, else why not."""


class Selector(Protocol):
    """Chooses the instance index for the next request."""

    fails_over: bool

    async def select(self) -> int: ...

    def mark_down(self, index: int, reason: str) -> None: ...


class Strategy(Protocol):
    def selector(self, urls: Sequence[str], probe: HealthProbe) -> Selector: ...


@dataclass(frozen=True)
class RoundRobin:
    """Instances in turn: 0, 1, ..., n-1, 0, ..."""

    def selector(self, urls: Sequence[str], probe: HealthProbe) -> Selector:
        return _RoundRobinSelector(len(urls))


@dataclass(frozen=True)
class Random:
    """A uniformly random instance per request; reproducible with a seed."""

    seed: int | None = None

    def selector(self, urls: Sequence[str], probe: HealthProbe) -> Selector:
        return _RandomSelector(len(urls), random.Random(self.seed))


@dataclass(frozen=True)
class Sticky:
    """Always the same instance for the same key, in every process."""

    key: Hashable

    def selector(self, urls: Sequence[str], probe: HealthProbe) -> Selector:
        return _FixedSelector(stable_index(self.key, len(urls)))


@dataclass(frozen=True)
class FirstHealthy:
    """The first instance (in URL order) that passes a health check.

    The choice is cached for `cache_seconds`; an instance that refuses a connection is marked
    down for as long and the next healthy one is used.
    """

    cache_seconds: float = 1.0

    def selector(self, urls: Sequence[str], probe: HealthProbe) -> Selector:
        return _FirstHealthySelector(urls, probe, self.cache_seconds)


class _RoundRobinSelector:
    fails_over = False

    def __init__(self, count: int) -> None:
        self._count = count
        self._next = 0

    async def select(self) -> int:
        index = self._next % self._count
        self._next += 1
        return index

    def mark_down(self, index: int, reason: str) -> None:
        return None


class _RandomSelector:
    fails_over = False

    def __init__(self, count: int, rng: random.Random) -> None:
        self._count = count
        self._rng = rng

    async def select(self) -> int:
        return self._rng.randrange(self._count)

    def mark_down(self, index: int, reason: str) -> None:
        return None


class _FixedSelector:
    fails_over = False

    def __init__(self, index: int) -> None:
        self._index = index

    async def select(self) -> int:
        return self._index

    def mark_down(self, index: int, reason: str) -> None:
        return None


class _FirstHealthySelector:
    fails_over = True

    def __init__(self, urls: Sequence[str], probe: HealthProbe, cache_seconds: float) -> None:
        self._urls = tuple(urls)
        self._probe = probe
        self._cache_seconds = cache_seconds
        self._chosen: int | None = None
        self._chosen_until = 0.0
        self._down: dict[int, tuple[float, str]] = {}
        self._lock = asyncio.Lock()

    async def select(self) -> int:
        async with self._lock:
            now = time.monotonic()
            if self._chosen is not None and now < self._chosen_until:
                return self._chosen
            self._down = {i: mark for i, mark in self._down.items() if mark[0] > now}
            fresh = [i for i in range(len(self._urls)) if i not in self._down]
            recently_down = [i for i in range(len(self._urls)) if i in self._down]
            failures: list[tuple[str, str]] = []
            for index in fresh + recently_down:
                reason = await self._probe(index)
                if reason is None:
                    self._down.pop(index, None)
                    self._chosen = index
                    self._chosen_until = time.monotonic() + self._cache_seconds
                    return index
                failures.append((self._urls[index], reason))
            self._chosen = None
            raise NoHealthyInstanceError(failures)

    def mark_down(self, index: int, reason: str) -> None:
        self._down[index] = (time.monotonic() + self._cache_seconds, reason)
        if self._chosen == index:
            self._chosen = None


def stable_index(key: Hashable, count: int) -> int:
    """Map `key` to 0..count-1 identically in every process (no randomized `hash()`)."""
    if isinstance(key, bool):
        number = int(key)
    elif isinstance(key, int):
        number = key
    elif isinstance(key, uuid.UUID):
        number = key.int
    else:
        digest = hashlib.blake2b(_stable_bytes(key), digest_size=8).digest()
        number = int.from_bytes(digest, "big")
    return number % count


def _stable_bytes(key: object) -> bytes:
    if isinstance(key, str):
        return b"s" + key.encode()
    if isinstance(key, bytes):
        return b"b" + key
    if isinstance(key, int | float | uuid.UUID | type(None)):
        return b"n" + repr(key).encode()
    if isinstance(key, tuple):
        return b"t(" + b",".join(_stable_bytes(item) for item in key) + b")"
    if isinstance(key, frozenset):
        return b"f(" + b",".join(sorted(_stable_bytes(item) for item in key)) + b")"
    return b"r" + repr(key).encode()
