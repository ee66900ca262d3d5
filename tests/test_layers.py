"""The house: each layer imports only from the layers below it, with no circle and no import
hidden inside a function (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "workshop"
#: Lowest first. A module may import its own layer and the layers before it.
LAYERS = ["ground", "engines", "db", "live", "domain", "results", "web", "ops"]
GROUND = {"config", "extensions", "errors", "signals", "validation", "i18n", "clock", "hashing"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def layer(name: str) -> str:
    parts = name.split(".")
    if name == "workshop":
        return "wiring"
    if len(parts) == 2 and parts[1] in GROUND:
        return "ground"
    return parts[1]


def imported(name: str, path: Path) -> list[tuple[str, bool]]:
    """(module, at top level) for every import of a workshop module."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workshop"):
            assert node.level == 0, f"{name}: relative import"
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.append((full if full in MODULES else node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names if a.name in MODULES]
    return found


#: Wiring: create_app connects the layers, and the command line starts them.
WIRING = {"workshop", "workshop.ops.cli", "workshop.ops.command"}


@pytest.mark.parametrize("name", sorted(set(MODULES) - WIRING))
def test_a_module_imports_only_from_its_layer_and_below(name):
    own = LAYERS.index(layer(name))
    for target, at_top in imported(name, MODULES[name]):
        if target == "workshop":
            # create_app itself: only the server (ops) builds the app.
            assert layer(name) == "ops", f"{name} imports create_app"
            continue
        assert at_top, f"{name} imports {target} inside a function"
        assert LAYERS.index(layer(target)) <= own, f"{name} ({layer(name)}) imports {target}"


def test_live_knows_no_domain_and_no_storage():
    for name in (m for m in MODULES if layer(m) == "live"):
        for target, _ in imported(name, MODULES[name]):
            assert target != "workshop" and layer(target) not in ("db", "domain"), (
                f"{name} imports {target}"
            )


def test_no_module_imports_itself_through_a_circle():
    graph = {
        name: {t for t, _ in imported(name, path) if t in MODULES and t != "workshop"}
        for name, path in MODULES.items()
        if name not in WIRING
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        assert name not in trail, "circle: " + " → ".join([*trail, name])
        if name in done:
            return
        for target in graph.get(name, ()):
            visit(target, [*trail, name])
        done.add(name)

    for name in graph:
        visit(name, [])
