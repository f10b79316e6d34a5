"""parallel: ParallelRunStep throughput on 2 worker processes, against hand-written floors.

- ``parallel.score``: a scikit-learn model scoring 1,000,000 CSV rows in 100 files (a TabularDataset,
  1 MB mini-batches, ``append_row``); floor: ``multiprocessing.Pool(2)`` doing the same pyarrow reads,
  predictions and one output file. The figure is wall time of the whole ``python pipeline.py``
  (submit, orchestrator, the step, the commit of its output) against the Pool script's; the target
  ``>= 0.9 x`` the Pool's rows/s is a time ratio ``≤ 1/0.9``.
- ``parallel.files``: 10,000 small files through a trivial entry script (a FileDataset, 10 files per
  mini-batch); floor: ``xargs -P 2 -n 10`` running the same script as a command. Target ``>= 0.8 x``
  the throughput of xargs: a time ratio ``≤ 1.25``.
"""

from __future__ import annotations

import pickle
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.figures import TIMES, Figure, Target
from benchmarks.harness import SCRIPTS, Bench

if TYPE_CHECKING:
    from headwater import Workspace

__all__ = ["run"]


def _score_data(data: Path, files: int, rows: int) -> Path:
    folder = data / f"parallel-score-{files}x{rows}"
    if (folder / "complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "csv").mkdir(parents=True)
    rng = random.Random(0)
    per_file = rows // files
    for f in range(files):
        lines = ["id,glucose,bmi,age\n"]
        for n in range(per_file):
            lines.append(
                f"{f * per_file + n},{rng.uniform(60, 200):.1f},{rng.uniform(15, 50):.1f},{rng.randint(20, 80)}\n"
            )
        (folder / "csv" / f"part-{f:03d}.csv").write_text("".join(lines))
    from sklearn.linear_model import LogisticRegression

    train = [(rng.uniform(60, 200), rng.uniform(15, 50), rng.randint(20, 80)) for _ in range(2000)]
    labels = [int(g / 200 + b / 100 > 1.0) for g, b, _ in train]
    with open(folder / "model.pkl", "wb") as fh:
        pickle.dump(LogisticRegression(max_iter=1000).fit(train, labels), fh)
    (folder / "complete").write_text("")
    return folder


def _small_files(data: Path, count: int) -> Path:
    folder = data / f"parallel-small-{count}"
    if (folder / "complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "files").mkdir(parents=True)
    for i in range(count):
        (folder / "files" / f"f{i:05d}.txt").write_text(f"file {i}\n")
    (folder / "complete").write_text("")
    return folder


def run(bench: Bench) -> list[Figure]:
    sizes = bench.sizes
    project = bench.project("parallel")
    (project / "src").mkdir()
    for name in ("parallel_score_entry.py", "parallel_files_entry.py"):
        shutil.copy(SCRIPTS / name, project / "src" / name)
    shutil.copy(SCRIPTS / "parallel_score_pipeline.py", project / "pipeline.py")
    bench.say(
        f"parallel: {sizes.score_rows:,} rows in {sizes.score_files} CSV files; {sizes.small_files:,} small files"
    )
    scores = _score_data(bench.data, sizes.score_files, sizes.score_rows)
    small = _small_files(bench.data, sizes.small_files)
    env = bench.env(BENCH_MODEL=str(scores / "model.pkl"))

    def register(ws: Workspace) -> None:
        from headwater import Datastore

        Datastore.register_local_folder(ws, "scores", scores / "csv")
        Datastore.register_local_folder(ws, "small", small / "files")

    bench.workspace(project, "parallel", setup=register)

    def pipeline(kind: str) -> float:
        return bench.timed([bench.python, "pipeline.py", kind], cwd=project, label=f"parallel {kind}", env=env)

    def pool_floor() -> float:
        argv = [bench.python, str(SCRIPTS / "parallel_score_pool.py"), str(scores / "csv"), str(project / "pool.txt")]
        return bench.timed(argv, cwd=project, label="pool floor", env=env)

    def xargs_floor() -> float:
        script = project / "src" / "parallel_files_entry.py"
        line = f"ls -1 | xargs -P 2 -n 10 {bench.python} {script} > {project / 'xargs.txt'}"
        return bench.timed(["/bin/sh", "-c", line], cwd=small / "files", label="xargs floor", env=env)

    bench.say("parallel: warm-up")
    pipeline("score")
    pipeline("files")
    pool_floor()
    xargs_floor()
    f_score, s_score = bench.repeat_pairs("parallel score", pool_floor, lambda i: pipeline("score"))
    f_files, s_files = bench.repeat_pairs("parallel files", xargs_floor, lambda i: pipeline("files"))
    return [
        Figure(
            "parallel.score",
            f"ParallelRunStep scoring, {sizes.score_rows:,} CSV rows in {sizes.score_files} files, 2 workers",
            "s",
            s_score,
            "multiprocessing.Pool(2), same reads and predictions",
            f_score,
            Target("ratio", round(1 / 0.9, 3), f"≥ 0.9 {TIMES} the Pool's rows/s"),
        ),
        Figure(
            "parallel.files",
            f"ParallelRunStep, {sizes.small_files:,} small files, trivial entry script, 2 workers",
            "s",
            s_files,
            "xargs -P 2 -n 10 over the same script",
            f_files,
            Target("ratio", 1.25, f"≥ 0.8 {TIMES} the throughput of xargs"),
        ),
    ]
