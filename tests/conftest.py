"""Shared fixtures: every test gets its own HEADWATER_HOME, so nothing touches ~/.headwater."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.plan import digests

pytest_plugins = ["tests.fixtures.postgres"]


@pytest.fixture(autouse=True)
def _settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests hash files they have just written: treat those as settled, not "racy".

    (``digests.RACY_WINDOW_NS`` keeps a just-modified file out of the digest cache; its own test
    sets the real window back.)
    """
    monkeypatch.setattr(digests, "RACY_WINDOW_NS", 0)


@pytest.fixture(autouse=True)
def headwater_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``$HEADWATER_HOME`` for each test."""
    home = tmp_path / "hw-home"
    monkeypatch.setenv("HEADWATER_HOME", str(home))
    return home


@pytest.fixture
def ws(headwater_home: Path) -> Iterator[Workspace]:
    """A new workspace on the embedded SQLite store."""
    workspace = Workspace.create("test-ws")
    yield workspace
    workspace.close()


def gen(root: Path, tree: dict[str, object]) -> Path:
    """Create files from a nested dict: ``{"a.csv": "x,y\\n1,2\\n", "sub": {"b.bin": b"..."}}``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in tree.items():
        path = root / name
        if isinstance(content, dict):
            gen(path, content)
        elif isinstance(content, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(content), encoding="utf-8")
    return root
