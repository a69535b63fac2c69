"""tasker-core's data files, read where they are (../shared/upstream, never copied here), and
schemathesis run over its OpenAPI documents."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# ../shared next to the project, or wherever TASKER_UPSTREAM_SCHEMAS points (a copy of the tree)
SCHEMAS = Path(
    os.environ.get("TASKER_UPSTREAM_SCHEMAS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "upstream" / "schemas"
)
UPSTREAM = SCHEMAS.parent


def require(path: Path, what: str) -> Path:
    """`path`, or a skip saying where it was looked for and how to point at it."""
    if not path.exists():
        pytest.skip(
            f"{what} is not at {path} (../shared is absent; set TASKER_UPSTREAM_SCHEMAS to the"
            " folder of tasker-core's schemas to run this test)"
        )
    return path


def run_schemathesis(
    document: Path, url: str, workdir: Path, *options: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`st run document --url url` with `options`, one worker and a fixed seed, in `workdir`
    (where schemathesis leaves its `.schemathesis/` folder)."""
    command = shutil.which("st", path=str(Path(sys.executable).parent))
    assert command, "the schemathesis command line (st) is not installed next to this Python"
    global_options = ["--config-file", str(config)] if config is not None else []
    return subprocess.run(
        [
            command,
            *global_options,
            "run",
            str(document),
            "--url",
            url,
            *options,
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=workdir,
        check=False,
    )
