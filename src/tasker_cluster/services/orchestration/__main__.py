"""`python -m tasker_cluster.services.orchestration`"""

from __future__ import annotations

import os
import sys

from starlette.types import ASGIApp

from ..settings import ServiceKind, ServiceSettings
from ..startup import run_service
from ..store import Database
from ..templates import TemplateRegistry
from .app import build_app
from .loop import OrchestrationLoop
from .state import OrchestrationState
from .telemetry import OrchestrationMetrics

# Connections for API requests; the orchestration loop uses one more.
API_CONNECTIONS = 4


def build(settings: ServiceSettings, database: Database) -> ASGIApp:
    metrics = OrchestrationMetrics(settings.display_id)
    loop = OrchestrationLoop(database, settings, metrics)
    state = OrchestrationState(
        settings,
        database,
        TemplateRegistry.from_environ(os.environ),
        metrics,
        loop,
        auth=settings.auth,
    )
    return build_app(state)


def main() -> int:
    return run_service(
        ServiceKind.ORCHESTRATION, os.environ, lambda settings: API_CONNECTIONS + 1, build
    )


if __name__ == "__main__":
    sys.exit(main())
