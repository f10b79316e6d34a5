"""The progress bar ``wait_for_completion(show_output=True)`` draws for a running ParallelRunStep.

A ParallelRunStep's driver keeps ``logs/sys/job_progress.json`` in its working folder up to date
(mini-batches done, failed, total, rate, ETA; :mod:`headwater.runtime.parallel_processes`). When
stdout is a terminal (and ``TERM`` is not ``dumb``), :class:`ProgressBars` draws it as a `rich`
progress bar and prints the streamed log lines above it; otherwise it draws nothing: the driver's
plain progress lines (with the rate and ETA) are in the streamed log, which is what logs and CI want.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

__all__ = ["PROGRESS_FILE", "ProgressBars", "progress_file"]

#: Below a step's run folder: what the driver says of its progress.
PROGRESS_FILE = ("wd", "logs", "sys", "job_progress.json")


def progress_file(run_folder: Path) -> Path:
    return run_folder.joinpath(*PROGRESS_FILE)


def _read(path: Path, seen: dict[str, float]) -> dict[str, Any] | None:
    """The progress file's content when it changed since the last read (one ``stat`` otherwise)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    if seen.get(str(path)) == mtime:
        return None
    seen[str(path)] = mtime
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None  # replaced meanwhile: the next poll reads the new one


class ProgressBars:
    """A writer for ``wait_for_completion``'s output with a live bar per running ParallelRunStep on
    a terminal (``enabled``), or plain ``out`` (the bar is then never drawn)."""

    def __init__(self, out: TextIO, enabled: bool | None = None) -> None:
        self.out = out
        self.enabled = _is_terminal(out) if enabled is None else enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._seen: dict[str, float] = {}

    def write(self, text: str) -> int:
        if self._progress is None:
            return self.out.write(text)
        self._progress.console.print(text, end="", markup=False, highlight=False, soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def update(self, key: str, name: str, run_folder: Path) -> bool:
        """Draw step ``name``'s bar from its progress file (if it has one and it changed); whether it changed."""
        if not self.enabled:
            return False
        state = _read(progress_file(run_folder), self._seen)
        if state is None:
            return False
        if self._progress is None:
            self._start()
        eta = state.get("eta")
        fields = {"failed": state.get("failed", 0), "rate": state.get("rate") or 0.0, "eta": _eta(eta)}
        done = int(state.get("done", 0)) + int(state.get("failed", 0))
        if key not in self._tasks:
            description = f"StepRun({name})"
            self._tasks[key] = self._progress.add_task(description, total=state.get("total") or None, **fields)
        self._progress.update(self._tasks[key], completed=done, total=state.get("total") or None, **fields)
        return True

    def end(self, key: str, name: str, run_folder: Path) -> None:
        """Step ``key`` ended: its bar is drawn with the last figures and stays; the display stops
        when no bar is left (so what is printed next comes below it)."""
        if key not in self._tasks:
            return
        self.update(key, name, run_folder)
        task = self._tasks.pop(key)
        if self._progress is not None:
            self._progress.stop_task(task)
            if not self._tasks:
                self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("mini-batches, {task.fields[failed]} failed, {task.fields[rate]:.1f}/s, ETA {task.fields[eta]}"),
            console=Console(file=self.out, force_terminal=True),
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()


def _eta(seconds: Any) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(float(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


def _is_terminal(out: TextIO) -> bool:
    if os.environ.get("TERM") == "dumb":  # a terminal that cannot redraw a line
        return False
    try:
        return os.isatty(out.fileno())
    except (AttributeError, OSError, ValueError):  # a StringIO, a captured stream
        return False
