"""The benchmark's code is correct on a tiny size: every workload completes and reuses as expected.

No timing is asserted here (figures belong in ``benchmarks/results``); the quick run only checks
that each workload runs, that the runner verified which step processes started, and that the
results are written. The runner itself stops with an error when reuse is not as expected; the
unit tests below show that it does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.figures import TIMES, Figure, Target
from benchmarks.harness import Bench, BenchError, ReuseError, Sizes
from benchmarks.report import table

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"

# key -> the step processes each Headwater run of it must start (None: not a pipeline run)
EXPECTED = {
    "chain3.cold": ["step_0", "step_1", "step_2"],
    "chain3.cold_new_workspace": ["step_0", "step_1", "step_2"],
    "chain3.unchanged": [],
    "chain3.changed": ["step_1", "step_2"],
    "chain3.cutoff": ["step_1"],
    "chain3.orchestrator_rss": ["step_0", "step_1", "step_2"],
    "fan2.cold": ["prep", "sleep_0", "sleep_1", "join"],
    "fan2.orchestrator_rss": ["prep", "sleep_0", "sleep_1", "join"],
    "bigdata.cold": ["big"],
    "bigdata.unchanged": [],
    "startup.step": None,
    "startup.workspace_create": None,
    "submit.cold": ["first"],
    "submit.cached": ["first"],
    "env.resolve_built": None,
    "env.first_build": None,
    "remote.azure_upload": None,
    "remote.azure_download": None,
    "remote.s3_upload": None,
    "remote.s3_download": None,
    "rest.submit": ["rest"],
    "schedule.delay": ["sched"],
    "studio.runs_page": None,
    "studio.run_page_small": None,
    "studio.run_page_large": None,
    "studio.log_page": None,
    "studio.log_search": None,
    "parallel.score": None,
    "parallel.files": None,
    "drift.compute": None,
    "warmstart.pandas": ["ds"],
    "plan.chain": [],
}


@pytest.mark.slow
@pytest.mark.timeout(460)  # above the run's own 400 s bound, so that bound is the one that reports
def test_quick_run_completes_every_workload_with_the_expected_reuse(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--quiet", "--out", str(out), "--data", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=460,  # the parallel workload adds ~40 s (scikit-learn imports in its workers and floors), drift ~15 s
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((out / "latest.json").read_text())
    figures = {f["key"]: f for f in results["figures"]}
    assert set(figures) == set(EXPECTED)
    for key, ran in EXPECTED.items():
        figure = figures[key]
        assert figure["ran"] == ran, key
        assert len(figure["samples"]) == len(figure["floor"]["samples"]) >= 1, key
        assert all(s > 0 for s in figure["samples"] + figure["floor"]["samples"]), key
    assert results["settings"]["quick"] is True
    assert {"cores", "cpu_model", "python", "headwater", "date"} <= set(results["machine"])
    markdown = (out / "latest.md").read_text()
    assert all(f["label"] in markdown for f in results["figures"])
    assert "| figure |" in done.stdout  # the table is printed too


def _bench(tmp_path: Path) -> Bench:
    return Bench(sys.executable, tmp_path / "work", tmp_path / "data", Sizes.quick(), repeat=1, verbose=False)


def test_a_run_that_starts_other_steps_than_expected_fails_loudly(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    bench.ledger.write_text("step_0 start 1.0\nstep_0 end 2.0\nstep_1 start 2.0\n")
    expected = r"expected the step processes \['step_1'\] to run, but \['step_0', 'step_1'\] ran"
    with pytest.raises(ReuseError, match=expected):
        bench.expect_started("chain cut-off", ["step_1"])
    assert bench.ledger.read_text() == ""  # taken, so the next run starts clean
    bench.expect_started("chain unchanged", [])


def test_a_failing_process_raises_with_its_log(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    with pytest.raises(BenchError, match="bad: exit code 3"):
        bench.timed([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], cwd=tmp_path, label="bad")


def test_figures_pair_medians_into_a_ratio_and_judge_the_target() -> None:
    fig = Figure("x.cold", "x cold", "s", [3.0, 1.0, 2.0], "floor", [1.0, 1.0, 4.0], Target("ratio", 1.5))
    assert (fig.median, fig.floor_median, fig.ratio, fig.met) == (2.0, 1.0, 2.0, False)
    mem = Figure("x.rss", "x rss", "MiB", [24.0], "bare", [8.0], Target("max", 60))
    assert mem.met is True
    text = table([fig, mem])
    assert f"| x cold | 3 | 2.000 s | floor | 1.000 s | 2.00 {TIMES} | ≤ 1.5 {TIMES} | **no** |" in text
    assert f"| x rss | 1 | 24.0 MiB | bare | 8.0 MiB | 3.00 {TIMES} | ≤ 60 MiB | yes |" in text
