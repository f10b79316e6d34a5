"""drift: one data drift computation over 1,000,000 baseline and 100,000 target rows x 20 features.

- ``drift.compute``: a process that reads both Parquet files (pandas/pyarrow), calls
  ``headwater.drift.compute_drift`` (column rules, scipy distances, histograms, the classifier with its
  permutation importances) and writes the report JSON. Target (issue 17): under 10 s on 2 cores.
- Floor: a process doing the same reads and importing scipy.stats and scikit-learn's ensembles: what
  any computation with the packages issue 17 prescribes pays before it computes anything. The
  figure's median is the absolute time the target is about; the ratio shows what the statistics add.

The data (made once, kept in the data folder): 14 numeric columns (normal, uniform, lognormal,
integer; two with 5 % missing) and 6 categorical text columns (3 to 40 values); in the target two
numeric means and one category's frequencies are shifted. The run checks that the shifted
features lead the contributions, so a broken computation cannot produce a figure.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError

__all__ = ["run"]

NUMERIC = 14
CATEGORICAL = 6
SHIFTED = {"n03", "n07", "c01"}


def _frame(rows: int, seed: int, shifted: bool):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {}
    for i in range(NUMERIC):
        name = f"n{i:02d}"
        shift = 0.5 if shifted and name in SHIFTED else 0.0
        kind = i % 4
        if kind == 0:
            values = rng.normal(10.0 + shift, 2.0, rows)
        elif kind == 1:
            values = rng.uniform(0.0, 1.0, rows) + shift / 2
        elif kind == 2:
            values = rng.lognormal(1.0 + shift / 4, 0.5, rows)
        else:
            values = np.round(rng.normal(40.0 + 4 * shift, 12.0, rows))
        if i in (5, 9):
            values[rng.random(rows) < 0.05] = np.nan
        data[name] = values
    for i in range(CATEGORICAL):
        name = f"c{i:02d}"
        k = [3, 5, 8, 12, 20, 40][i]
        p = np.full(k, 1.0 / k)
        if shifted and name in SHIFTED:
            p = np.linspace(2.0, 0.5, k)
            p /= p.sum()
        values = np.array([f"v{j}" for j in range(k)], dtype=object)
        data[name] = values[rng.choice(k, size=rows, p=p)]
    return pd.DataFrame(data)


def _data(bench: Bench, baseline_rows: int, target_rows: int) -> Path:
    folder = bench.data / f"drift-{baseline_rows}x{target_rows}"
    if (folder / "complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    bench.say(f"drift: writing {baseline_rows:,} + {target_rows:,} rows of Parquet")
    _frame(baseline_rows, 1, False).to_parquet(folder / "baseline.parquet", index=False)
    _frame(target_rows, 2, True).to_parquet(folder / "target.parquet", index=False)
    (folder / "complete").write_text("")
    return folder


def run(bench: Bench) -> list[Figure]:
    sizes = bench.sizes
    folder = _data(bench, sizes.drift_baseline_rows, sizes.drift_target_rows)
    project = bench.project("drift")
    baseline, target = str(folder / "baseline.parquet"), str(folder / "target.parquet")
    report = project / "report.json"

    def compute(i: int) -> float:
        argv = [bench.python, str(SCRIPTS / "drift_compute.py"), baseline, target, str(report)]
        return bench.timed(argv, cwd=project, label="drift compute")

    def floor() -> float:
        argv = [bench.python, str(SCRIPTS / "drift_floor.py"), baseline, target]
        return bench.timed(argv, cwd=project, label="drift floor")

    bench.say("drift: warm-up")
    floor()
    compute(0)
    result = json.loads(report.read_text())
    if len(result["features"]) != NUMERIC + CATEGORICAL:
        raise BenchError(f"drift: expected {NUMERIC + CATEGORICAL} features compared, got {result['features']}")
    leading = set(list(result["contributions"])[: len(SHIFTED)])
    if sizes.drift_target_rows >= 10_000 and leading != SHIFTED:
        raise BenchError(f"drift: the shifted features {sorted(SHIFTED)} should lead, got {result['contributions']}")
    floors, samples = bench.repeat_pairs("drift compute", floor, compute)
    rows = f"{sizes.drift_baseline_rows:,} baseline + {sizes.drift_target_rows:,} target rows"
    return [
        Figure(
            "drift.compute",
            f"data drift computation, {rows} x {NUMERIC + CATEGORICAL} features",
            "s",
            samples,
            "same reads + importing scipy.stats and sklearn.ensemble",
            floors,
            Target("max", 10, "issue 17: under 10 s on 2 cores"),
            notes=[
                f"drift: magnitude {result['magnitude']:.1f} %, led by {', '.join(list(result['contributions'])[:3])}"
            ],
        )
    ]
