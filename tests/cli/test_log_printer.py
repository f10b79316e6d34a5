"""``run logs`` printing: headers, whole lines while running, switching between parallel steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater.cli.run import _LogPrinter


class FakeStep:
    """What the printer asks of a StepRun."""

    def __init__(self, run_id: str, name: str, folder: Path) -> None:
        self.id = run_id
        self.name = name
        self._folder = folder
        self.status = "Running"

    def _log_path(self) -> Path:
        return self._folder / f"{self.id}.txt"

    @property
    def log(self) -> str:
        return self._log_path().read_text() if self._log_path().exists() else ""

    @log.setter
    def log(self, text: str) -> None:
        self._log_path().write_text(text)

    def get_properties(self) -> dict[str, str]:
        return {}

    def get_status(self) -> str:
        return self.status


def test_parallel_steps_are_told_apart(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a, b = FakeStep("1", "a.py", tmp_path), FakeStep("2", "b.py", tmp_path)
    steps: list[Any] = [a, b]
    printer = _LogPrinter(None, steps, headers=True)  # type: ignore[arg-type]
    printer.pump(ended=False)
    assert capsys.readouterr().out == ""  # nothing logged yet: no header either

    a.log = "a1\na2 partial"
    printer.pump(ended=False)
    assert capsys.readouterr().out == "==> a.py <==\na1\n"  # only whole lines while running

    b.log = "b1\n"
    a.log += " line\n"
    printer.pump(ended=False)
    assert capsys.readouterr().out == "a2 partial line\n\n==> b.py <==\nb1\n"

    a.log += "a3 no newline"
    a.status = "Finished"
    b.status = "Finished"
    printer.pump(ended=True)
    assert capsys.readouterr().out == "\n==> a.py <==\na3 no newline"
    printer.pump(ended=True)
    assert capsys.readouterr().out == ""


def test_an_empty_log_still_gets_its_header_when_the_run_ended(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a, b = FakeStep("1", "a.py", tmp_path), FakeStep("2", "b.py", tmp_path)
    a.log = "no newline at the end"
    printer = _LogPrinter(None, [a, b], headers=True)  # type: ignore[arg-type, list-item]
    printer.pump(ended=True)
    assert capsys.readouterr().out == "==> a.py <==\nno newline at the end\n\n==> b.py <==\n"


def test_without_headers_only_the_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a = FakeStep("1", "a.py", tmp_path)
    a.log = "x\ny"
    printer = _LogPrinter(None, [a], headers=False)  # type: ignore[arg-type, list-item]
    printer.pump(ended=False)
    printer.pump(ended=True)
    assert capsys.readouterr().out == "x\ny"
