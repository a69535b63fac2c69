"""Package attributes imported on first use, so importing a package stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `name` from `exports[name]` when asked.

    A module given with a leading dot is relative to `package` (`.manager`); any other is a full
    module path (`tasker_cluster.client.models`).
    """

    def get_attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = f"{package}{module}" if module.startswith(".") else module
        return getattr(import_module(target), name)

    return get_attribute
