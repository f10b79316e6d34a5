"""Helpers for the CLI tests: a click runner, and parsers for the plain (non-terminal) output.

Outside a terminal the CLI prints tables as tab-separated lines under a header line, and fields
as ``key: value`` lines; these helpers turn them back into dicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from headwater import Workspace
from headwater.cli.main import cli


@pytest.fixture(autouse=True)
def _outside_any_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every CLI test in an empty folder, so no config.json above the repo is found."""
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.delenv("HEADWATER_WORKSPACE", raising=False)
    return here


class Cli:
    """Runs ``headwater ARGS`` in-process and checks the exit code."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(cli, list(args))
        assert result.exit_code == code, (
            f"headwater {' '.join(args)} exited {result.exit_code}, expected {code}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nexception: {result.exception!r}"
        )
        return result


@pytest.fixture
def hw() -> Cli:
    """``hw("run", "list", "-w", "x")`` runs the CLI and returns click's Result."""
    return Cli()


@pytest.fixture
def cli_ws(headwater_home: Path) -> Iterator[Workspace]:
    """A workspace named ``test-ws`` (pass ``-w test-ws``)."""
    ws = Workspace.create("test-ws")
    yield ws
    ws.close()


def table(text: str) -> list[dict[str, str]]:
    """Rows of a plain table: the first line names the columns, cells are tab-separated."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        assert len(cells) == len(header), f"row {line!r} does not match header {header!r}"
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def fields(text: str) -> dict[str, str]:
    """``key: value`` lines (up to the first blank line) as a dict."""
    out: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(": ")
        out[key] = value
    return out


def one_error_line(result: Result) -> str:
    """The single line a failing command wrote to stderr (asserts there is exactly one)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def section(text: str, index: int) -> str:
    """The ``index``-th blank-line-separated block of ``text``."""
    return text.split("\n\n")[index]
