"""The import-linter contract inside the SDK: every module has a layer, every back-edge is lazy."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import headwater.sdk

ROOT = Path(__file__).resolve().parents[2]
SDK = Path(headwater.sdk.__file__).parent


def sdk_contract() -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c.get("containers") == ["headwater.sdk"]]
    return contract


def imports_at_module_level(path: Path) -> set[str]:
    """The modules ``path`` imports when it is imported (not inside functions, not for type checking)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_every_sdk_module_has_exactly_one_layer() -> None:
    layered = [name.strip() for layer in sdk_contract()["layers"] for name in layer.replace(":", "|").split("|")]
    modules = sorted(p.stem for p in SDK.glob("*.py") if p.stem != "__init__")
    assert sorted(layered) == modules


def test_every_ignored_back_edge_is_a_lazy_import() -> None:
    """A back-edge imported at module level would be an import cycle, not a lazy call-time import."""
    for entry in sdk_contract()["ignore_imports"]:
        importer, imported = (part.strip() for part in entry.split("->"))
        source = SDK / f"{importer.rsplit('.', 1)[1]}.py"
        assert imported not in imports_at_module_level(source), entry
