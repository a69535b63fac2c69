"""Starting a service process: validate, log, listen, connect, serve, exit with a status."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping

from starlette.types import ASGIApp

from .errors import InvalidEnvironmentError, TemplateError
from .identity import configure_logging
from .settings import ServiceKind, ServiceSettings
from .store import Database, StorageError, open_database
from .web import PortUnavailableError, bind_socket, serve

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID_ENVIRONMENT = 2
SCHEMA_ATTEMPT_SECONDS = 10.0


def prepare_database(settings: ServiceSettings, pool_size: int) -> Database:
    """Open the database and create the schema, retrying a briefly unreachable server."""
    database = open_database(settings.database_url, pool_size)
    deadline = time.monotonic() + SCHEMA_ATTEMPT_SECONDS
    while True:
        try:
            database.ensure_schema()
            return database
        except StorageError as error:
            if time.monotonic() >= deadline:
                database.close()
                raise
            logger.warning("database not ready yet (%s); retrying", error)
            time.sleep(0.5)


def run_service(
    kind: ServiceKind,
    environ: Mapping[str, str],
    pool_size: Callable[[ServiceSettings], int],
    build_app: Callable[[ServiceSettings, Database], ASGIApp],
) -> int:
    try:
        settings = ServiceSettings.from_environ(kind, environ)
    except InvalidEnvironmentError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_INVALID_ENVIRONMENT
    configure_logging(settings.instance_id, settings.log_level)
    try:
        sock = bind_socket(settings.host, settings.port)
    except PortUnavailableError as error:
        logger.error("%s", error)
        return EXIT_FAILURE
    try:
        database = prepare_database(settings, pool_size(settings))
    except StorageError as error:
        logger.error("cannot start: %s", error)
        sock.close()
        return EXIT_FAILURE
    try:
        app = build_app(settings, database)
    except TemplateError as error:
        logger.error("cannot start: %s", error)
        sock.close()
        database.close()
        return EXIT_INVALID_ENVIRONMENT
    try:
        logger.info(
            "%s %s listening on http://%s:%d (database: %s, faults: %s)",
            kind.value,
            settings.display_id,
            settings.host,
            settings.port,
            database.dialect.name,
            settings.faults.describe(),
        )
        serve(app, sock)
    finally:
        database.close()
    logger.info("%s %s stopped", kind.value, settings.display_id)
    return EXIT_OK
