"""The runs page in a browser (``/studio/``)."""

from __future__ import annotations

import pytest

from headwater.store.records import RunRecord
from tests.studio.conftest import Studio

pytestmark = pytest.mark.slow


def test_the_runs_list_shows_the_workspace_runs(studio: Studio) -> None:
    store = studio.ws.metadata_store
    experiment = store.get_or_create_experiment("exp-a")
    store.create_run(RunRecord(id="run-1", experiment_id=experiment.id, kind="pipeline", status="Finished", name="p1"))
    studio.goto("/studio/")
    row = studio.page.locator("tr[data-run-id='run-1']")
    assert row.locator("td").nth(1).inner_text() == "exp-a"
    assert "Finished" in row.inner_text()
    assert studio.page.locator("nav a.active").inner_text() == "Runs"


def test_a_page_opened_without_a_session_logs_in_through_the_form(studio: Studio) -> None:
    page = studio.new_page(scope=None)
    page.goto(studio.url("/studio/"))
    assert "/studio/login" in page.url
    page.fill("#token", studio.server.token("read"))
    page.click("button[type=submit]")
    page.wait_for_url(studio.url("/studio/"))
    assert page.locator("h1").inner_text() == "Runs"


def test_the_runs_list_filters_sorts_and_pages_with_stable_urls(studio: Studio) -> None:
    store = studio.ws.metadata_store
    for e, name in enumerate(("churn-model", "forecast", "nightly-etl")):
        experiment = store.get_or_create_experiment(name)
        for i in range(25):
            run_id = f"{name}-{i:02}"
            status = ("Finished", "Failed", "Running", "Finished")[i % 4]
            day = f"2026-11-{i + 1:02}T{8 + e:02}"
            ended = None if status == "Running" and e < 2 else f"{day}:0{3 + i % 5}:41+00:00"
            store.create_run(
                RunRecord(id=run_id, experiment_id=experiment.id, kind="pipeline" if e < 2 else "script",
                          status=status if e < 2 else "Completed", name=f"{name} #{i}",
                          created_at=f"{day}:00:00+00:00", started_at=f"{day}:00:05+00:00", ended_at=ended)
            )  # fmt: skip
            if e < 2:
                for j, (step_status, reused) in enumerate((("Finished", "x"), ("Finished", None), (status, None))):
                    store.create_run(
                        RunRecord(id=f"{run_id}-{j}", experiment_id=experiment.id, kind="step", parent_id=run_id,
                                  status=step_status, reused_run_id=reused)
                    )  # fmt: skip
            store.set_tags(run_id, {"owner": ("ana", "li")[i % 2]})
    page = studio.page
    studio.goto("/studio/")
    assert page.locator("tr[data-run-id]").count() == 50
    assert page.locator(".count").first.inner_text() == "75 runs"
    studio.screenshot("runs", full_page=False)
    page.select_option("select[name=experiment]", "forecast")
    page.select_option("select[name=status]", "Failed")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/studio/?experiment=forecast&status=Failed*")
    assert page.locator("tr[data-run-id]").count() == 6
    assert "2 reused" not in page.locator("tr[data-run-id]").first.inner_text()
    assert "1 reused" in page.locator("tr[data-run-id]").first.inner_text()
    page.click("th a:text('Run')")  # sort by name, keeping the filters in the URL
    assert "sort=name" in page.url and "experiment=forecast" in page.url
    page.click("a.tag:text('owner=li')")
    assert page.locator("tr[data-run-id]").count() == 6  # i % 4 == 1 is odd: li's
    studio.goto("/studio/?page=2")
    assert page.locator("tr[data-run-id]").count() == 25
    assert page.locator(".pager").inner_text().startswith("← Previous")
