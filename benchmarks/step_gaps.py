"""Where a cold run's per-step time goes, from the ledger: each step's first and last line.

    .venv/bin/python benchmarks/run.py --only chain,fan --repeat 1 --keep-work --work /tmp/w
    .venv/bin/python -m benchmarks.step_gaps /tmp/w/chain [--runs 5]
    .venv/bin/python -m benchmarks.step_gaps /tmp/w/fan [--runs 5]

Each run gets a new, empty workspace. Printed, the median over the runs (ms from ``Popen``): the
first step's first line, the last step's last line, the process's end, its CPU time (user + sys,
with its waited-for children); for a chain, the gap from one step's last line to the next one's
first line and the steps' own time (first line to last); for a fan (``prep`` → ``sleep_*`` →
``join``), when the first and the last of the fanned-out steps started.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.timeline import create_workspace, run_pipeline


def _one(project: Path, work: Path, i: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "HEADWATER_MAX_CONCURRENCY")}
    ledger = work / "ledger.txt"
    env.update(HEADWATER_HOME=str(work / "home"), BENCH_LEDGER=str(ledger))
    create_workspace(f"gaps-{i}", work / f"ws-{i}", project, env)
    t0, end, usage = run_pipeline(project, env, ledger)
    at: dict[tuple[str, str], float] = {}
    for line in ledger.read_text().splitlines():
        name, event, when = line.split()
        at[(name, event)] = (float(when) - t0) * 1000
    names = sorted({n for n, _ in at}, key=lambda n: at[(n, "start")])
    row = {
        "first step starts": at[(names[0], "start")],
        "last step ends": max(at[(n, "end")] for n in names),
        "process end": (end - t0) * 1000,
        "CPU": (usage.ru_utime + usage.ru_stime) * 1000,
    }
    fanned = sorted(at[(n, "start")] for n in names if n.startswith("sleep_"))
    if fanned:
        row["first fanned-out starts"] = fanned[0]
        row["last fanned-out starts"] = fanned[-1]
        row["join starts"] = at[("join", "start")]
    else:
        row["step end -> next start"] = statistics.median(
            at[(b, "start")] - at[(a, "end")] for a, b in itertools.pairwise(names)
        )
        row["step's own time"] = statistics.median(at[(n, "end")] - at[(n, "start")] for n in names)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a chain or fan project folder kept by benchmarks/run.py")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hw-gaps-") as tmp:
        rows = [_one(args.project.resolve(), Path(tmp), i) for i in range(args.runs)]
    for key in rows[0]:
        values = [round(r[key], 1) for r in rows]
        print(f"{key:24s} {statistics.median(values):8.1f} ms   {values}")
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
