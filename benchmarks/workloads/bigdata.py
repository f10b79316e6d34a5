"""bigdata: one step whose input is a file dataset of 1,000 files, 1 GiB; cold (first digest) and unchanged.

The files are generated once into the data folder and registered in each new workspace as the
local datastore ``bigdata``. Cold: a new workspace, so its digest cache is empty and every byte is
read; floor: one process reading and BLAKE3-hashing every file. Unchanged: the same workspace
again, the step reused; floor: one process stat-ing every file. The files are in the page cache
for both (the warm-up read them).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.datagen import bigdata_tree
from benchmarks.figures import TIMES, Figure, Target
from benchmarks.harness import SCRIPTS, Bench

if TYPE_CHECKING:
    from headwater import Workspace

__all__ = ["run"]


def run(bench: Bench) -> list[Figure]:
    sizes = bench.sizes
    total_gib = sizes.big_files * sizes.big_file_bytes / (1 << 30)
    name = "bigdata"
    bench.say(f"{name}: {sizes.big_files} files, {total_gib:.3g} GiB (generated once into {bench.data})")
    data = bigdata_tree(bench.data, sizes.big_files, sizes.big_file_bytes)
    files = str(data / "files")
    project = bench.project("bigdata")
    (project / "src").mkdir()
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step.py")
    shutil.copy(SCRIPTS / "bigdata_pipeline.py", project / "pipeline.py")

    def register(ws: Workspace) -> None:
        from headwater import Datastore

        Datastore.register_local_folder(ws, "bigdata", data)

    def new_workspace(label: str) -> Path:
        return bench.workspace(project, label, setup=register)

    def pipeline(label: str, expected: list[str]) -> float:
        seconds = bench.timed([bench.python, "pipeline.py"], cwd=project, label=label)
        bench.expect_started(label, expected)
        return seconds

    def blake3_floor() -> float:
        return bench.timed([bench.python, str(SCRIPTS / "blake3_read.py"), files], cwd=project, label="blake3 floor")

    def stat_floor() -> float:
        return bench.timed([bench.python, str(SCRIPTS / "stat_walk.py"), files], cwd=project, label="stat floor")

    def cold(i: int) -> float:
        new_workspace(f"big-cold-{i}")
        return pipeline(f"{name} cold", ["big"])

    bench.say(f"{name}: warm-up")
    new_workspace("big-warmup")
    pipeline(f"{name} warm-up", ["big"])
    pipeline(f"{name} warm-up re-run", [])
    blake3_floor()
    stat_floor()

    f_cold, s_cold = bench.repeat_pairs(f"{name} cold", blake3_floor, cold)
    f_same, s_same = bench.repeat_pairs(f"{name} unchanged", stat_floor, lambda i: pipeline(f"{name} unchanged", []))
    shape = f"{sizes.big_files:,} files, {total_gib:.3g} GiB"
    return [
        Figure(
            f"{name}.cold",
            f"{name} cold (first digest), {shape}",
            "s",
            s_cold,
            "BLAKE3 read of every file",
            f_cold,
            Target("ratio", 1.5, f"DVC ≈ 9 {TIMES}, MD5"),
            ran=["big"],
        ),
        Figure(
            f"{name}.unchanged",
            f"{name} unchanged re-run, {shape}",
            "s",
            s_same,
            "Python stat walk",
            f_same,
            Target("ratio", 6, f"DVC ≈ 30 {TIMES}"),
            ran=[],
        ),
    ]
