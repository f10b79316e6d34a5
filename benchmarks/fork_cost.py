"""What a fork costs from a process that has imported the given modules (a step server's).

    .venv/bin/python -m benchmarks.fork_cost                       # a lean server's modules
    .venv/bin/python -m benchmarks.fork_cost pandas sklearn.linear_model

Median of 20, ms: ``fork`` + the child's ``_exit`` + ``waitpid``; the same with a child that walks
its objects once (``gc.collect()``, so every page holding an object is copied); the RSS.
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import time


def _fork(touch: bool) -> float:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        if touch:
            import gc

            gc.collect()
        os._exit(0)
    os.waitpid(pid, 0)
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    for name in ["json", "socket", "ctypes", *(sys.argv[1:] if argv is None else argv)]:
        importlib.import_module(name)
    for touch in (False, True):
        times = [_fork(touch) for _ in range(20)]
        label = "fork, child walks its objects" if touch else "fork + exit"
        print(f"{label:30s} {statistics.median(times):7.2f} ms")
    with open("/proc/self/status") as fh:
        rss = next(line.split()[1] for line in fh if line.startswith("VmRSS"))
    print(f"{len(sys.modules)} modules, RSS {int(rss) / 1024:.0f} MiB; load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
