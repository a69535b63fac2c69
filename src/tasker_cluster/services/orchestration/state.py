"""What the orchestration routes share: settings, database, templates, metrics and the loop."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ..auth import AuthSettings
from ..errors import PayloadTooLargeError
from ..settings import ServiceSettings
from ..store.database import Database
from ..templates import TemplateRegistry
from ..web import iso
from .loop import OrchestrationLoop
from .telemetry import OrchestrationMetrics

MAX_BODY_BYTES = 1_048_576


@dataclass
class OrchestrationState:
    settings: ServiceSettings
    database: Database
    templates: TemplateRegistry
    metrics: OrchestrationMetrics
    loop: OrchestrationLoop
    auth: AuthSettings = field(default_factory=AuthSettings)
    started_at: float = field(default_factory=time.monotonic)
    # Only used by the `stale_reads` fault: task uuid -> (expires at, response body).
    read_cache: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    @staticmethod
    def of(request: Request) -> OrchestrationState:
        """The state `build_app` put on the application."""
        state: OrchestrationState = request.app.state.orchestration
        return state

    @property
    def instance(self) -> str:
        return self.settings.display_id

    @staticmethod
    def iso(timestamp: float) -> str | None:
        return iso(timestamp)

    @staticmethod
    async def read_body(request: Request) -> bytes:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise PayloadTooLargeError(MAX_BODY_BYTES)
        return body
