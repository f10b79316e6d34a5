"""``make bench``: run the workloads, pair each Headwater figure with its floor, write and print the table.

    .venv/bin/python benchmarks/run.py [--quick] [--repeat N] [--only chain,fan,...] [--out DIR]

Writes ``<out>/latest.json`` and ``<out>/latest.md`` (default ``benchmarks/results``). Generated
data is kept in ``--data`` (default ``benchmarks/.data``); ``--work`` is scratch, emptied at the
start and removed at the end (``--keep-work`` keeps it, e.g. to read the runs' logs).
``--quick`` runs tiny sizes once each: the correctness test uses it, its figures mean nothing.
A workload whose reuse is not what it expects stops the run with an error (exit code 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks.figures import Figure  # noqa: E402
from benchmarks.harness import Bench, BenchError, Sizes  # noqa: E402
from benchmarks.machine import describe  # noqa: E402
from benchmarks.memory import kill_leftovers  # noqa: E402
from benchmarks.report import table, write  # noqa: E402
from benchmarks.workloads import (  # noqa: E402
    bigdata,
    chain,
    drift,
    envs,
    fan,
    parallel,
    plan,
    remote,
    rest_submit,
    schedule,
    startup,
    studio,
    studio_logs,
    submit,
    warmstart,
)

WORKLOADS: dict[str, Callable[[Bench], list[Figure]]] = {
    "chain": chain.run,
    "fan": fan.run,
    "bigdata": bigdata.run,
    "startup": startup.run,
    "submit": submit.run,
    "env": envs.run,
    "remote": remote.run,
    "rest": rest_submit.run,
    "schedule": schedule.run,
    "studio": studio.run,
    "studio_logs": studio_logs.run,
    "parallel": parallel.run,
    "drift": drift.run,
    "warmstart": warmstart.run,
    "plan": plan.run,
}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, one run each (for the correctness test)")
    p.add_argument("--repeat", type=int, default=None, help="runs per figure (default 5; 1 with --quick)")
    p.add_argument("--only", default=",".join(WORKLOADS), help=f"comma-separated subset of {','.join(WORKLOADS)}")
    p.add_argument("--out", type=Path, default=HERE / "results", help="where latest.json and latest.md go")
    p.add_argument("--data", type=Path, default=HERE / ".data", help="generated data, kept between runs")
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default <data>/work), emptied first")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch folder (workspaces, logs) afterwards")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        print(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    load_before = os.getloadavg()
    bench = Bench(
        python=os.path.abspath(sys.executable),  # the venv's interpreter, never `python3` from PATH
        work=(args.work or args.data / "work").resolve(),
        data=args.data.resolve(),
        sizes=Sizes.quick() if args.quick else Sizes.full(),
        repeat=args.repeat or (1 if args.quick else 5),
        verbose=not args.quiet,
    )
    figures: list[Figure] = []
    try:
        for name in names:
            figures += WORKLOADS[name](bench)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        kill_leftovers(bench.work)
        if not args.keep_work:  # removed now, not at the next start: deleting GBs slows the writes after it
            shutil.rmtree(bench.work, ignore_errors=True)
    results = {
        "command": " ".join(shlex.quote(a) for a in ["benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "wall_seconds": round(time.monotonic() - started, 1),
        "machine": {
            **describe(bench.python),
            "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        },
        "settings": {
            "repeat": bench.repeat,
            "quick": args.quick,
            "sizes": dataclasses.asdict(bench.sizes),
            "bytecode": "allowed (PYTHONDONTWRITEBYTECODE removed from the runs' environment"
            + (", where the caller had set it)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ")"),
        },
    }
    json_path, md_path = write(args.out, results, figures)
    print(table(figures))
    print(f"\nwritten: {json_path}, {md_path} ({results['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
