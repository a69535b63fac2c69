"""`{placeholder}` substitution in one argv element or path, never through a shell.

`{port}` is the REST port, `{port:grpc}` a named port, `{port+1}` an offset from either.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_PLACEHOLDER = re.compile(
    r"\{(python|instance_id|number|port(?::[a-z0-9-]+)?|host|project_root|cluster_dir)"
    r"(?:\+(\d{1,5}))?\}"
)


@dataclass(frozen=True)
class PlaceholderValues:
    """What the placeholders of one instance stand for."""

    instance_id: str
    number: int
    port: int
    host: str
    project_root: Path
    cluster_dir: Path
    ports: Mapping[str, int] = field(default_factory=dict)


def substitute(text: str, values: PlaceholderValues) -> str:
    """Replace known placeholders; unknown braces (e.g. JSON in an argument) stay as they are."""

    def replace(match: re.Match[str]) -> str:
        name, offset = match.group(1), match.group(2)
        if name.startswith("port:"):
            port = values.ports.get(name.removeprefix("port:"))
            return match.group(0) if port is None else str(port + int(offset or 0))
        if offset is not None:
            return str(values.port + int(offset)) if name == "port" else match.group(0)
        known = {
            "python": sys.executable,
            "instance_id": values.instance_id,
            "number": str(values.number),
            "port": str(values.port),
            "host": values.host,
            "project_root": str(values.project_root),
            "cluster_dir": str(values.cluster_dir),
        }
        return known[name]

    return _PLACEHOLDER.sub(replace, text)


def resolve_workdir(template: str, values: PlaceholderValues) -> Path:
    """A working directory with placeholders substituted; relative to the project root."""
    workdir = Path(substitute(template, values)).expanduser()
    return workdir if workdir.is_absolute() else values.project_root / workdir
