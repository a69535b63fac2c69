"""Validating requests by hand, with a 4xx message that names the field and what it must be."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...states import TaskState
from ..errors import InvalidFieldError, InvalidParameterError, MalformedJsonError
from ..store.tasks import TaskRequest

IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
UUID_TEXT = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
NO_NUL_PATTERN = r"^[^\u0000]*$"
IDENTIFIER_RULE = "a string of 1..128 letters, digits, '_', '.' or '-'"
TEXT_LIMIT = 1000
MAX_TAGS = 100
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


def parse_task_request(body: bytes) -> TaskRequest:
    data = decode_json(body)
    if not isinstance(data, dict):
        raise InvalidFieldError("body", "a JSON object", data)
    if "context" not in data:
        raise InvalidFieldError("context", "a JSON object", missing=True)
    context = _object(data["context"], "context", nullable=False)
    tags = data.get("tags", [])
    if not _text_list(tags):
        raise InvalidFieldError(
            "tags", f"an array of at most {MAX_TAGS} strings without NUL characters", tags
        )
    priority = data.get("priority", 0)
    low, high = PRIORITY_RANGE
    if isinstance(priority, bool) or not isinstance(priority, int) or not low <= priority <= high:
        raise InvalidFieldError("priority", f"an integer in {low}..{high}", priority)
    correlation = data.get("correlation_id")
    parent = data.get("parent_correlation_id")
    return TaskRequest(
        name=_text(data, "name", None, pattern=True),
        namespace=_text(data, "namespace", None, pattern=True),
        version=_text(data, "version", "1.0.0", pattern=True),
        context=context or {},
        initiator=_text(data, "initiator", ""),
        source_system=_text(data, "source_system", ""),
        reason=_text(data, "reason", ""),
        tags=list(tags),
        priority=priority,
        correlation_id=str(uuid.uuid4())
        if correlation is None
        else _uuid(correlation, "correlation_id"),
        parent_correlation_id=None if parent is None else _uuid(parent, "parent_correlation_id"),
        options=_object(data.get("options"), "options", nullable=True),
    )


def path_uuid(value: str, name: str) -> str:
    if not UUID_TEXT.fullmatch(value):
        raise InvalidParameterError(name, value, "a UUID")
    return str(uuid.UUID(value))


@dataclass(frozen=True)
class TaskListQuery:
    page: int
    per_page: int
    namespace: str | None
    status: str | None


def _positive(query: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= maximum:
        raise InvalidParameterError(name, text, f"an integer in 1..{maximum}")
    return int(text)


def parse_task_list_query(query: Mapping[str, str]) -> TaskListQuery:
    namespace = query.get("namespace")
    if namespace is not None and not IDENTIFIER.fullmatch(namespace):
        raise InvalidParameterError("namespace", namespace, IDENTIFIER_RULE)
    status = query.get("status")
    if status is not None and status not in {state.value for state in TaskState}:
        raise InvalidParameterError("status", status, "a task state: " + ", ".join(TaskState))
    return TaskListQuery(
        page=_positive(query, "page", 1, 1_000_000),
        per_page=_positive(query, "per_page", 25, MAX_PER_PAGE),
        namespace=namespace,
        status=status,
    )
