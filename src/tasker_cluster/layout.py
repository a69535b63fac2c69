"""The layout of a cluster directory (`TASKER_CLUSTER_DIR`), shared by the lifecycle library
and the reference services: records in `.pids/`, logs in `.logs/`, the embedded database in
`.data/`, run manifests in `manifests/`."""

from __future__ import annotations

PIDS_DIR = ".pids"
LOGS_DIR = ".logs"
DATA_DIR = ".data"
MANIFESTS_DIR = "manifests"
LOCK_FILE = ".lock"
LOG_SUFFIX = ".log"
DATABASE_FILE = "tasker.sqlite3"  # the embedded database, in DATA_DIR
