"""Scratch databases of managed test clusters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasker_cluster.testing.databases import sqlite_database


def test_a_relative_cluster_dir_keeps_the_sqlite_database_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    database = sqlite_database(Path(".nox/session/tmp/cluster"))

    expected = tmp_path / ".nox/session/tmp/cluster/.data/tasker.sqlite3"
    assert database.url == f"sqlite:///{expected}", "never a path the services read from /"
