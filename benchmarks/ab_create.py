"""Interleaved before/after of ``Workspace.create`` (whole process) against ``import headwater``.

    git archive <before> | tar -x -C /tmp/before
    .venv/bin/python -m benchmarks.ab_create --before /tmp/before [--runs 15]

Each round runs ``python -c "import headwater"`` (this checkout), then ``Workspace.create`` of a
new workspace with each tree first on ``PYTHONPATH`` (``--after`` defaults to this checkout), with
``sync()`` before every process. Prints the median CPU time (user + sys from ``os.wait4``: what a
busy machine moves least) and wall time of each, and their ratios to ``import headwater``; the
first round is a warm-up (bytecode caches).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREATE = "import sys\nfrom headwater import Workspace\nWorkspace.create(sys.argv[1], folder=sys.argv[2]).close()\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a source tree of the earlier version")
    parser.add_argument("--after", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    cases = {
        "import headwater": (["-c", "import headwater"], args.after),
        "create, before": (["-c", CREATE], args.before),
        "create, after": (["-c", CREATE], args.after),
    }
    cpu: dict[str, list[float]] = {key: [] for key in cases}
    wall: dict[str, list[float]] = {key: [] for key in cases}
    with tempfile.TemporaryDirectory(prefix="hw-ab-create-") as tmp:
        for i in range(args.runs + 1):
            for n, (key, (code, tree)) in enumerate(cases.items()):
                extra = [f"ws{n}-{i}", str(Path(tmp) / f"ws{n}-{i}")] if key.startswith("create") else []
                os.sync()
                start = time.perf_counter()
                proc = subprocess.Popen([sys.executable, *code, *extra], env={**base, "PYTHONPATH": tree}, cwd=tmp)
                _, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                if status != 0:
                    raise SystemExit(f"{key} failed (wait status {status})")
                if i:  # round 0 warms the bytecode caches
                    cpu[key].append(usage.ru_utime + usage.ru_stime)
                    wall[key].append(seconds)
    floor_cpu, floor_wall = statistics.median(cpu["import headwater"]), statistics.median(wall["import headwater"])
    for key in cases:
        c, w = statistics.median(cpu[key]), statistics.median(wall[key])
        print(
            f"{key:18s} CPU {c * 1e3:7.1f} ms ({c / floor_cpu:4.2f} x)",
            f"  wall {w * 1e3:7.1f} ms ({w / floor_wall:4.2f} x)",
        )
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
