"""Task templates: the steps of a workflow and the context it takes, read from data files."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidFieldError, TemplateError

REPEAT_MARK = "{i}"
_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "any": "a value",
}


@dataclass(frozen=True)
class ContextField:
    """One key of a template's context: its JSON type and bounds."""

    key: str
    type: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: int | None = None
    default: Any = None

    def describe(self) -> str:
        text = _TYPE_NAMES[self.type]
        if self.minimum is not None and self.maximum is not None:
            text += f" in {self.minimum:g}..{self.maximum:g}"
        if self.multiple_of:
            text += f" and a multiple of {self.multiple_of}"
        return text

    def json_schema(self) -> dict[str, Any]:
        """This field as a JSON Schema property (no `type` when any value is accepted)."""
        schema: dict[str, Any] = {} if self.type == "any" else {"type": self.type}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.multiple_of is not None:
            schema["multipleOf"] = self.multiple_of
        return schema

    def check(self, value: object) -> None:
        field = f"context.{self.key}"
        if not _has_type(value, self.type):
            raise InvalidFieldError(field, self.describe(), value)
        if isinstance(value, int | float):
            too_low = self.minimum is not None and value < self.minimum
            too_high = self.maximum is not None and value > self.maximum
            misaligned = (
                self.multiple_of is not None
                and isinstance(value, int)
                and value % self.multiple_of != 0
            )
            if too_low or too_high or misaligned:
                raise InvalidFieldError(field, self.describe(), value)


@dataclass(frozen=True)
class StepSpec:
    """A concrete step of a task, after `repeat` expansion."""

    name: str
    handler: str
    dependencies: tuple[str, ...]
    max_attempts: int
    retryable: bool
    retry_backoff_ms: int


@dataclass(frozen=True)
class StepTemplate:
    """A step of a template; with `repeat` it stands for `context[repeat]` numbered steps."""

    name: str
    handler: str
    dependencies: tuple[str, ...] = ()
    max_attempts: int = 3
    retryable: bool = True
    retry_backoff_ms: int = 100
    repeat: str | None = None

    def names(self, context: Mapping[str, Any]) -> list[str]:
        if self.repeat is None:
            return [self.name]
        count = int(context[self.repeat])
        return [self.name.replace(REPEAT_MARK, str(index)) for index in range(1, count + 1)]

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "handler": self.handler,
            "dependencies": list(self.dependencies),
        }
        if self.repeat is not None:
            described["repeat"] = self.repeat
        return described


@dataclass(frozen=True)
class TaskTemplate:
    namespace: str
    name: str
    version: str
    description: str
    context_fields: tuple[ContextField, ...]
    steps: tuple[StepTemplate, ...]
    identity_strategy: str = "strict"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.name, self.version)

    def validated_context(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The context with defaults filled in; raises `InvalidFieldError` naming the key."""
        completed = dict(context)
        for field in self.context_fields:
            if field.key not in completed:
                if field.required:
                    raise InvalidFieldError(f"context.{field.key}", field.describe(), missing=True)
                if field.default is not None:
                    completed[field.key] = field.default
                continue
            field.check(completed[field.key])
        return completed

    def expand(self, context: Mapping[str, Any]) -> list[StepSpec]:
        """Concrete steps for a validated context, dependencies before dependents."""
        names_of = {step.name: step.names(context) for step in self.steps}
        specs: list[StepSpec] = []
        for step in self.steps:
            dependencies = tuple(name for dep in step.dependencies for name in names_of[dep])
            specs.extend(
                StepSpec(
                    name=name,
                    handler=step.handler,
                    dependencies=dependencies,
                    max_attempts=step.max_attempts,
                    retryable=step.retryable,
                    retry_backoff_ms=step.retry_backoff_ms,
                )
                for name in names_of[step.name]
            )
        return specs

    def describe(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "steps": [step.describe() for step in self.steps],
        }

    def summary(self) -> dict[str, Any]:
        """Upstream's `TemplateSummary` (and our step list beside it)."""
        return {**self.describe(), "step_count": len(self.steps)}

    def detail(self) -> dict[str, Any]:
        """Upstream's `TemplateDetail`."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "configuration": {
                "identity_strategy": self.identity_strategy,
                "context": {field.key: field.describe() for field in self.context_fields},
            },
            "steps": [
                {
                    **step.describe(),
                    "description": None,
                    "default_retryable": step.retryable,
                    "default_max_attempts": step.max_attempts,
                }
                for step in self.steps
            ],
        }


IDENTITY_STRATEGIES = frozenset({"strict", "caller_provided", "always_unique"})


def _has_type(value: object, type_name: str) -> bool:
    if type_name == "any":
        return True
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "array":
        return isinstance(value, list)
    if isinstance(value, bool):
        return False
    if type_name == "integer":
        return isinstance(value, int)
    if type_name == "number":
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return isinstance(value, str)


def parse_template(source: str, data: object) -> TaskTemplate:
    """Build a template from decoded JSON; raises `TemplateError` naming the problem."""
    try:
        if not isinstance(data, dict):
            raise TypeError("the document must be a JSON object")
        fields = tuple(
            ContextField(key=key, **spec) for key, spec in data.get("context", {}).items()
        )
        steps = tuple(
            StepTemplate(**{**step, "dependencies": tuple(step.get("dependencies", ()))})
            for step in data["steps"]
        )
        template = TaskTemplate(
            namespace=data["namespace"],
            name=data["name"],
            version=data["version"],
            description=data.get("description", ""),
            context_fields=fields,
            steps=steps,
            identity_strategy=data.get("identity_strategy", "strict"),
        )
        if template.identity_strategy not in IDENTITY_STRATEGIES:
            raise ValueError(
                f"identity_strategy must be one of {sorted(IDENTITY_STRATEGIES)},"
                f" got {template.identity_strategy!r}"
            )
    except (KeyError, TypeError, ValueError) as error:
        raise TemplateError(source, f"{type(error).__name__}: {error}") from error
    check_structure(source, template)
    return template


def check_structure(source: str, template: TaskTemplate) -> None:
    seen: set[str] = set()
    keys = {field.key for field in template.context_fields}
    for step in template.steps:
        if step.name in seen:
            raise TemplateError(source, f"step {step.name!r} is defined twice")
        missing = [dep for dep in step.dependencies if dep not in seen]
        if missing:
            raise TemplateError(
                source, f"step {step.name!r} depends on {missing}, which are not defined before it"
            )
        if step.repeat is not None and (step.repeat not in keys or REPEAT_MARK not in step.name):
            raise TemplateError(
                source,
                f"step {step.name!r} repeats over {step.repeat!r}: the context must declare it "
                f"and the name must contain {REPEAT_MARK}",
            )
        if step.max_attempts < 1:
            raise TemplateError(source, f"step {step.name!r} needs max_attempts >= 1")
        seen.add(step.name)
