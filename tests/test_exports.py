"""The public surface: every exported name imports from `headwater`, and `import headwater` is cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import headwater

HEAVY = ("pandas", "pyarrow", "sqlalchemy", "alembic", "fsspec", "psycopg", "rich", "click", "numpy")


def test_all_names_resolve_and_match_exports() -> None:
    assert sorted(headwater.__all__) == sorted(["__version__", *headwater._EXPORTS])
    for name in headwater.__all__:
        assert getattr(headwater, name) is not None, name


def test_exported_objects_live_in_their_declared_modules() -> None:
    for name, module in headwater._EXPORTS.items():
        obj = getattr(headwater, name)
        assert obj.__module__ == module, f"{name} is defined in {obj.__module__}, exported from {module}"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        headwater.NoSuchThing  # noqa: B018


def test_import_headwater_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, json\n"
        "import headwater\n"
        "from headwater import Workspace, Datastore, Dataset, HeadwaterError\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
