"""SDK v1's ``logs/perf/<node>/``: a ParallelRunStep node's resource usage (stdlib only).

The driver samples the node and its worker processes when it starts, every
``--resource_monitor_interval`` seconds (SDK v1's driver argument; default 600, 0 turns the
monitor off) and when it ends, appending one row per sample to
``node_resource_usage.csv`` (CPU %, load, memory, disk of the working folder) and one row per
process to ``processes_resource_usage.csv`` (CPU seconds, resident memory). Read from ``/proc``
where there is one; elsewhere only what the standard library offers (load, disk).
"""

from __future__ import annotations

import csv
import os
import shutil
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["NODE_FILE", "PROCESSES_FILE", "PerfMonitor"]

NODE_FILE = "node_resource_usage.csv"
PROCESSES_FILE = "processes_resource_usage.csv"
_NODE_COLUMNS = ["time", "cpu_percent", "load_1m", "memory_used_mb", "memory_total_mb", "disk_used_gb",
                 "disk_total_gb"]  # fmt: skip
_PROCESS_COLUMNS = ["time", "process", "pid", "cpu_seconds", "rss_mb"]
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs, from ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _memory() -> tuple[str, str]:
    info = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                info[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return "", ""
    total = info.get("MemTotal", 0)
    used = total - info.get("MemAvailable", info.get("MemFree", 0))
    return f"{used / 1024:.1f}", f"{total / 1024:.1f}"


def _process(pid: int) -> tuple[str, str]:
    """(CPU seconds, resident MB) of process ``pid`` (empty when it is gone or there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return "", ""
    cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    return f"{cpu:.2f}", f"{int(fields[21]) * _PAGE / 2**20:.1f}"


class PerfMonitor:
    """Appends samples to ``<logs>/perf/<node>/`` (see the module docstring)."""

    def __init__(self, logs_root: str, node: str, interval: float) -> None:
        self.folder = os.path.join(logs_root, "perf", node)
        self.interval = interval
        self.last = float("-inf")  # the first call samples
        self.cpu = _cpu_times()
        self.percent = ""
        if interval > 0:
            os.makedirs(self.folder, exist_ok=True)

    def due(self, workers: list[Any], *, force: bool = False) -> None:
        """Sample now if ``force`` or the interval passed (``workers``: objects with ``name`` and ``proc``)."""
        now = time.monotonic()
        if self.interval <= 0 or (not force and now - self.last < self.interval):
            return
        self.last = now
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        cpu = _cpu_times()
        if cpu and self.cpu and cpu[1] > self.cpu[1]:  # else too soon to tell: the last figure again
            self.percent = f"{100.0 * (cpu[0] - self.cpu[0]) / (cpu[1] - self.cpu[1]):.1f}"
            self.cpu = cpu
        percent = self.percent
        load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
        disk = shutil.disk_usage(os.getcwd())
        used, total = _memory()
        row = [stamp, percent, load, used, total, f"{disk.used / 2**30:.2f}", f"{disk.total / 2**30:.2f}"]
        self._append(NODE_FILE, _NODE_COLUMNS, [row])
        rows = [[stamp, "driver", str(os.getpid()), *_process(os.getpid())]]
        rows += [[stamp, w.name, str(w.proc.pid), *_process(w.proc.pid)] for w in workers if w.proc.poll() is None]
        self._append(PROCESSES_FILE, _PROCESS_COLUMNS, rows)

    def _append(self, name: str, columns: list[str], rows: list[list[str]]) -> None:
        path = os.path.join(self.folder, name)
        new = not os.path.isfile(path)
        with open(path, "a", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(columns)
            writer.writerows(rows)
