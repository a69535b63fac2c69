"""Validating requests by hand, with a 4xx message that names the field and what it must be."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...api.task_request import (
    INT32,
    MAX_TAGS,
    REQUIRED_FIELDS,
    TEXT_LIMIT,
    TaskRequest,
)
from ..errors import InvalidFieldError, InvalidParameterError, MalformedJsonError

IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
UUID_TEXT = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
IDENTIFIER_RULE = "a string of 1..128 letters, digits, '_', '.' or '-'"
PRIORITY_RANGE = (-100, 100)
MAX_PER_PAGE = 100


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(body: bytes) -> object:
    try:
        return json.loads(body, parse_float=_finite_float, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedJsonError(str(error) or type(error).__name__) from error


def _text(data: Mapping[str, Any], field: str, default: str | None, pattern: bool = False) -> str:
    value = data.get(field, default)
    rule = IDENTIFIER_RULE if pattern else f"a string of at most {TEXT_LIMIT} characters"
    if value is None:
        raise InvalidFieldError(field, rule, missing=True)
    if not isinstance(value, str):
        raise InvalidFieldError(field, rule, value)
    if pattern and not IDENTIFIER.fullmatch(value):
        raise InvalidFieldError(field, rule, value)
    if not _storable(value):
        raise InvalidFieldError(field, rule + " without NUL characters", value)
    return value


def _storable(value: str) -> bool:
    """Within the length limit, and text every database can store (no NUL, valid UTF-8)."""
    if len(value) > TEXT_LIMIT or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_list(value: object) -> bool:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        return False
    return all(isinstance(item, str) and _storable(item) for item in value)


def _uuid(value: object, field: str) -> str:
    if isinstance(value, str) and UUID_TEXT.fullmatch(value):
        return str(uuid.UUID(value))
    raise InvalidFieldError(field, "a UUID string like 123e4567-e89b-12d3-a456-426614174000", value)


def _object(value: object, field: str, nullable: bool) -> dict[str, Any] | None:
    if value is None and nullable:
        return None
    if not isinstance(value, dict):
        raise InvalidFieldError(field, "a JSON object" + (" or null" if nullable else ""), value)
    return value


# the required fields that are strings
REQUIRED_TEXT = tuple(
    f for f in REQUIRED_FIELDS if f not in ("context", "tags", "requested_at", "correlation_id")
)
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$")


def _required_text(data: Mapping[str, Any], field: str) -> str:
    if field not in data:
        raise InvalidFieldError(field, "a string", missing=True)
    value = data[field]
    if not isinstance(value, str):
        raise InvalidFieldError(field, "a string", value)
    return value


def _timestamp(value: object, field: str) -> datetime:
    """An RFC 3339 date-time, aware (UTC when it names no offset)."""
    rule = "an RFC 3339 date-time like 2026-01-31T12:00:00Z"
    if not isinstance(value, str) or not DATE_TIME.fullmatch(value):
        raise InvalidFieldError(field, rule, value)
    text = value.upper().replace(" ", "T").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidFieldError(field, rule, value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def parse_task_request(body: bytes) -> TaskRequest:
    """tasker-core's `TaskRequest`: every field it requires (`name, namespace, version,
    context, initiator, source_system, reason, tags, requested_at, correlation_id`), typed as
    its schema types them; what the template accepts is checked afterwards (`check_storable`,
    the template's context rules)."""
    data = decode_json(body)
    if not isinstance(data, dict):
        raise InvalidFieldError("body", "a JSON object (a TaskRequest)", data)
    texts = {field: _required_text(data, field) for field in REQUIRED_TEXT}
    if "context" not in data:
        raise InvalidFieldError("context", "a JSON object", missing=True)
    context = data["context"]
    if "tags" not in data:
        raise InvalidFieldError("tags", "an array of strings", missing=True)
    tags = data["tags"]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidFieldError("tags", "an array of strings", tags)
    if "requested_at" not in data:
        raise InvalidFieldError("requested_at", "an RFC 3339 date-time", missing=True)
    requested_at = _timestamp(data["requested_at"], "requested_at")
    if "correlation_id" not in data:
        raise InvalidFieldError("correlation_id", "a UUID string", missing=True)
    correlation = uuid.UUID(_uuid(data["correlation_id"], "correlation_id"))
    priority = data.get("priority")
    low, high = INT32
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or not low <= priority <= high
    ):
        raise InvalidFieldError("priority", "a 32-bit integer or null", priority)
    parent = data.get("parent_correlation_id")
    key = data.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        raise InvalidFieldError("idempotency_key", "a string or null", key)
    return TaskRequest(
        name=texts["name"],
        namespace=texts["namespace"],
        version=texts["version"],
        context=context,
        initiator=texts["initiator"],
        source_system=texts["source_system"],
        reason=texts["reason"],
        tags=tuple(tags),
        priority=priority or 0,
        correlation_id=correlation,
        parent_correlation_id=(
            None if parent is None else uuid.UUID(_uuid(parent, "parent_correlation_id"))
        ),
        options=_object(data.get("options"), "options", nullable=True),
        requested_at=requested_at,
        idempotency_key=key,
    )


def check_storable(request: TaskRequest) -> None:
    """Text every backend can store: at most 1000 characters, no NUL, valid UTF-8."""
    for field in ("initiator", "source_system", "reason"):
        value = getattr(request, field)
        if not _storable(value):
            raise InvalidFieldError(
                field, f"a string of at most {TEXT_LIMIT} characters without NUL", value
            )
    tags = list(request.tags)
    if not _text_list(tags):
        raise InvalidFieldError(
            "tags", f"an array of at most {MAX_TAGS} strings without NUL characters", tags
        )
    key = request.idempotency_key
    if key is not None and not _storable(key):
        raise InvalidFieldError("idempotency_key", "a string of at most 1000 characters", key)
    if request.options is not None and "\\u0000" in json.dumps(request.options):
        raise InvalidFieldError("options", "an object without NUL characters", request.options)


def path_uuid(value: str, name: str) -> str | None:
    """The canonical form of a path UUID, or None when `value` is not one: upstream types
    these parameters as plain strings, so a non-UUID is simply a task or step that does not
    exist (404), not a malformed request."""
    if not UUID_TEXT.fullmatch(value):
        return None
    return str(uuid.UUID(value))


@dataclass(frozen=True)
class TaskListQuery:
    page: int
    per_page: int
    filters: dict[str, str]


def _count(query: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    """A non-negative integer parameter (upstream: minimum 0); 0 means the default, and a
    value above `maximum` is clamped to it. An empty value is refused, as upstream's query
    decoding does (`?page=` is not an integer)."""
    text = query.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"\+?[0-9]{1,12}", text):
        raise InvalidParameterError(name, text, "an integer of 0 or more")
    value = int(text)
    return min(value, maximum) if value else default


def parse_task_list_query(query: Mapping[str, str]) -> TaskListQuery:
    filters = {
        name: query[name]
        for name in ("namespace", "status", "initiator", "source_system")
        if query.get(name) is not None
    }
    return TaskListQuery(
        page=_count(query, "page", 1, 1_000_000_000),
        per_page=_count(query, "per_page", 25, MAX_PER_PAGE),
        filters=filters,
    )


def optional_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter where upstream documents no 400: an unreadable or
    out-of-range value falls back to `default` or is clamped."""
    text = query.get(name)
    if text is None or not re.fullmatch(r"[+-]?[0-9]{1,18}", text.strip()):
        return default
    return max(low, min(high, int(text)))
