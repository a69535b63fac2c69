"""The package map of docs/architecture.md, enforced: each package imports only the packages
it is allowed to, so the lifecycle library never knows its front ends."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "src" / "tasker_cluster"
GROUND = frozenset(
    {"errors", "wait", "lazy_exports", "states", "exactly_once", "layout", "secrets"}
)
LIFECYCLE = frozenset({"config", "logs", "process", "health", "cluster"})

# package -> the packages (besides itself and the ground modules) it may import
ALLOWED: dict[str, frozenset[str]] = {
    "ground": frozenset(),
    "config": frozenset(),
    "logs": frozenset(),
    "process": frozenset({"config", "logs"}),
    "health": frozenset({"config", "logs", "process"}),
    "cluster": frozenset({"config", "logs", "process", "health"}),
    "api": frozenset(),
    "client": frozenset({"api"}),
    "services": frozenset({"api"}),
    "testing": LIFECYCLE | {"api", "client"},
    "load": LIFECYCLE | {"api", "client", "testing"},
    "cli": LIFECYCLE | {"api", "client", "testing", "load"},
    "root": frozenset({"cluster", "config", "client", "testing"}),
}


def package_of(module: str) -> str:
    """`tasker_cluster.process.spawn` -> `process`; the ground modules share one name."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__init__":
        return "root"
    return "ground" if parts[1] in GROUND else parts[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "tasker_cluster"}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
        found.append((".".join(relative.parts), path))
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_a_module_imports_only_the_packages_its_layer_allows(module: str, path: Path) -> None:
    own = package_of(module)
    assert own in ALLOWED, f"{module} is in a package the map does not know: {own}"
    allowed = ALLOWED[own] | {own, "ground", "root"}
    wrong = sorted(
        name
        for name in imports_of(path)
        if package_of(name) not in allowed and name != "tasker_cluster"
    )
    assert wrong == [], f"{module} ({own}) may not import {wrong}"


def test_no_lifecycle_error_message_names_an_invoke_flag_or_command() -> None:
    offenders = []
    for module, path in modules():
        if package_of(module) not in LIFECYCLE:
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("--env-file", "--timeout", "invoke cluster", "--instance="):
            if needle in text:
                offenders.append(f"{module}: {needle}")
    assert offenders == []
