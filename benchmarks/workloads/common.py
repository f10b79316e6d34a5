"""Pieces two workloads share: the orchestrator-memory figure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.figures import Figure, Target
from benchmarks.harness import Bench
from benchmarks.memory import OrchestratorPeak, bare_python_peak_mib

__all__ = ["MEMORY_TARGET", "memory_figure"]

MEMORY_TARGET = Target("max", 60, "DVC 65, Kedro 49")


def memory_figure(
    bench: Bench, name: str, new_workspace: Callable[[int], Path], run: Callable[[], float], ran: list[str]
) -> Figure:
    """Orchestrator peak RSS over ``repeat`` cold runs (untimed); floor: a bare interpreter."""
    samples, floors = [], []
    for i in range(bench.repeat):
        folder = new_workspace(i)
        with OrchestratorPeak(folder, bench.python) as peak:
            run()
        samples.append(peak.peak_mib)
        floors.append(bare_python_peak_mib(bench.python, bench.env()))
        bench.say(f"  {name} orchestrator peak {i + 1}/{bench.repeat}: {samples[-1]:.1f} MiB")
    return Figure(
        f"{name}.orchestrator_rss",
        f"orchestrator peak RSS, {name} cold",
        "MiB",
        samples,
        "bare python process",
        floors,
        MEMORY_TARGET,
        ran=ran,
    )
