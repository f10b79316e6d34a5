"""Helpers to play the executor: write a context file and run a step script in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import headwater
from headwater.runtime.context import CONTEXT_ENV, InputDatasetRef, StepContext, WorkspaceRef

#: The folder holding the `headwater` package: what the executor puts on a step's PYTHONPATH.
PACKAGE_PARENT = str(Path(headwater.__file__).resolve().parent.parent)


def make_context(
    root: Path,
    *,
    run_id: str = "step-run",
    parent_run_id: str | None = "pipeline-run",
    workspace_folder: Path | None = None,
    workspace_name: str = "ws",
    inputs: dict[str, InputDatasetRef] | None = None,
    outputs: dict[str, str] | None = None,
    tags: dict[str, str | None] | None = None,
    properties: dict[str, str] | None = None,
) -> Path:
    """Write ``<root>/runs/<run_id>/context.json`` as the executor does; return its path."""
    run_dir = root / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    context = StepContext(
        run_id=run_id,
        parent_run_id=parent_run_id,
        step_name="train",
        experiment_name="exp",
        experiment_id="exp-id",
        workspace=WorkspaceRef(workspace_name, str(workspace_folder or root / "ws")),
        run_dir=str(run_dir),
        events_file=str(run_dir / "events.jsonl"),
        input_datasets=inputs,
        output_datasets=outputs,
        tags=tags,
        properties=properties,
    )
    path = run_dir / "context.json"
    context.write(path)
    return path


def run_step(
    code: str,
    *,
    cwd: Path,
    context: Path | None,
    no_site: bool = True,
    env: dict[str, Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a script in a new interpreter, as the executor runs a step.

    With ``no_site`` the interpreter starts with ``-S``: no site-packages at all, so the step
    sees only the stdlib and the `headwater` package on PYTHONPATH, as in a bare environment.
    """
    script = cwd / "step_script.py"
    cwd.mkdir(parents=True, exist_ok=True)
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    full_env = {k: v for k, v in os.environ.items() if k not in (CONTEXT_ENV, "PYTHONPATH")}
    full_env["PYTHONPATH"] = PACKAGE_PARENT
    if context is not None:
        full_env[CONTEXT_ENV] = str(context)
    full_env.update(env or {})
    argv = [sys.executable, *(["-S"] if no_site else []), str(script)]
    return subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
