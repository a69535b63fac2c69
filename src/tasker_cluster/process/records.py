"""Instance records in `.pids/` and the check that a recorded pid is still *ours*.

`.pids/<id>.pid` holds the plain pid, as tasker-core's own scripts write and read it (`cat`,
`kill -0`); our record sits beside it in `.pids/<id>.json` (pid, create time, argv, ports).
A plain pid file without a record beside it was written by another tool: `read_plain_pids`
returns those.

A pid is ours when a live (non-zombie) process has it and its create time matches the record
within `CREATE_TIME_TOLERANCE`; a pid that now belongs to another process is never signalled.
"""

from __future__ import annotations

import enum
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_cluster.config.instances import Instance
from tasker_cluster.process.errors import RecordError
from tasker_cluster.process.exits import has_exited

if TYPE_CHECKING:
    import psutil

log = logging.getLogger(__name__)

CREATE_TIME_TOLERANCE = 0.01
RECORD_SUFFIX = ".json"
PID_SUFFIX = ".pid"
PLAIN_PID_TOLERANCE = 2.0


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
    ports: Mapping[str, int] = field(default_factory=dict)
    written_by: str = "tasker-cluster"

    def to_json(self) -> str:
        data = {**asdict(self), "argv": list(self.argv), "ports": dict(self.ports)}
        return json.dumps(data, indent=2) + "\n"

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
                ports={str(k): int(v) for k, v in dict(data.get("ports") or {}).items()},
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


def pid_path(pids_dir: Path, instance_id: str) -> Path:
    return pids_dir / f"{instance_id}{PID_SUFFIX}"


def _write_atomically(target: Path, text: str) -> None:
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)


def write_record(pids_dir: Path, record: InstanceRecord) -> Path:
    """Write the record, then the plain pid file; each atomically (a reader sees the old
    file, the new one, or none, never half). Returns the record's path."""
    pids_dir.mkdir(parents=True, exist_ok=True)
    target = record_path(pids_dir, record.instance_id)
    _write_atomically(target, record.to_json())
    _write_atomically(pid_path(pids_dir, record.instance_id), f"{record.pid}\n")
    return target


def read_record(path: Path) -> InstanceRecord:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RecordError(path, error.strerror or str(error)) from None
    return InstanceRecord.from_json(text, path)


def read_records(pids_dir: Path) -> tuple[list[InstanceRecord], list[RecordError]]:
    """Every record in `pids_dir`, sorted by instance id, plus the files that are not records.

    A `.pid` file that holds JSON is a record of an earlier version of this tool.
    """
    records: list[InstanceRecord] = []
    broken: list[RecordError] = []
    if not pids_dir.is_dir():
        return records, broken
    paths = {path.stem: path for path in pids_dir.glob(f"*{RECORD_SUFFIX}")}
    for path in pids_dir.glob(f"*{PID_SUFFIX}"):
        if path.stem not in paths and _holds_json(path):
            paths[path.stem] = path
    for _, path in sorted(paths.items()):
        try:
            records.append(read_record(path))
        except RecordError as error:
            if path.exists():
                broken.append(error)
    return records, broken


def _holds_json(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").lstrip().startswith("{")
    except OSError:
        return False


@dataclass(frozen=True)
class PlainPid:
    """A `.pids/<id>.pid` with no record beside it: an instance another tool started."""

    instance_id: str
    pid: int
    written_at: float


def read_plain_pids(pids_dir: Path) -> list[PlainPid]:
    """The plain pid files without a record of ours beside them, by instance id."""
    found: list[PlainPid] = []
    if not pids_dir.is_dir():
        return found
    for path in sorted(pids_dir.glob(f"*{PID_SUFFIX}")):
        if record_path(pids_dir, path.stem).exists():
            continue
        try:
            text = path.read_text(encoding="utf-8").strip()
            written_at = path.stat().st_mtime
        except OSError:
            continue
        if text.isdigit() and int(text) > 0:
            found.append(PlainPid(path.stem, int(text), written_at))
    return found


def record_of_plain_pid(plain: PlainPid, instance: Instance) -> InstanceRecord | None:
    """A record for the process a plain pid file names, if it runs and started no later than
    the file was written (a pid reused since then is not taken for the instance)."""
    import psutil  # noqa: PLC0415 - only where a process is looked at (see `exits`)

    try:
        process = psutil.Process(plain.pid)
        create_time = process.create_time()
        argv = tuple(process.cmdline())
    except psutil.Error:
        return None
    if create_time > plain.written_at + PLAIN_PID_TOLERANCE:
        return None
    return InstanceRecord(
        instance_id=plain.instance_id,
        service=instance.service,
        number=instance.number,
        pid=plain.pid,
        create_time=create_time,
        argv=argv,
        port=instance.port,
        url=instance.url,
        started_at=datetime.fromtimestamp(plain.written_at, UTC).isoformat(timespec="seconds"),
        ports=dict(instance.ports),
        written_by="plain pid file",
    )


def remove_record(pids_dir: Path, instance_id: str) -> None:
    record_path(pids_dir, instance_id).unlink(missing_ok=True)
    pid_path(pids_dir, instance_id).unlink(missing_ok=True)


def liveness(record: InstanceRecord) -> tuple[Liveness, psutil.Process | None]:
    """Whether the recorded process still runs and is the one we started."""
    import psutil  # noqa: PLC0415 - only where a process is looked at (see `exits`)

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
