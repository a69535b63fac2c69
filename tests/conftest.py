"""Suite-wide: every `async def` test runs on anyio's pytest plugin (`anyio_mode = "auto"` in
pyproject.toml), on asyncio only; the cluster services and clients are asyncio code."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
