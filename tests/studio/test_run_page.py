"""A pipeline run's page in a browser: the graph, the step panel, live updates, reuse and failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.store.records import RunRecord
from tests.studio.conftest import Studio, wait_until
from tests.studio.pipelines import demo_pipeline, reused_and_failed_run, submit

pytestmark = pytest.mark.slow


def _node(studio: Studio, step_id: str) -> str:
    return f"#graph g.node[data-step-id='{step_id}']"


def test_a_running_step_turns_finished_without_reloading(studio: Studio, demo_project: Path) -> None:
    gate = demo_project / "gate"
    run = submit(studio.ws, demo_pipeline(studio.ws, gate=gate, with_failing_branch=False))
    store = studio.ws.metadata_store

    def train_id() -> str | None:
        step = next((s for s in store.list_runs(parent_id=run.id) if s.name == "train"), None)
        return step.id if step is not None and step.status == "Running" else None

    train = wait_until(train_id, what="train to run")
    page = studio.page
    studio.goto(f"/studio/runs/{run.id}")
    page.wait_for_selector(f"{_node(studio, train)}.state-running")
    page.evaluate("window.__notReloaded = true")
    gate.write_text("go")
    page.wait_for_selector(f"{_node(studio, train)}.state-ran", timeout=60_000)
    page.wait_for_function("document.getElementById('run-status').textContent === 'Finished'", timeout=60_000)
    assert page.evaluate("window.__notReloaded") is True
    row = page.locator(f"#step-table tr[data-step-id='{train}']")
    assert row.locator(".status").inner_text() == "Finished"
    assert "ran" in row.locator(".why").inner_text()
    run.wait_for_completion(show_output=False)


def test_reused_steps_show_why_and_a_failure_is_the_root_cause_of_the_cancellations(
    studio: Studio, demo_project: Path
) -> None:
    run = reused_and_failed_run(studio.ws, demo_project)
    ids = {s.name: s.id for s in run.get_children()}
    page = studio.page
    studio.goto(f"/studio/runs/{run.id}")
    prep = page.locator(_node(studio, ids["prep"]))
    prep.wait_for()
    assert "state-reused" in (prep.get_attribute("class") or "")
    assert prep.locator(".node-why").text_content() == "reused: unchanged"
    assert page.locator(_node(studio, ids["train"])).locator(".node-why").text_content() == "ran: train.py changed"
    check = page.locator(_node(studio, ids["check"]))
    assert "state-failed" in (check.get_attribute("class") or "")
    assert check.locator(".node-why").text_content() == "failed — root cause"
    # edges carry the data's names
    assert set(page.locator("#graph .edge-label").all_text_contents()) == {"prepped", "model", "checked"}

    # the reused step's panel: the reason and the run it reused, linked
    prep.click()
    panel = page.locator(f"#panel .step-panel[data-step-id='{ids['prep']}']")
    panel.wait_for()
    assert "Reused: unchanged" in panel.locator(".decision").inner_text()
    reused = run.find_step_run("prep")[0].get_details()["properties"]["azureml.reusedrunid"]
    assert reused in (panel.locator("a.reused-link").get_attribute("href") or "")
    assert page.url.endswith(f"/studio/runs/{run.id}/steps/{ids['prep']}")  # a stable URL for the panel

    # the canceled step says why and links to the failure; following the link opens its panel
    report = page.locator(f"#step-table tr[data-step-id='{ids['report']}']")
    assert "canceled because step 'check' failed" in report.locator(".why").inner_text()
    report.locator("a.cause").click()
    failed_panel = page.locator(f"#panel .step-panel[data-step-id='{ids['check']}']")
    failed_panel.wait_for()
    assert "the root cause" in failed_panel.locator(".decision").inner_text()
    assert "something broke in check" in failed_panel.locator(".log-tail").inner_text()
    studio.screenshot("run-graph")


def test_a_big_run_draws_a_filtered_graph_and_lists_every_step(studio: Studio) -> None:
    store = studio.ws.metadata_store
    exp = store.get_or_create_experiment("big")
    store.create_run(RunRecord(id="big", experiment_id=exp.id, kind="pipeline", status="Failed", name="big"))
    for i in range(260):
        status = "Failed" if i == 7 else "Finished"
        store.create_run(
            RunRecord(id=f"s{i:03}", experiment_id=exp.id, kind="step", status=status, name=f"step{i:03}",
                      parent_id="big", created_at=f"2026-01-01T00:{i // 60:02}:{i % 60:02}+00:00")
        )  # fmt: skip
    page = studio.page
    studio.goto("/studio/runs/big")
    page.wait_for_selector("#graph svg")
    assert page.locator("#step-table tbody tr").count() == 260
    assert page.locator("#graph g.node").count() == 1  # the one step that did not finish well
    assert page.locator("#graph-shown").inner_text() == "showing 1 of 260 steps"
    page.fill("#graph-filter", "step01")
    page.wait_for_function("document.querySelectorAll('#graph g.node').length === 10")
