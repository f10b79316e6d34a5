"""Browser tests of the log, metric and dataset pages (Playwright on Debian's Chromium, a real
``headwater serve``, real pipeline runs).

- a running step's log lines arrive on the open page without reloading, and the stream ends when
  the step does;
- a log is searched on the server and a hit opens the log at that line;
- a metric series is drawn as a chart (and compared across runs in the experiment view);
- a dataset's lineage is followed from the dataset page to the producing run and back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from headwater import Dataset, Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep
from tests.conftest import gen
from tests.studio.conftest import Studio, wait_until

pytestmark = pytest.mark.slow

# prints ticks, then waits for the file named by argv[1] before printing its last line
SLOW = """
import os, sys, time
for i in range(1, 6):
    print(f"tick {i}", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
print("all done", flush=True)
"""

TRAIN = """
import sys
from headwater import Run
run = Run.get_context()
for i in range(200):
    print(f"epoch {i} training line")
for loss in (1.0, 0.6, 0.4, 0.3, 0.25, 0.2, 0.18, 0.17):
    run.log("loss", loss * float(sys.argv[1]))
run.log("accuracy", 0.91)
run.log_row("per_class", label="cat", f1=0.9)
run.log_row("per_class", label="dog", f1=0.8)
run.parent.log("pipeline_score", 0.75)
"""

WRITE = """
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "rows.csv"), "w") as fh:
    fh.write("a,b\\n1,2\\n")
"""

READ = """
import sys
print("read", sys.argv[1])
"""


def _submit(studio: Studio, steps: list[Any], experiment: str = "studio") -> Any:
    return Experiment(studio.ws, experiment).submit(Pipeline(studio.ws, steps=steps))


def _finish(studio: Studio, steps: list[Any], experiment: str = "studio") -> Any:
    run = _submit(studio, steps, experiment)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Finished"
    return run


def test_a_running_steps_log_lines_arrive_without_reloading(studio: Studio, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"slow.py": SLOW})
    go = tmp_path / "go"
    run = _submit(studio, [PythonScriptStep("slow.py", name="slow", source_directory=str(src), arguments=[str(go)])])
    store = studio.ws.metadata_store

    def running_step() -> Any:
        steps = store.list_runs(parent_id=run.id)
        return steps[0] if steps and steps[0].status == "Running" else None

    step = wait_until(running_step, what="the step to run")
    page = studio.page
    studio.goto(f"/studio/runs/{step.id}/logs")
    page.evaluate("window.__notReloaded = true")
    log = page.get_by_test_id("log")
    log.get_by_text("tick 5").wait_for()
    assert page.locator("#log-live").is_visible()
    assert "all done" not in log.inner_text()
    go.write_text("")
    log.get_by_text("all done").wait_for()  # arrived over the event stream
    page.locator("#log-live").wait_for(state="hidden")  # the stream ended with the step
    assert page.evaluate("window.__notReloaded") is True
    assert log.inner_text().count("tick 3") == 1  # no line twice
    assert run.wait_for_completion(show_output=False) == "Finished"


@pytest.fixture
def trained(studio: Studio, tmp_path: Path) -> list[Any]:
    src = gen(tmp_path / "train", {"train.py": TRAIN})
    return [
        _finish(
            studio,
            [PythonScriptStep("train.py", name="train", source_directory=str(src), arguments=[scale])],
            experiment="training",
        )
        for scale in ("1", "2")
    ]


def test_search_a_log_and_open_a_hit(studio: Studio, trained: list[Any]) -> None:
    step = trained[0].find_step_run("train")[0]
    page = studio.page
    studio.goto(f"/studio/runs/{step.id}/logs")
    page.get_by_test_id("log-search-input").fill("EPOCH 17")
    page.get_by_role("button", name="Search").click()
    hits = page.locator("#search-hits a.hit")
    hits.first.wait_for()
    assert [h.strip() for h in hits.all_inner_texts()] == ["18: epoch 17 training line"] + [
        f"{i + 1}: epoch {i} training line" for i in range(170, 180)
    ]
    assert "11 matching lines" in page.locator("#search-summary").inner_text()
    studio.screenshot("log-search")
    hits.nth(3).click()
    page.locator("pre.log .hit-line").get_by_text("epoch 172 training line").wait_for()
    raw = page.get_by_test_id("raw-link").get_attribute("href")
    assert raw is not None and "user_logs%2Fstd_log.txt" in raw


def test_metric_chart_and_experiment_comparison(studio: Studio, trained: list[Any]) -> None:
    first, second = trained
    step = first.find_step_run("train")[0]
    page = studio.page
    studio.goto(f"/studio/runs/{step.id}/metrics")
    chart = page.locator('[data-testid=metric-chart][data-metric="loss"]')
    chart.locator("canvas").wait_for()
    assert chart.get_attribute("data-drawn") == "true"
    assert "accuracy" in page.get_by_test_id("scalars").inner_text()
    assert "dog" in page.locator('[data-testid=metric-table][data-metric="per_class"]').inner_text()
    studio.screenshot("metrics")

    studio.goto(f"/studio/runs/{first.id}/metrics")  # pipeline-level metrics (run.parent.log)
    assert "pipeline_score" in page.get_by_test_id("scalars").first.inner_text()

    page.get_by_test_id("experiment-link").click()
    page.wait_for_url(re.compile(r"/studio/experiments/training"))
    page.get_by_test_id("metric-select").select_option("train/loss")
    page.wait_for_url(re.compile(r"metric=train%2Floss"))
    page.get_by_test_id("compare-chart").locator("canvas").wait_for()
    rows = page.get_by_test_id("compare-table").locator("tbody tr")
    assert rows.count() == 2
    assert page.locator("input.overlay:checked").count() == 2
    page.locator(f'input.overlay[data-run="{second.id}"]').uncheck()
    shown = page.evaluate(
        "Array.from(document.querySelectorAll('.u-legend .u-series')).map(e => !e.classList.contains('u-off'))"
    )
    assert shown.count(False) == 1
    studio.screenshot("experiment")


def test_follow_a_datasets_lineage_to_the_producing_run_and_back(studio: Studio, tmp_path: Path) -> None:
    src = gen(tmp_path / "data", {"write.py": WRITE, "read.py": READ})
    out = OutputFileDatasetConfig(name="rows").register_on_complete("prepared")
    produced = _finish(studio, [PythonScriptStep("write.py", name="w", source_directory=str(src), arguments=[out])])
    prepared = Dataset.get_by_name(studio.ws, "prepared")
    consumed = _finish(
        studio,
        [PythonScriptStep("read.py", name="r", source_directory=str(src), arguments=[prepared.as_named_input("prep")])],
    )
    writer = produced.find_step_run("w")[0]
    reader = consumed.find_step_run("r")[0]
    page = studio.page
    studio.goto("/studio/datasets")
    page.get_by_role("link", name="prepared").click()
    page.wait_for_url(re.compile(r"/studio/datasets/prepared"))
    assert "Unchanged since registration" in page.get_by_test_id("data-changed").inner_text()
    assert "as input prep" in page.get_by_test_id("consumers").inner_text()
    consumer = page.get_by_test_id("consumers").get_by_test_id("lineage-run")
    assert reader.id in (consumer.get_attribute("href") or "")
    studio.screenshot("dataset")

    page.get_by_test_id("producer").get_by_test_id("lineage-run").click()
    page.wait_for_url(re.compile(re.escape(writer.id)))
    # back: the step's panel links to its logs, whose Datasets tab links to the version it produced
    page.locator(f'a[href="/studio/runs/{writer.id}/logs"]').first.click()
    page.wait_for_url(re.compile(re.escape(f"/studio/runs/{writer.id}/logs")))
    page.get_by_role("link", name="Datasets", exact=True).last.click()
    page.wait_for_url(re.compile(re.escape(f"/studio/runs/{writer.id}/datasets")))
    page.get_by_test_id("produced").get_by_test_id("dataset-link").click()
    page.wait_for_url(re.compile(r"/studio/datasets/prepared\?version=1"))
