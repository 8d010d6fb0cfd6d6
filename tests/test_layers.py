"""The package's layers are one-way: no module imports from a layer above its own, and
no import circle exists, counting every import (at the top, inside functions, and
under ``TYPE_CHECKING``). docs/ARCHITECTURE.md describes the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "streamkap_config"

#: Bottom to top: a module may import from its own layer and the ones before it.
LAYERS = ("core", "loaders", "remote", "schemas", "validation", "project", "deploy", "cli", "")


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name (``validation.validate``; ``""`` for
    the package itself)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, wherever in the file it does."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [p for p in package if p]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("streamkap_config"):
                module = node.module.removeprefix("streamkap_config").lstrip(".")  # type: ignore[union-attr]
            else:
                continue
            # "from . import x" and "from .pkg import module" name modules too.
            targets = [f"{module}.{a.name}".strip(".") for a in node.names]
            targets = [t if t in known else module for t in targets]
        elif isinstance(node, ast.Import):
            targets = [
                a.name.removeprefix("streamkap_config").lstrip(".")
                for a in node.names
                if a.name.startswith("streamkap_config")
            ]
        found.update(t for t in targets if t in known and t != name)
    return found


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0] if name else "")


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{a} imports {b}" for a, targets in edges.items() for b in targets if layer(b) > layer(a)
    )


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_every_module_is_in_a_layer():
    for name in modules():
        assert name.split(".")[0] in LAYERS, f"{name} is in no layer of LAYERS"


def test_no_module_imports_from_a_layer_above_its_own():
    assert upward(graph()) == []


def test_no_import_circle_even_through_imports_inside_functions():
    assert cycle(graph()) is None


def test_no_private_name_is_imported_from_another_module():
    borrowed = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith("streamkap_config")
            ):
                borrowed += [
                    f"{name}: {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert borrowed == []


@pytest.fixture
def tree(tmp_path):
    """A copy of the package to break on purpose."""
    import shutil

    shutil.copytree(PACKAGE, tmp_path / "streamkap_config")
    return tmp_path / "streamkap_config"


def test_the_checks_find_a_reintroduced_circle_and_an_upward_import(tree):
    # The circle this layout removed: validate built payloads, payload validated.
    validate = tree / "validation" / "validate.py"
    validate.write_text(
        validate.read_text()
        + "\n\ndef _payload():\n    from ..deploy.payload import build_payload\n\n"
        "    return build_payload\n"
    )
    edges = graph(tree)
    assert "validation.validate imports deploy.payload" in upward(edges)
    found = cycle(edges)
    assert found is not None and "validation.validate" in found and "deploy.payload" in found
    # A circle inside one layer is found too (under TYPE_CHECKING as well).
    keys = tree / "validation" / "keys.py"
    keys.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .checks import Checker\n"
        + keys.read_text()
    )
    validate.write_text(validate.read_text().split("\n\ndef _payload():")[0])
    found = cycle(graph(tree))
    assert found is not None and {"validation.keys", "validation.checks"} <= set(found)
