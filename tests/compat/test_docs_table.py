"""The migration guide's table of SDK v1 names is the output of scripts/compat_table.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "migrating-from-sdk-v1.md"
SCRIPT = ROOT / "scripts" / "compat_table.py"


def test_the_docs_table_matches_the_script_output() -> None:
    table = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True).stdout
    text = DOC.read_text(encoding="utf-8")
    start = text.index("-->", text.index("<!-- compat-table:start")) + len("-->\n")
    end = text.index("<!-- compat-table:end -->")
    assert text[start:end] == table, "run: python scripts/compat_table.py --write docs/migrating-from-sdk-v1.md"
    check = subprocess.run([sys.executable, str(SCRIPT), "--check", str(DOC)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_check_fails_on_a_stale_table(tmp_path: Path) -> None:
    stale = tmp_path / "doc.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("| `Workspace` |", "| `Wrokspace` |"), encoding="utf-8")
    check = subprocess.run([sys.executable, str(SCRIPT), "--check", str(stale)], capture_output=True, text=True)
    assert check.returncode == 1
    assert "out of date" in check.stderr
