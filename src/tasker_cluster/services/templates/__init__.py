"""Task templates: the built-in ones (tasker-core YAML files next to this module) and those of
the `TASKER_TEMPLATE_PATH` directory, which add to them or replace them by
namespace/name/version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from ..errors import TemplateNotFoundError
from .model import ContextField, StepSpec, StepTemplate, TaskTemplate, parse_template

__all__ = [
    "ContextField",
    "StepSpec",
    "StepTemplate",
    "TaskTemplate",
    "TemplateRegistry",
    "parse_template",
]


DEFAULT_ENVIRONMENT = "development"
BUILTIN_FOLDER = Path(__file__).parent


@cache
def _builtin_templates(environment: str = DEFAULT_ENVIRONMENT) -> tuple[TaskTemplate, ...]:
    """The YAML files of this package, parsed once per process and environment."""
    from .yaml_format import parse_yaml  # noqa: PLC0415 - yaml only when templates are read

    # a plain folder read: importlib.resources alone costs about 20 ms of import time
    return tuple(
        parse_yaml(f"{__name__}/{path.name}", path.read_text(encoding="utf-8"), environment)
        for path in sorted(BUILTIN_FOLDER.glob("*.yaml"))
    )


class TemplateRegistry:
    """Templates by `(namespace, name, version)`."""

    def __init__(self, templates: Iterable[TaskTemplate]) -> None:
        self._templates = {template.key: template for template in templates}

    @classmethod
    def builtin(cls) -> TemplateRegistry:
        return cls(_builtin_templates())

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TemplateRegistry:
        """The built-in templates, plus those of `TASKER_TEMPLATE_PATH` (which win); the
        `environments.<TASKER_ENV>` overrides of the templates apply."""
        environment = environ.get("TASKER_ENV") or DEFAULT_ENVIRONMENT
        builtin = _builtin_templates(environment)
        folder = environ.get("TASKER_TEMPLATE_PATH")
        if not folder:
            return cls(builtin)
        from .yaml_format import load_directory  # noqa: PLC0415 - yaml only when needed

        return cls([*builtin, *load_directory(Path(folder), environment)])

    def get(self, namespace: str, name: str, version: str) -> TaskTemplate:
        try:
            return self._templates[(namespace, name, version)]
        except KeyError:
            raise TemplateNotFoundError(namespace, name, version) from None

    def all(self) -> list[TaskTemplate]:
        return sorted(self._templates.values(), key=lambda template: template.key)

    def namespaces(self) -> list[str]:
        return sorted({template.namespace for template in self._templates.values()})

    def in_namespaces(self, namespaces: Iterable[str]) -> list[TaskTemplate]:
        wanted = set(namespaces)
        return [template for template in self.all() if template.namespace in wanted]
