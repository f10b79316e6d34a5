"""Interleaved before/after of chain10 cold on a busy machine: floor, then each tree's run, in turn.

    git archive <before> | tar -x -C /tmp/before
    .venv/bin/python benchmarks/run.py --only chain --repeat 1 --keep-work   # makes the project
    .venv/bin/python -m benchmarks.ab_chain benchmarks/.data/work/chain --before /tmp/before [--runs 5]

For every sample, in an existing empty workspace and in a new one (a first run: the config names a
workspace that does not exist), the floor (``sh floor.sh``) runs right before each tree's
``python pipeline.py`` (the tree put first on ``PYTHONPATH``; ``--after`` defaults to this
checkout), so both trees see the same machine state even when the load moves. Prints the median
ratio to the paired floor and the median seconds; the first round is a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREATE = (
    "import sys; from headwater import Workspace; w = Workspace.create(sys.argv[1], folder=sys.argv[2]); "
    "w.write_config(sys.argv[3]); w.close()"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--before", required=True, help="a source tree of the earlier version")
    parser.add_argument("--after", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    project = args.project.resolve()
    trees = {"before": args.before, "after": args.after}
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="hw-ab-") as tmp:
        work = Path(tmp)

        def env(tree: str | None = None) -> dict[str, str]:
            drop = ("PYTHONDONTWRITEBYTECODE", "HEADWATER_MAX_CONCURRENCY", "PYTHONPATH")
            out = {k: v for k, v in os.environ.items() if k not in drop}
            out.update(HEADWATER_HOME=str(work / "home"), BENCH_LEDGER=str(work / "ledger.txt"))
            if tree:
                out["PYTHONPATH"] = tree
            return out

        def timed(argv: list[str], environ: dict[str, str]) -> float:
            os.sync()
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=project, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, _ = os.wait4(proc.pid, 0)
            if status != 0:
                raise SystemExit(f"{argv} failed (wait status {status})")
            return time.perf_counter() - start

        k = 0
        for i in range(args.runs + 1):
            for label, tree in trees.items():
                for mode in ("existing", "new"):
                    k += 1
                    folder = work / f"ws{k}"
                    if mode == "existing":
                        cmd = [sys.executable, "-c", CREATE, f"ab{k}", str(folder), str(project)]
                        subprocess.run(cmd, env=env(tree), check=True, cwd=work)
                    else:
                        config = project / ".azureml" / "config.json"
                        config.parent.mkdir(exist_ok=True)
                        config.write_text(json.dumps({"workspace_name": f"ab{k}", "folder": str(folder)}))
                    floor = timed(["/bin/sh", "floor.sh"], env())
                    seconds = timed([sys.executable, "pipeline.py"], env(tree))
                    if i:  # round 0 warms the bytecode caches
                        results.setdefault(f"{label}, {mode} workspace", []).append(seconds / floor)
                        results.setdefault(f"{label}, {mode} workspace (s)", []).append(seconds)
                        results.setdefault("floor (s)", []).append(floor)
    for key, values in results.items():
        print(f"{key:32s} median {statistics.median(values):6.3f}   {[round(v, 2) for v in values]}")
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
