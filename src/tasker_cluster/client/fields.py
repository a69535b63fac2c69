"""Typed reads from a JSON object that name the response and field when the shape is wrong."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from tasker_cluster.client.errors import ResponseFormatError

JsonObject = Mapping[str, Any]
V = TypeVar("V")

_MISSING = object()


class Fields:
    """Reads of one JSON object of a response from `url`, described as `what`."""

    def __init__(self, raw: object, what: str, url: str) -> None:
        if not isinstance(raw, Mapping):
            raise ResponseFormatError(url, what, f"expected a JSON object, got {raw!r:.200}")
        self.raw: JsonObject = raw
        self.what = what
        self.url = url

    def _get(self, name: str, optional: bool) -> Any:
        value = self.raw.get(name, _MISSING)
        if value is _MISSING:
            if optional:
                return None
            raise ResponseFormatError(self.url, self.what, f"field {name!r} is missing")
        return value

    def _fail(self, name: str, expected: str, value: object) -> ResponseFormatError:
        return ResponseFormatError(
            self.url, self.what, f"field {name!r} should be {expected}, got {value!r:.200}"
        )

    def text(self, name: str) -> str:
        value = self._get(name, optional=False)
        if not isinstance(value, str):
            raise self._fail(name, "a string", value)
        return value

    def opt_text(self, name: str, default: str | None = None) -> str | None:
        value = self._get(name, optional=True)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._fail(name, "a string or null", value)
        return value

    def integer(self, name: str, default: int | None = None) -> int:
        value = self._get(name, optional=default is not None)
        if value is None and default is not None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(name, "an integer", value)
        return value

    def opt_integer(self, name: str) -> int | None:
        value = self._get(name, optional=True)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(name, "an integer or null", value)
        return value

    def number(self, name: str, default: float = 0.0) -> float:
        value = self._get(name, optional=True)
        if value is None:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._fail(name, "a number", value)
        return float(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._get(name, optional=True)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(name, "true or false", value)
        return value

    def ident(self, name: str) -> uuid.UUID:
        return self._convert(name, self.text(name), uuid.UUID, "a UUID")

    def opt_ident(self, name: str) -> uuid.UUID | None:
        value = self.opt_text(name)
        return None if value is None else self._convert(name, value, uuid.UUID, "a UUID or null")

    def opt_time(self, name: str) -> datetime | None:
        value = self.opt_text(name)
        if value is None:
            return None
        return self._convert(name, value, datetime.fromisoformat, "an ISO 8601 timestamp")

    def _convert(self, name: str, value: str, convert: Callable[[str], V], expected: str) -> V:
        """`convert(value)`, a `ResponseFormatError` naming the field when it refuses."""
        try:
            return convert(value)
        except ValueError:
            raise self._fail(name, expected, value) from None

    def mapping(self, name: str) -> JsonObject:
        value = self._get(name, optional=True)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self._fail(name, "an object", value)
        return value

    def items(self, name: str) -> list[Any]:
        value = self._get(name, optional=True)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(name, "a list", value)
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        items = self.items(name)
        if not all(isinstance(item, str) for item in items):
            raise self._fail(name, "a list of strings", items)
        return tuple(items)

    def nested(self, name: str, what: str) -> Fields:
        return Fields(self._get(name, optional=False), what, self.url)
