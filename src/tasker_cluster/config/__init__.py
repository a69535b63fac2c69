"""Cluster configuration: built-in defaults < env file(s) < process environment < overrides."""

from tasker_cluster.config.loader import (
    BUILTIN_DEFAULTS,
    DEFAULT_ENV_FILE,
    PROJECT_ROOT,
    load_settings,
)
from tasker_cluster.config.model import ClusterSettings, ServiceType

__all__ = [
    "BUILTIN_DEFAULTS",
    "DEFAULT_ENV_FILE",
    "PROJECT_ROOT",
    "ClusterSettings",
    "ServiceType",
    "load_settings",
]
