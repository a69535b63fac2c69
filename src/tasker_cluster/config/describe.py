"""The resolved configuration as rows a person or a script reads: every value, where it came
from, secrets masked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tasker_cluster.config.layers import ORIGIN_ENVIRONMENT, LayeredConfig
from tasker_cluster.config.model import ClusterSettings
from tasker_cluster.secrets import mask

# keys of the process environment worth showing; the rest (PATH, HOME, ...) only with `everything`
SHOWN_FROM_ENVIRONMENT = re.compile(r"^(TASKER_|DATABASE_URL|RABBITMQ|REDIS|RUST_LOG|WORKSPACE)")


@dataclass(frozen=True)
class ConfigEntry:
    key: str
    value: str
    origin: str
    masked: bool


def describe(settings: ClusterSettings, *, everything: bool = False) -> list[ConfigEntry]:
    """Every key of the merged configuration with its resolved value and origin, by key.

    Keys that only the process environment sets are left out unless they concern the cluster
    (`TASKER_*`, `DATABASE_URL`, ...) or `everything` is asked for.
    """
    config = LayeredConfig(settings.layers)
    entries = []
    for key in config.names():
        origin = config.origin(key) or "?"
        hidden = origin == ORIGIN_ENVIRONMENT and not SHOWN_FROM_ENVIRONMENT.match(key)
        if hidden and not everything:
            continue
        raw = config.raw(key) or ""
        value, masked = mask(key, config.expand(key, raw)[0])
        entries.append(ConfigEntry(key, value, origin, masked))
    return entries
