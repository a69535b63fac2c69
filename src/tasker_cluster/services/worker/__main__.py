"""`python -m tasker_cluster.services.worker [--worker-id ID]`"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from starlette.types import ASGIApp

from ..errors import InvalidEnvironmentError
from ..handlers import HandlerRegistry
from ..identity import resolve_worker_id
from ..settings import ServiceKind, ServiceSettings
from ..startup import EXIT_INVALID_ENVIRONMENT, run_service
from ..store import Database
from ..templates import TemplateRegistry
from .app import WorkerState, build_app
from .runner import WorkerRunner
from .telemetry import WorkerMetrics

logger = logging.getLogger(__name__)

# The poller, the completer and health checks use the database; step executors never do.
WORKER_CONNECTIONS = 3


def _parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tasker_cluster.services.worker")
    parser.add_argument(
        "--worker-id",
        help="worker id used when neither TASKER_WORKER_ID nor TASKER_INSTANCE_ID is set",
    )
    return parser.parse_args(argv)


def build(settings: ServiceSettings, database: Database, worker_id: str) -> ASGIApp:
    registry = TemplateRegistry.from_environ(os.environ)
    namespaces = list(settings.worker_namespaces or registry.namespaces())
    for namespace in set(namespaces) - set(registry.namespaces()):
        logger.warning("no template uses namespace %s; its queue will stay empty", namespace)
    runner = WorkerRunner(
        database,
        settings=settings,
        worker_id=worker_id,
        namespaces=namespaces,
        handlers=HandlerRegistry.builtin(),
        metrics=WorkerMetrics(settings.instance_id or worker_id),
    )
    templates = registry.in_namespaces(namespaces)
    return build_app(WorkerState(settings, worker_id, database, runner, templates, settings.auth))


def main(argv: list[str] | None = None) -> int:
    arguments = _parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        worker_id = resolve_worker_id(os.environ, arguments.worker_id)
    except InvalidEnvironmentError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_INVALID_ENVIRONMENT
    return run_service(
        ServiceKind.WORKER,
        os.environ,
        lambda settings: WORKER_CONNECTIONS,
        lambda settings, database: build(settings, database, worker_id),
    )


if __name__ == "__main__":
    sys.exit(main())
