"""`.pids/<id>.pid` records and the check that a recorded pid is still *ours*.

A pid is ours when a live (non-zombie) process has it and its create time matches the record
within `CREATE_TIME_TOLERANCE`; a pid that now belongs to another process is never signalled.
"""

from __future__ import annotations

import enum
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from tasker_cluster.process.errors import RecordError
from tasker_cluster.process.exits import has_exited

log = logging.getLogger(__name__)

CREATE_TIME_TOLERANCE = 0.01
RECORD_SUFFIX = ".pid"


@dataclass(frozen=True)
class InstanceRecord:
    """What `start` wrote about a process it spawned."""

    instance_id: str
    service: str
    number: int
    pid: int
    create_time: float
    argv: tuple[str, ...]
    port: int
    url: str
    started_at: str

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "argv": list(self.argv)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, path: Path) -> InstanceRecord:
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as error:
            raise RecordError(path, f"not JSON ({error.msg} at line {error.lineno})") from None
        if not isinstance(data, dict):
            raise RecordError(path, "not a JSON object")
        try:
            record = cls(
                instance_id=str(data["instance_id"]),
                service=str(data["service"]),
                number=int(data["number"]),
                pid=int(data["pid"]),
                create_time=float(data["create_time"]),
                argv=tuple(str(part) for part in data["argv"]),
                port=int(data["port"]),
                url=str(data["url"]),
                started_at=str(data["started_at"]),
            )
        except KeyError as error:
            raise RecordError(path, f"missing field {error.args[0]!r}") from None
        except (TypeError, ValueError) as error:
            raise RecordError(path, f"malformed field ({error})") from None
        if record.pid <= 0:
            raise RecordError(path, f"pid {record.pid} is not a process id")
        return record


class Liveness(enum.Enum):
    """What became of a recorded process."""

    OURS = "ours"
    GONE = "gone"
    REUSED = "pid reused"


def record_path(pids_dir: Path, instance_id: str) -> Path:
    return pids_dir / f"{instance_id}{RECORD_SUFFIX}"


def write_record(pids_dir: Path, record: InstanceRecord) -> Path:
    """Write atomically: a reader sees the old record, the new one, or none, never half."""
    pids_dir.mkdir(parents=True, exist_ok=True)
    target = record_path(pids_dir, record.instance_id)
    temporary = pids_dir / f".{record.instance_id}.{os.getpid()}.tmp"
    temporary.write_text(record.to_json(), encoding="utf-8")
    temporary.replace(target)
    return target


def read_record(path: Path) -> InstanceRecord:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RecordError(path, error.strerror or str(error)) from None
    return InstanceRecord.from_json(text, path)


def read_records(pids_dir: Path) -> tuple[list[InstanceRecord], list[RecordError]]:
    """Every record in `pids_dir`, sorted by instance id, plus the files that are not records."""
    records: list[InstanceRecord] = []
    broken: list[RecordError] = []
    if not pids_dir.is_dir():
        return records, broken
    for path in sorted(pids_dir.glob(f"*{RECORD_SUFFIX}")):
        try:
            records.append(read_record(path))
        except RecordError as error:
            if path.exists():
                broken.append(error)
    return records, broken


def remove_record(pids_dir: Path, instance_id: str) -> None:
    record_path(pids_dir, instance_id).unlink(missing_ok=True)


def liveness(record: InstanceRecord) -> tuple[Liveness, psutil.Process | None]:
    """Whether the recorded process still runs and is the one we started."""
    try:
        process = psutil.Process(record.pid)
        if abs(process.create_time() - record.create_time) > CREATE_TIME_TOLERANCE:
            return Liveness.REUSED, None
        if has_exited(process):
            return Liveness.GONE, None
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return Liveness.GONE, None
    except psutil.AccessDenied:
        log.warning("cannot inspect pid %d of %s; treating it as not ours", *_who(record))
        return Liveness.REUSED, None
    return Liveness.OURS, process


def _who(record: InstanceRecord) -> tuple[int, str]:
    return record.pid, record.instance_id
