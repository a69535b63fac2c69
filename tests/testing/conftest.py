"""Fixtures that start real throw-away HTTP processes for the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_processes import FakeInstance, StartFakes, start_fake


class _FakePool:
    def __init__(self) -> None:
        self.started: list[FakeInstance] = []

    def start(self, count: int) -> list[FakeInstance]:
        batch = [start_fake(f"fake-{len(self.started) + n + 1}") for n in range(count)]
        self.started.extend(batch)
        return batch

    def kill_all(self) -> None:
        for instance in self.started:
            instance.kill()


@pytest.fixture
def fake_instances() -> Iterator[StartFakes]:
    """Start `n` fake orchestration instances (`fake-1`..); all are killed after the test."""
    pool = _FakePool()
    yield pool.start
    pool.kill_all()


@pytest.fixture(scope="module")
def three_fakes() -> Iterator[list[FakeInstance]]:
    """Three fake instances shared by a module's tests, which must leave them running."""
    pool = _FakePool()
    yield pool.start(3)
    pool.kill_all()
