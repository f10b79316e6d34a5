"""Where a cold chain run's time goes: a timeline of ``python pipeline.py`` from its ``Popen``.

    .venv/bin/python benchmarks/run.py --only chain --repeat 1 --keep-work   # makes the project
    .venv/bin/python -m benchmarks.timeline benchmarks/.data/work/chain [--runs 5] [--first-run]

Each run gets a new, empty workspace (``--first-run``: one that does not exist yet, so
``Workspace.from_config`` creates it in the timed process). Printed per event, the median over
the runs, in ms from ``Popen``: the run record's ``created_at``; ``plan.json`` written (its
mtime); the orchestrator ready (the mtime of ``orchestrator.lock``, written once its imports are
done); the run ``Running`` (``started_at``); the first and the last step's first line (the
ledger); the process's end; and its CPU time (user + sys, with its waited-for children).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path


def create_workspace(name: str, folder: Path, project: Path, env: dict[str, str]) -> None:
    """Create the workspace ``name`` in ``folder`` in a process of its own; ``project``'s config names it."""
    code = "import sys; from headwater import Workspace; w = Workspace.create(sys.argv[1], folder=sys.argv[2]); "
    code += "w.write_config(sys.argv[3]); w.close()"
    subprocess.run([sys.executable, "-c", code, name, str(folder), str(project)], env=env, check=True)


def run_pipeline(project: Path, env: dict[str, str], ledger: Path) -> tuple[float, float, resource.struct_rusage]:
    """Run ``python pipeline.py`` in ``project`` once, with an empty ledger: its start and end
    (``time.time()``) and its resource usage."""
    ledger.write_text("")
    os.sync()
    t0 = time.time()
    proc = subprocess.Popen(
        [sys.executable, "pipeline.py"], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    end = time.time()
    if status != 0:
        raise SystemExit(f"pipeline.py failed (wait status {status})")
    return t0, end, usage


def _one(project: Path, work: Path, first_run: bool, i: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "HEADWATER_MAX_CONCURRENCY")}
    ledger = work / "ledger.txt"
    env.update(HEADWATER_HOME=str(work / "home"), BENCH_LEDGER=str(ledger))
    folder = work / f"ws-{i}"
    if first_run:
        config = project / ".azureml" / "config.json"
        config.parent.mkdir(exist_ok=True)
        config.write_text(json.dumps({"workspace_name": f"timeline-{i}", "folder": str(folder)}))
    else:
        create_workspace(f"timeline-{i}", folder, project, env)
    t0, end, usage = run_pipeline(project, env, ledger)
    starts = sorted(float(line.split()[2]) for line in ledger.read_text().splitlines() if " start " in line)
    plan = next(folder.glob("runs/*/plan.json"))
    with closing(sqlite3.connect(folder / "metadata.db")) as db:
        created, started = db.execute(
            "SELECT created_at, started_at FROM runs WHERE id = ?", (plan.parent.name,)
        ).fetchone()

    def ms(when: float) -> float:
        return (when - t0) * 1000

    lock = plan.parent / "orchestrator.lock"
    return {
        "record created": ms(datetime.fromisoformat(created).timestamp()),
        "plan written": ms(plan.stat().st_mtime),
        "orchestrator ready": ms(lock.stat().st_mtime),
        "run Running": ms(datetime.fromisoformat(started).timestamp()),
        "first step": ms(starts[0]),
        "last step": ms(starts[-1]),
        "process end": ms(end),
        "CPU": (usage.ru_utime + usage.ru_stime) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a chain project folder (pipeline.py, bench.json, src/)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--first-run", action="store_true", help="the workspace does not exist yet")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    with tempfile.TemporaryDirectory(prefix="hw-timeline-") as tmp:
        rows = [_one(project, Path(tmp), args.first_run, i) for i in range(args.runs)]
    for key in rows[0]:
        values = [round(r[key]) for r in rows]
        print(f"{key:20s} {statistics.median(values):7.0f} ms   {values}")
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
