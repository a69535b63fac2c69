"""tasker-core's `TaskRequest`, the body of `POST /v1/tasks`: its fields, the rules every
database can store, its JSON shape and its JSON schema, in one place.

The client builds one (`tasker_cluster.client.TaskRequest` adds builders for the reference
templates), `to_json` sends it; the orchestration service checks a received body against
`REQUIRED_FIELDS` and the limits here and parses it into the same class, which the store
writes; the served OpenAPI document describes it with `FIELD_SCHEMAS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# What every database can store, and what tasker-core's schema types allow
TEXT_LIMIT = 1000
MAX_TAGS = 100
INT32 = (-(2**31), 2**31 - 1)
NO_NUL_PATTERN = r"^[^\u0000]*$"
# the component of the served document that describes a JSON value without NUL at any depth
NUL_FREE_VALUE = "NulFreeValue"

# Fields tasker-core's `TaskRequest` schema requires, in its order
REQUIRED_FIELDS = (
    "name",
    "namespace",
    "version",
    "context",
    "initiator",
    "source_system",
    "reason",
    "tags",
    "requested_at",
    "correlation_id",
)

Schema = dict[str, Any]
TEXT_SCHEMA: Schema = {"type": "string", "maxLength": TEXT_LIMIT, "pattern": NO_NUL_PATTERN}
_UUID: Schema = {"type": "string", "format": "uuid"}
NUL_FREE_OBJECT_SCHEMA: Schema = {
    "type": "object",
    "propertyNames": {"pattern": NO_NUL_PATTERN},
    "additionalProperties": {"$ref": f"#/components/schemas/{NUL_FREE_VALUE}"},
}
# The JSON schema of every field but the ones a template decides (name, namespace, version,
# context), as the services accept them
FIELD_SCHEMAS: dict[str, Schema] = {
    "initiator": TEXT_SCHEMA,
    "source_system": TEXT_SCHEMA,
    "reason": TEXT_SCHEMA,
    "tags": {"type": "array", "items": TEXT_SCHEMA, "maxItems": MAX_TAGS},
    "priority": {"type": "integer", "minimum": INT32[0], "maximum": INT32[1], "nullable": True},
    "requested_at": {"type": "string", "format": "date-time"},
    "correlation_id": _UUID,
    "parent_correlation_id": {**_UUID, "nullable": True},
    "idempotency_key": {**TEXT_SCHEMA, "nullable": True},
    # every database must store it: no NUL in any key or string, at any depth
    "options": {**NUL_FREE_OBJECT_SCHEMA, "nullable": True},
}


def _new_key() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TaskRequest:
    """A request for one task of template `namespace/name/version` with `context`.

    Built by a client the defaults fill in what tasker-core requires: a new correlation id,
    the time of building, and one idempotency key per request object, so sending the same
    request again (a retry after a lost answer, on any instance) answers the task it created
    instead of creating a second one; set `idempotency_key=None` to rely on the template's
    identity strategy alone. Parsed by a service every field comes from the body.
    """

    name: str
    namespace: str
    context: Mapping[str, Any]
    version: str = "1.0.0"
    initiator: str = "tasker-cluster-tests"
    source_system: str = "tasker-cluster"
    reason: str = ""
    tags: Sequence[str] = ()
    priority: int = 0
    correlation_id: uuid.UUID = field(default_factory=uuid.uuid4)
    parent_correlation_id: uuid.UUID | None = None
    options: Mapping[str, Any] | None = None
    idempotency_key: str | None = field(default_factory=_new_key)
    requested_at: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """tasker-core's `TaskRequest` JSON, every field it requires included."""
        return {
            "requested_at": self.requested_at.isoformat().replace("+00:00", "Z"),
            "idempotency_key": self.idempotency_key,
            "name": self.name,
            "namespace": self.namespace,
            "version": self.version,
            "context": dict(self.context),
            "initiator": self.initiator,
            "source_system": self.source_system,
            "reason": self.reason,
            "tags": list(self.tags),
            "priority": self.priority,
            "correlation_id": str(self.correlation_id),
            "parent_correlation_id": (
                str(self.parent_correlation_id) if self.parent_correlation_id else None
            ),
            "options": dict(self.options) if self.options is not None else None,
        }
