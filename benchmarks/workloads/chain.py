"""chain10: N tiny PythonScriptSteps in a chain; cold, unchanged, one step changed (two ways), memory.

Floor: a shell script running the same N ``step.py`` processes one after the other. Every
Headwater run checks, from the ledger, exactly which step processes started:

- cold (a new, empty workspace per run): all N;
- cold in a new workspace (a user's first run: the config names a workspace that does not exist,
  ``Workspace.from_config`` creates it in the timed process): all N;
- unchanged re-run: none (every step reused; no orchestrator is started);
- step k's script edited so its output changes (``SALT``): steps k .. N-1;
- step k's script edited without changing its output (a comment): only step k (early cut-off).

Orchestrator peak memory is measured on extra cold runs, so polling ``/proc`` costs no timed run anything.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from benchmarks.figures import TIMES, Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError
from benchmarks.workloads.common import memory_figure

__all__ = ["run"]


def _setup(bench: Bench, n: int) -> Path:
    project = bench.project("chain")
    for i in range(n):
        (project / "src" / f"step_{i}").mkdir(parents=True)
        shutil.copy(SCRIPTS / "step.py", project / "src" / f"step_{i}" / "step.py")
    shutil.copy(SCRIPTS / "chain_pipeline.py", project / "pipeline.py")
    (project / "bench.json").write_text(f'{{"steps": {n}}}')
    lines = ["set -e"]
    for i in range(n):
        args = f"--name step_{i} --output floor/out_{i}" + (f" --input floor/out_{i - 1}" if i else "")
        lines.append(f"{shlex.quote(bench.python)} src/step_{i}/step.py {args}")
    (project / "floor.sh").write_text("\n".join(lines) + "\n")
    return project


def _edit(script: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, script.read_text(), flags=re.MULTILINE)
    if count != 1:
        raise RuntimeError(f"{script}: the line {pattern!r} to edit is missing")
    script.write_text(text)


def run(bench: Bench) -> list[Figure]:
    n, k = bench.sizes.chain_steps, bench.sizes.chain_edit
    name = f"chain{n}"
    project = _setup(bench, n)
    every = [f"step_{i}" for i in range(n)]
    edited = project / "src" / f"step_{k}" / "step.py"

    def floor() -> float:
        seconds = bench.timed(["/bin/sh", "floor.sh"], cwd=project, label=f"{name} floor")
        bench.expect_started(f"{name} floor", every)
        return seconds

    def pipeline(label: str, expected: list[str]) -> float:
        seconds = bench.timed([bench.python, "pipeline.py"], cwd=project, label=label)
        bench.expect_started(label, expected)
        return seconds

    def cold(i: int) -> float:
        bench.workspace(project, f"chain-cold-{i}")
        return pipeline(f"{name} cold", every)

    def first_run(i: int) -> float:
        # A user's first run: the config names a workspace that does not exist yet; from_config creates it.
        folder = bench.work / "workspaces" / f"chain-first-{i}"
        config = project / ".azureml" / "config.json"
        config.parent.mkdir(exist_ok=True)
        config.write_text(json.dumps({"workspace_name": f"chain-first-{i}", "folder": str(folder)}))
        seconds = pipeline(f"{name} cold, new workspace", every)
        if not (folder / "metadata.db").is_file():
            raise BenchError(f"{name} cold, new workspace: no workspace was created at {folder}")
        return seconds

    def output_changed(i: int) -> float:
        _edit(edited, r'^SALT = "[^"]*"', f'SALT = "changed-{i}"')
        return pipeline(f"{name} changed", every[k:])

    def output_identical(i: int) -> float:
        _edit(edited, r"^# EDIT \S+", f"# EDIT identical-{i}")
        return pipeline(f"{name} cut-off", [f"step_{k}"])

    bench.say(f"{name}: warm-up")
    bench.workspace(project, "chain-warmup")
    pipeline(f"{name} warm-up", every)
    pipeline(f"{name} warm-up re-run", [])
    floor()

    figures = []
    f_cold, s_cold = bench.repeat_pairs(f"{name} cold", floor, cold)
    figures.append(
        Figure(
            f"{name}.cold",
            f"{name} cold, existing empty workspace",
            "s",
            s_cold,
            f"plain loop, {n} processes",
            f_cold,
            Target("ratio", 1.0, f"DVC 5.5 {TIMES}, Metaflow 12.7 {TIMES}"),
            ran=every,
        )
    )
    f_first, s_first = bench.repeat_pairs(f"{name} cold, new workspace", floor, first_run)
    figures.append(
        Figure(
            f"{name}.cold_new_workspace",
            f"{name} cold, new workspace (a first run: Workspace.from_config creates it)",
            "s",
            s_first,
            f"plain loop, {n} processes",
            f_first,
            Target("ratio", 1.5),
            ran=every,
        )
    )
    # The figures below re-run in the last first-run workspace, which holds that complete run.
    f_same, s_same = bench.repeat_pairs(f"{name} unchanged", floor, lambda i: pipeline(f"{name} unchanged", []))
    figures.append(
        Figure(
            f"{name}.unchanged",
            f"{name} unchanged re-run (all reused)",
            "s",
            s_same,
            f"plain loop, {n} processes",
            f_same,
            Target("ratio", 0.8, f"DVC 2.4 {TIMES}"),
            ran=[],
        )
    )
    f_chg, s_chg = bench.repeat_pairs(f"{name} changed", floor, output_changed)
    figures.append(
        Figure(
            f"{name}.changed",
            f"{name} step {k} changed, output changes (steps {k} to {n - 1} run)",
            "s",
            s_chg,
            f"plain loop, {n} processes",
            f_chg,
            ran=every[k:],
        )
    )
    f_cut, s_cut = bench.repeat_pairs(f"{name} cut-off", floor, output_identical)
    figures.append(
        Figure(
            f"{name}.cutoff",
            f"{name} step {k} changed, output identical (only step {k} runs)",
            "s",
            s_cut,
            f"plain loop, {n} processes",
            f_cut,
            ran=[f"step_{k}"],
        )
    )
    figures.append(
        memory_figure(
            bench,
            name,
            lambda i: bench.workspace(project, f"chain-mem-{i}"),
            lambda: pipeline(f"{name} memory", every),
            every,
        )
    )
    return figures
