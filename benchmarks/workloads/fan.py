"""fan: prep -> W steps that each sleep -> join, W at once; floor: the same processes with ``xargs -P W``.

The steps run on a compute target ``AmlCompute.provisioning_configuration(max_nodes=W)``. The
warm-up run checks whether that alone lets the W sleeps overlap; where it does not (per-target
concurrency not there yet, and fewer than W cores), the runs set ``HEADWATER_MAX_CONCURRENCY=W``
and the figure says so. Every run (floor too) must show all W sleeps running at once.
"""

from __future__ import annotations

import json
import shlex
import shutil

from benchmarks.figures import TIMES, Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError, LedgerLine
from benchmarks.workloads.common import memory_figure

__all__ = ["run"]


def _overlapped(lines: list[LedgerLine], names: list[str]) -> bool:
    starts = [x.time for x in lines if x.event == "start" and x.name in names]
    ends = [x.time for x in lines if x.event == "end" and x.name in names]
    return len(starts) == len(ends) == len(names) and max(starts) < min(ends)


def run(bench: Bench) -> list[Figure]:
    width, sleep = bench.sizes.fan_width, bench.sizes.fan_sleep
    name = f"fan{width}"
    project = bench.project("fan")
    (project / "src").mkdir()
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step.py")
    shutil.copy(SCRIPTS / "fan_pipeline.py", project / "pipeline.py")
    (project / "bench.json").write_text(json.dumps({"width": width, "sleep": sleep}))
    py = shlex.quote(bench.python)
    inputs = " ".join(f"--input floor/branch_{i}" for i in range(width))
    (project / "floor.sh").write_text(
        "set -e\n"
        f"{py} src/step.py --name prep --output floor/prep\n"
        f"seq 0 {width - 1} | xargs -P {width} -I{{}} {py} src/step.py --name sleep_{{}} --input floor/prep "
        f"--output floor/branch_{{}} --sleep {sleep}\n"
        f"{py} src/step.py --name join {inputs}\n"
    )
    sleepers = [f"sleep_{i}" for i in range(width)]
    every = ["prep", *sleepers, "join"]
    env: dict[str, str] = {}

    def checked(label: str, seconds: float) -> float:
        lines = bench.expect_started(label, every)
        if not _overlapped(lines, sleepers):
            raise BenchError(f"{label}: the {width} sleep steps did not all run at once")
        return seconds

    def floor() -> float:
        return checked(f"{name} floor", bench.timed(["/bin/sh", "floor.sh"], cwd=project, label=f"{name} floor"))

    def pipeline(label: str) -> float:
        seconds = bench.timed([bench.python, "pipeline.py"], cwd=project, label=label, env=bench.env(**env))
        return checked(label, seconds)

    bench.say(f"{name}: warm-up (does the compute target's max_nodes={width} alone give {width} at once?)")
    bench.workspace(project, "fan-probe")
    bench.timed([bench.python, "pipeline.py"], cwd=project, label=f"{name} probe")
    probe = bench.take_ledger()
    if _overlapped(probe, sleepers):
        how = f"compute target max_nodes={width}"
    else:
        env["HEADWATER_MAX_CONCURRENCY"] = str(width)
        how = f"HEADWATER_MAX_CONCURRENCY={width} (the compute target's max_nodes alone did not run {width} at once)"
        bench.workspace(project, "fan-warmup")
        pipeline(f"{name} warm-up")
    bench.say(f"  concurrency from: {how}")
    floor()

    def cold(i: int) -> float:
        bench.workspace(project, f"fan-cold-{i}")
        return pipeline(f"{name} cold")

    f_cold, s_cold = bench.repeat_pairs(f"{name} cold", floor, cold)
    figure = Figure(
        f"{name}.cold",
        f"{name} cold, {width} concurrent {TIMES} {sleep:g} s",
        "s",
        s_cold,
        f"xargs -P {width}",
        f_cold,
        Target("ratio", 1.2, f"DVC 8.1 {TIMES}"),
        [f"concurrency: {how}"],
        ran=every,
    )
    memory = memory_figure(
        bench, name, lambda i: bench.workspace(project, f"fan-mem-{i}"), lambda: pipeline(f"{name} memory"), every
    )
    memory.notes.append(f"concurrency: {how}")
    return [figure, memory]
