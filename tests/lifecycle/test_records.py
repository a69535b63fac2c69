"""Instance records: atomic JSON files, and whether a recorded pid is still ours."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from tasker_cluster.process.errors import RecordError
from tasker_cluster.process.records import (
    InstanceRecord,
    Liveness,
    liveness,
    read_plain_pids,
    read_record,
    read_records,
    record_path,
    remove_record,
    write_record,
)

from .helpers import wait_until


def record_for(
    pid: int, create_time: float, instance_id: str = "orchestration-1"
) -> InstanceRecord:
    return InstanceRecord(
        instance_id=instance_id,
        service="orchestration",
        number=1,
        pid=pid,
        create_time=create_time,
        argv=("python", "-m", "x", "--name", "a b"),
        port=8080,
        url="http://127.0.0.1:8080",
        started_at="2025-01-01T00:00:00+00:00",
    )


def test_records_round_trip_and_are_written_atomically(tmp_path: Path) -> None:
    record = record_for(1234, 1700000000.25)

    path = write_record(tmp_path / ".pids", record)

    assert path == tmp_path / ".pids" / "orchestration-1.json"
    assert read_record(path) == record
    assert sorted(p.name for p in (tmp_path / ".pids").iterdir()) == [
        "orchestration-1.json",
        "orchestration-1.pid",
    ]
    assert (tmp_path / ".pids" / "orchestration-1.pid").read_text() == "1234\n"
    remove_record(tmp_path / ".pids", "orchestration-1")
    assert not path.exists()
    assert not (tmp_path / ".pids" / "orchestration-1.pid").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("1234\n", "not a JSON object"),
        ("{not json", "not JSON (Expecting property name enclosed in double quotes at line 1)"),
        ('{"instance_id": "x"}', "missing field 'service'"),
    ],
)
def test_unreadable_records_name_the_file_and_the_reason(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "legacy.pid"
    path.write_text(content)

    with pytest.raises(RecordError) as error:
        read_record(path)

    assert str(error.value) == f"unreadable instance record {path}: {reason}"


def test_read_records_separates_records_from_broken_files(tmp_path: Path) -> None:
    write_record(tmp_path, record_for(1, 1.0, "b-1"))
    write_record(tmp_path, record_for(2, 2.0, "a-1"))
    (tmp_path / "c-1.json").write_text("42\n")
    (tmp_path / "d-1.pid").write_text("4242\n")
    (tmp_path / "e-1.pid").write_text(record_for(5, 5.0, "e-1").to_json())

    records, broken = read_records(tmp_path)

    assert [r.instance_id for r in records] == ["a-1", "b-1", "e-1"], "e-1: an older record"
    assert [e.path.name for e in broken] == ["c-1.json"]
    assert record_path(tmp_path, "a-1").exists()
    assert [(p.instance_id, p.pid) for p in read_plain_pids(tmp_path)] == [("d-1", 4242)]


def test_our_own_process_is_ours_and_a_different_create_time_is_not() -> None:
    me = psutil.Process()
    record = record_for(me.pid, me.create_time())

    assert liveness(record)[0] is Liveness.OURS
    assert liveness(replace(record, create_time=me.create_time() - 1.0))[0] is Liveness.REUSED


def test_an_exited_process_is_gone_even_before_it_is_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    record = record_for(child.pid, psutil.Process(child.pid).create_time())
    try:
        wait_until(
            lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE, 10, "a zombie"
        )
        assert liveness(record)[0] is Liveness.GONE
    finally:
        child.wait()
    assert liveness(record)[0] is Liveness.GONE
