"""tasker-core's YAML task templates (its `task-template.json` schema), read into our model.

What the engine takes from a template:

- `namespace_name`, `name`, `version`, `description`; `identity_strategy` (optional, top level);
- `input_schema`: the context check. Per property `type` (integer, number, string, boolean,
  object, array), `minimum`, `maximum`, `multipleOf`, `default`, and the `required` list; other
  JSON Schema keywords are accepted and not checked;
- per step `name`, `handler.callable` (bound to one of our handlers: see `handlers.py`),
  `dependencies` (in any order: steps are sorted so that dependencies come first), `retry`
  (`retryable`; `max_attempts`, which tasker-core's own templates use, or the schema's `limit`,
  both counting attempts; `backoff_base_ms`, doubled per attempt up to 30 s; `backoff: none`
  retries at once), and our extension `repeat: <context key>`: the step stands for
  `context[key]` steps named `<name>_1` .. `<name>_N`, and depending on it means all of them;
- `environments.<TASKER_ENV>.steps`: `retry` overrides by step name (or `ALL`).

`timeout_seconds`, `handler.initialization`, `system_dependency`, `publishes_events` and
`metadata` are validated where the schema types them and otherwise ignored.

PyYAML is imported only when a template is read.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import TemplateError
from ..handlers import bound_handler_name
from .model import (
    IDENTITY_STRATEGIES,
    REPEAT_MARK,
    ContextField,
    StepTemplate,
    TaskTemplate,
    check_structure,
)

TEMPLATE_SUFFIXES = (".yaml", ".yml")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
# The schema asks for `Module::Class` paths; tasker-core's Python templates name dotted module
# paths (`linear_workflow.step_handlers.LinearStep1Handler`), so both are accepted.
CALLABLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:(?:::|\.)[A-Za-z_][A-Za-z0-9_]*)*$")
BACKOFFS = ("none", "linear", "exponential", "fibonacci")
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF_BASE_MS = 1000  # the schema's default
MIN_BACKOFF_BASE_MS = 100
MIN_MAX_BACKOFF_MS = 1000
MAX_RETRY_LIMIT = 10
MAX_TIMEOUT_SECONDS = 3600
CONTEXT_TYPES = ("integer", "number", "string", "boolean", "object", "array")
_DESCRIBED_TYPES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    type(None): "empty (null)",
}


def load_directory(folder: Path, environment: str | None = None) -> list[TaskTemplate]:
    """Every `*.yaml`/`*.yml` template under `folder` (recursively, in path order)."""
    if not folder.is_dir():
        raise TemplateError(
            str(folder),
            "TASKER_TEMPLATE_PATH must name a directory of tasker-core YAML task templates, and"
            " this path is not a directory; point it at the folder holding the *.yaml files",
        )
    found: dict[tuple[str, str, str], Path] = {}
    templates: list[TaskTemplate] = []
    paths = sorted(path for path in folder.rglob("*") if path.suffix in TEMPLATE_SUFFIXES)
    for path in paths:
        if not path.is_file():
            continue
        template = load_file(path, environment)
        if template.key in found:
            raise TemplateError(
                str(path),
                f"template {'/'.join(template.key)} is also defined in {found[template.key]};"
                " give one of them another namespace_name, name or version",
            )
        found[template.key] = path
        templates.append(template)
    return templates


def load_file(path: Path, environment: str | None = None) -> TaskTemplate:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(str(path), f"cannot be read: {error}") from error
    return parse_yaml(str(path), text, environment)


def parse_yaml(source: str, text: str, environment: str | None = None) -> TaskTemplate:
    """A template from YAML text; `source` (a file name) is named in every error."""
    # Imported here, only when templates are read (and untyped: PyYAML ships no stubs).
    yaml: Any = importlib.import_module("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        raise TemplateError(source, f"is not valid YAML: {error}") from error
    return template_from_document(source, document, environment)


def template_from_document(
    source: str, document: object, environment: str | None = None
) -> TaskTemplate:
    """A template from a decoded YAML document, validated as tasker-core's schema requires."""
    return _Reader(source).template(document, environment)


def _kind(value: object) -> str:
    return _DESCRIBED_TYPES.get(type(value), type(value).__name__)


class _Reader:
    """Reads one document; every problem names the file, the field and what to write there."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, problem: str, fix: str) -> TemplateError:
        return TemplateError(self.source, f"field '{field}' {problem}; {fix}")

    def mapping(self, value: object, field: str, fix: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field, f"must be a mapping, got {_kind(value)}", fix)
        return value

    def optional_mapping(self, data: Mapping[str, Any], key: str, field: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        return self.mapping(value, field, f"write '{key}:' as a mapping of keys, or leave it out")

    def name(self, data: Mapping[str, Any], key: str, field: str, example: str) -> str:
        if key not in data:
            raise self.fail(field, "is required", f"add '{key}: {example}'")
        value = data[key]
        if not isinstance(value, str) or not NAME_PATTERN.match(value):
            raise self.fail(
                field,
                f"must match ^[a-z][a-z0-9_]*$ (lower case, digits, '_'), got {value!r}",
                f"write e.g. '{key}: {example}'",
            )
        return value

    def integer(
        self,
        data: Mapping[str, Any],
        key: str,
        field: str,
        bounds: tuple[int | None, int | None],
    ) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        low, high = bounds
        is_integer = isinstance(value, int) and not isinstance(value, bool)
        if (
            not is_integer
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            span = f"{'' if low is None else low}..{'' if high is None else high}"
            raise self.fail(
                field, f"must be an integer in {span}, got {value!r}", f"write '{key}: <n>'"
            )
        return int(value)

    def template(self, document: object, environment: str | None) -> TaskTemplate:
        data = self.mapping(
            document,
            "(document)",
            "a template is a mapping with name, namespace_name, version and steps",
        )
        name = self.name(data, "name", "name", "my_task")
        namespace = self.name(data, "namespace_name", "namespace_name", "my_namespace")
        version = self.version(data)
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            raise self.fail(
                "description", f"must be a string, got {_kind(description)}", "quote the text"
            )
        identity = data.get("identity_strategy", "strict")
        if identity not in IDENTITY_STRATEGIES:
            raise self.fail(
                "identity_strategy",
                f"must be one of {', '.join(sorted(IDENTITY_STRATEGIES))}, got {identity!r}",
                "leave it out for 'strict'",
            )
        fields = self.context_fields(data.get("input_schema"))
        overrides = self.overrides(data, environment)
        steps = self.steps(data, overrides)
        template = TaskTemplate(
            namespace=namespace,
            name=name,
            version=version,
            description=description or "",
            context_fields=fields,
            steps=steps,
            identity_strategy=identity,
        )
        check_structure(self.source, template)
        return template

    def version(self, data: Mapping[str, Any]) -> str:
        if "version" not in data:
            raise self.fail("version", "is required", "add 'version: 1.0.0'")
        value = data["version"]
        if not isinstance(value, str) or not VERSION_PATTERN.match(value):
            raise self.fail(
                "version",
                f"must be a string x.y.z, got {value!r} ({_kind(value)})",
                "write e.g. 'version: 1.0.0' (quote it if YAML reads a number)",
            )
        return value

    def context_fields(self, schema: object) -> tuple[ContextField, ...]:
        if schema is None:
            return ()
        schema = self.mapping(
            schema, "input_schema", "write a JSON Schema object, or leave input_schema out"
        )
        properties = self.optional_mapping(schema, "properties", "input_schema.properties")
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            raise self.fail(
                "input_schema.required",
                f"must be a list of property names, got {required!r}",
                "write e.g. 'required: [even_number]'",
            )
        fields = [
            self.context_field(key, spec, key in required) for key, spec in properties.items()
        ]
        fields.extend(
            ContextField(key=key, type="any", required=True)
            for key in required
            if key not in properties
        )
        return tuple(fields)

    def context_field(self, key: str, spec: object, required: bool) -> ContextField:
        field = f"input_schema.properties.{key}"
        spec = self.mapping(spec, field, "describe the property with a JSON Schema object")
        kind = spec.get("type", "any")
        if kind != "any" and kind not in CONTEXT_TYPES:
            raise self.fail(
                f"{field}.type",
                f"must be one of {', '.join(CONTEXT_TYPES)}, got {kind!r}",
                "use a single JSON type name, or leave 'type' out to accept any value",
            )
        bounds = {}
        for keyword in ("minimum", "maximum"):
            bound = spec.get(keyword)
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int | float)
            ):
                raise self.fail(
                    f"{field}.{keyword}", f"must be a number, got {bound!r}", "write a number"
                )
            bounds[keyword] = bound
        multiple = spec.get("multipleOf")
        if multiple is not None and (
            isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1
        ):
            raise self.fail(
                f"{field}.multipleOf",
                f"must be a positive integer, got {multiple!r}",
                "write e.g. 'multipleOf: 2'",
            )
        return ContextField(
            key=key,
            type=kind,
            required=required,
            minimum=bounds["minimum"],
            maximum=bounds["maximum"],
            multiple_of=multiple,
            default=spec.get("default"),
        )

    def overrides(
        self, data: Mapping[str, Any], environment: str | None
    ) -> dict[str, Mapping[str, Any]]:
        """Retry overrides of `environments.<environment>`, by step name (or `ALL`)."""
        environments = self.optional_mapping(data, "environments", "environments")
        if not environment or environment not in environments:
            return {}
        where = f"environments.{environment}"
        chosen = self.mapping(
            environments[environment], where, "write 'steps:' overrides under it, or remove it"
        )
        entries = chosen.get("steps") or []
        if not isinstance(entries, list):
            raise self.fail(f"{where}.steps", "must be a list", "write '- name: <step>' entries")
        overrides: dict[str, Mapping[str, Any]] = {}
        for index, item in enumerate(entries):
            field = f"{where}.steps[{index}]"
            entry = self.mapping(item, field, "write '- name: <step or ALL>' and a 'retry:'")
            step = entry.get("name")
            if not isinstance(step, str) or not (step == "ALL" or NAME_PATTERN.match(step)):
                raise self.fail(
                    f"{field}.name", f"must be a step name or ALL, got {step!r}", "name the step"
                )
            overrides[step] = self.optional_mapping(entry, "retry", f"{field}.retry")
        return overrides

    def steps(
        self, data: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]]
    ) -> tuple[StepTemplate, ...]:
        if "steps" not in data:
            raise self.fail(
                "steps",
                "is required",
                "add 'steps:' with at least one '- name: ...' and 'handler: {callable: ...}'",
            )
        entries = data["steps"]
        if not isinstance(entries, list) or not entries:
            raise self.fail(
                "steps",
                f"must be a non-empty list of steps, got {entries!r}",
                "add at least one '- name: ...' with a 'handler: {callable: ...}'",
            )
        steps = [
            self.mapping(entry, f"steps[{i}]", "write a step as a mapping")
            for i, entry in enumerate(entries)
        ]
        names: dict[str, str] = {}
        for index, step in enumerate(steps):
            name = self.name(step, "name", f"steps[{index}].name", "my_step")
            if name in names:
                raise self.fail(
                    f"steps[{index}].name",
                    f"repeats the step name {name!r}",
                    "give every step its own name",
                )
            repeat = step.get("repeat")
            names[name] = name if repeat is None else f"{name}_{REPEAT_MARK}"
        built = [self.step(index, step, names, overrides) for index, step in enumerate(steps)]
        return self.ordered(built)

    def step(
        self,
        index: int,
        step: Mapping[str, Any],
        names: Mapping[str, str],
        overrides: Mapping[str, Mapping[str, Any]],
    ) -> StepTemplate:
        where = f"steps[{index}]"
        name = step["name"]
        handler = self.callable(step, where)
        dependencies = self.dependencies(step, where, names)
        self.integer(step, "timeout_seconds", f"{where}.timeout_seconds", (1, MAX_TIMEOUT_SECONDS))
        retry = dict(self.optional_mapping(step, "retry", f"{where}.retry"))
        retry.update(overrides.get("ALL", {}))
        retry.update(overrides.get(name, {}))
        retryable, max_attempts, backoff_ms = self.retry(retry, f"{where}.retry")
        repeat = step.get("repeat")
        if repeat is not None and not isinstance(repeat, str):
            raise self.fail(
                f"{where}.repeat",
                f"must name an integer context key, got {repeat!r}",
                "write e.g. 'repeat: width'",
            )
        return StepTemplate(
            name=names[name],
            handler=handler,
            dependencies=dependencies,
            max_attempts=max_attempts,
            retryable=retryable,
            retry_backoff_ms=backoff_ms,
            repeat=repeat,
        )

    def callable(self, step: Mapping[str, Any], where: str) -> str:
        fix = "write 'handler: {callable: TaskerCluster::SquareHandler}' (the handler class)"
        if "handler" not in step:
            raise self.fail(f"{where}.handler", "is required", fix)
        handler = self.mapping(step["handler"], f"{where}.handler", fix)
        if "callable" not in handler:
            raise self.fail(f"{where}.handler.callable", "is required", fix)
        value = handler["callable"]
        if not isinstance(value, str) or not CALLABLE_PATTERN.match(value):
            raise self.fail(
                f"{where}.handler.callable",
                f"must be a class path such as Module::Class or module.Class, got {value!r}",
                fix,
            )
        self.optional_mapping(handler, "initialization", f"{where}.handler.initialization")
        return bound_handler_name(value)

    def dependencies(
        self, step: Mapping[str, Any], where: str, names: Mapping[str, str]
    ) -> tuple[str, ...]:
        field = f"{where}.dependencies"
        value = step.get("dependencies") or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(
                field, f"must be a list of step names, got {value!r}", "write e.g. '[step_a]'"
            )
        if len(set(value)) != len(value):
            raise self.fail(field, f"names a step twice: {value!r}", "list each step once")
        unknown = [item for item in value if item not in names]
        if unknown:
            raise self.fail(
                field,
                f"names {unknown}, which are not steps of this template",
                f"depend on some of: {', '.join(names)}",
            )
        return tuple(names[item] for item in value)

    def retry(self, retry: Mapping[str, Any], field: str) -> tuple[bool, int, int]:
        retryable = retry.get("retryable", True)
        if not isinstance(retryable, bool):
            raise self.fail(
                f"{field}.retryable", f"must be true or false, got {retryable!r}", "write true"
            )
        attempts = self.integer(retry, "max_attempts", f"{field}.max_attempts", (1, None))
        limit = self.integer(retry, "limit", f"{field}.limit", (0, MAX_RETRY_LIMIT))
        if attempts is not None and limit is not None and attempts != limit:
            raise self.fail(
                f"{field}.limit",
                f"is {limit} but max_attempts is {attempts}",
                "give only one of them (both count attempts)",
            )
        chosen = attempts if attempts is not None else limit
        max_attempts = DEFAULT_MAX_ATTEMPTS if chosen is None else max(chosen, 1)
        backoff = retry.get("backoff", "exponential")
        if backoff not in BACKOFFS:
            raise self.fail(
                f"{field}.backoff",
                f"must be one of {', '.join(BACKOFFS)}, got {backoff!r}",
                "write 'backoff: exponential'",
            )
        base = self.integer(
            retry, "backoff_base_ms", f"{field}.backoff_base_ms", (MIN_BACKOFF_BASE_MS, None)
        )
        self.integer(retry, "max_backoff_ms", f"{field}.max_backoff_ms", (MIN_MAX_BACKOFF_MS, None))
        if backoff == "none":
            return retryable, max_attempts, 0
        return retryable, max_attempts, DEFAULT_BACKOFF_BASE_MS if base is None else base

    def ordered(self, steps: list[StepTemplate]) -> tuple[StepTemplate, ...]:
        """Steps with dependencies first, otherwise in file order; a cycle is refused."""
        placed: list[StepTemplate] = []
        done: set[str] = set()
        waiting = list(steps)
        while waiting:
            ready = [step for step in waiting if set(step.dependencies) <= done]
            if not ready:
                cycle = ", ".join(step.name for step in waiting)
                raise self.fail(
                    "steps",
                    f"have a dependency cycle among {cycle}",
                    "remove a dependency so that some step can run first",
                )
            placed.append(ready[0])
            done.add(ready[0].name)
            waiting.remove(ready[0])
        return tuple(placed)
