"""Configuration layers merged in precedence order, remembering where every value came from."""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tasker_cluster.config.errors import EnvFileNotFoundError

ORIGIN_DEFAULTS = "built-in defaults"
ORIGIN_ENVIRONMENT = "the process environment"
ORIGIN_OVERRIDES = "overrides"

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_REFERENCE_DEPTH = 10


@dataclass(frozen=True)
class ConfigLayer:
    """One source of values; `expands` says whether `${NAME}` references in it are resolved."""

    values: Mapping[str, str]
    origins: Mapping[str, str] = field(default_factory=dict)
    default_origin: str = ORIGIN_OVERRIDES
    expands: bool = False

    def origin(self, key: str) -> str:
        return self.origins.get(key, self.default_origin)


class LayeredConfig:
    """`ChainMap` over layers (first wins) that can say which layer each key came from."""

    def __init__(self, layers: Sequence[ConfigLayer]) -> None:
        self.layers = tuple(layers)
        self.merged: ChainMap[str, str] = ChainMap(*(dict(layer.values) for layer in self.layers))

    def raw(self, key: str) -> str | None:
        return self.merged.get(key)

    def layer_of(self, key: str) -> ConfigLayer | None:
        return next((layer for layer in self.layers if key in layer.values), None)

    def origin(self, key: str) -> str | None:
        layer = self.layer_of(key)
        return None if layer is None else layer.origin(key)

    def names(self) -> list[str]:
        return sorted(self.merged)

    def expand(self, key: str, text: str) -> tuple[str, list[str]]:
        """Resolve `${NAME}` in `text` (a value of `key`) against the merged configuration.

        Returns the expanded text and the names that are referenced but not set.
        """
        layer = self.layer_of(key)
        if layer is None or not layer.expands:
            return text, []
        missing: list[str] = []
        return self._expand(text, missing, depth=0), missing

    def _expand(self, text: str, missing: list[str], depth: int) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            value = self.merged.get(name)
            if value is None or depth >= MAX_REFERENCE_DEPTH:
                missing.append(name)
                return match.group(0)
            layer = self.layer_of(name)
            if layer is not None and layer.expands:
                return self._expand(value, missing, depth + 1)
            return value

        return _REFERENCE.sub(replace, text)


def resolve_env_file(path: Path, project_root: Path, cwd: Path) -> Path:
    """An env file given as absolute, relative to the working directory, or to the project."""
    candidates = [path] if path.is_absolute() else [cwd / path, project_root / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    searched = dict.fromkeys(candidate.parent for candidate in candidates)
    raise EnvFileNotFoundError(path, list(searched))


def display_path(path: Path, project_root: Path) -> str:
    try:
        return str(path.relative_to(project_root))
    except ValueError:
        return str(path)


INCLUDE_KEY = "TASKER_ENV_INCLUDE"


def read_env_file(path: Path) -> dict[str, str]:
    """The values of one env file as written (no `${NAME}` resolved)."""
    from dotenv import dotenv_values  # noqa: PLC0415 - only needed when a profile is read

    return {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}


def expand_text(text: str, values: Mapping[str, str], project_root: Path | None = None) -> str:
    """`${NAME}` from `values` (unknown names stay as written); `{project_root}` too, if given."""
    expanded = _REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return (
        expanded if project_root is None else expanded.replace("{project_root}", str(project_root))
    )


def env_file_layer(
    paths: Iterable[Path],
    project_root: Path,
    cwd: Path,
    environ: Mapping[str, str] | None = None,
) -> ConfigLayer:
    """Read env files in order; a later file overrides an earlier one, key by key.

    A file may layer others under itself with `TASKER_ENV_INCLUDE=<path> ...` (paths relative
    to the including file; `${NAME}` resolved from the process environment, then the file).
    """
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    visited: set[Path] = set()

    def load(path: Path) -> None:
        if path in visited:
            return
        visited.add(path)
        own = read_env_file(path)
        for item in own.get(INCLUDE_KEY, "").split():
            scope = ChainMap(dict(environ or {}), own, values)
            included = Path(expand_text(item, scope, project_root)).expanduser()
            if not included.is_absolute():
                included = path.parent / included
            if not included.is_file():
                raise EnvFileNotFoundError(included, [included.parent], included_by=path)
            load(included.resolve())
        label = display_path(path, project_root)
        for key, value in own.items():
            values[key] = value
            origins[key] = label

    for given in paths:
        load(resolve_env_file(given, project_root, cwd))
    return ConfigLayer(values, origins, expands=True)
