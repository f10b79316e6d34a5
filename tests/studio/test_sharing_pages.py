"""The sharing pages in a browser: published pipelines (list, detail, enable/disable, submit from
the parameter form and land on the new run's page), endpoints (versions, default), schedules (past
fires with the late ones marked, next due times)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from headwater import Pipeline, PipelineParameter, PythonScriptStep, Workspace
from headwater.sdk.pipeline_endpoint import PipelineEndpoint
from headwater.sdk.schedule import Schedule
from headwater.sdk.schedule_recurrence import ScheduleRecurrence
from tests.conftest import gen
from tests.studio.conftest import Studio, wait_until

pytestmark = pytest.mark.slow

ECHO = """
import argparse
from headwater import Run
p = argparse.ArgumentParser(); p.add_argument("--n", type=int); a = p.parse_args()
Run.get_context().log("n", a.n)
"""


@dataclass
class Shared:
    published: Any
    endpoint: Any
    schedule: Any


@pytest.fixture
def shared(studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shared:
    ws: Workspace = studio.ws
    project = gen(tmp_path / "proj", {"src": {"echo.py": ECHO}})
    monkeypatch.chdir(project)
    n = PipelineParameter(name="n", default_value=1)
    step = PythonScriptStep("echo.py", name="echo", source_directory="src", arguments=["--n", n])
    published = Pipeline(ws, [step]).publish("echo-pipe", description="echoes n", version="1.0")
    endpoint = PipelineEndpoint.publish(ws, "echo-ep", "the echo endpoint", published)
    schedule = Schedule.create(
        ws, "nightly", published.id, "nightly-exp", recurrence=ScheduleRecurrence("Day", 1, "2099-01-01T05:30:00")
    )
    store = ws.metadata_store
    on_time = store.record_fire(schedule.id, "2026-12-01T05:30:00+00:00", due_at="2026-12-01T05:30:00+00:00")
    late = store.record_fire(schedule.id, "2026-12-02T05:30:00+00:00", due_at="2026-12-02T05:30:00+00:00", late=True)
    assert on_time is not None and late is not None
    return Shared(published, endpoint, schedule)


def test_submit_a_published_pipeline_from_its_form(studio: Studio, shared: Shared) -> None:
    page = studio.page
    studio.goto("/studio/pipelines")
    page.click(f"tr[data-pipeline-id='{shared.published.id}'] a")
    assert page.locator("h1").inner_text().startswith("echo-pipe")
    assert page.locator("#parameters tr[data-name='n'] td").nth(2).inner_text() == "1"
    page.fill("#experiment_name", "from-studio")
    page.fill("#param-n", "5")
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/studio/runs/*")
    run_id = page.url.rsplit("/", 1)[1]
    store = studio.ws.metadata_store
    run = store.get_run(run_id)
    assert run is not None and run.pipeline_id == shared.published.id
    assert run.definition["parameters"] == {"n": 5}
    assert store.get_experiment("from-studio") is not None
    assert page.locator("#run-status").is_visible()  # the new run's page
    assert run_id in page.locator(".run-head").inner_text()
    studio.screenshot("published-pipeline-submitted")

    def finished() -> bool:
        record = store.get_run(run_id)
        return record is not None and record.status == "Finished"

    wait_until(finished, what="the submitted run to finish")
    studio.goto(f"/studio/pipelines/{shared.published.id}")
    assert page.locator(f"#runs tr[data-run-id='{run_id}']").is_visible()


def test_a_bad_value_is_refused_naming_the_parameter_and_nothing_is_recorded(studio: Studio, shared: Shared) -> None:
    page = studio.page
    studio.goto(f"/studio/pipelines/{shared.published.id}")
    before = len(studio.ws.metadata_store.list_runs())
    page.fill("#experiment_name", "from-studio")
    page.fill("#param-n", "five")
    page.click("#submit-form button[type=submit]")
    error = page.locator("#submit-error").inner_text()
    assert "'n'" in error and "five" in error
    assert page.locator("#param-n").input_value() == "five"  # the form keeps what was typed
    assert len(studio.ws.metadata_store.list_runs()) == before


def test_disable_and_enable_need_submit_scope(studio: Studio, shared: Shared) -> None:
    pid = shared.published.id
    reader = studio.new_page("read")
    reader.goto(studio.url(f"/studio/pipelines/{pid}"))
    assert reader.locator("#toggle").count() == 0 and reader.locator("#submit-form").count() == 0
    refused = requests.post(studio.url(f"/studio/pipelines/{pid}/disable"), headers=studio.server.headers("read"))
    assert refused.status_code == 403

    page = studio.page
    studio.goto(f"/studio/pipelines/{pid}")
    page.click("#toggle")
    page.wait_for_url(studio.url(f"/studio/pipelines/{pid}"))
    assert page.locator("#pipeline-status").inner_text() == "Disabled"
    assert page.locator("#submit-form").count() == 0
    assert studio.ws.metadata_store.get_published_pipeline(pid).status == "Disabled"  # type: ignore[union-attr]
    page.click("#toggle")
    assert page.locator("#pipeline-status").inner_text() == "Active"


def test_endpoint_and_schedule_pages(studio: Studio, shared: Shared) -> None:
    page = studio.page
    studio.goto("/studio/endpoints")
    page.click(f"tr[data-endpoint-id='{shared.endpoint.id}'] a")
    assert page.locator("#default-version").inner_text() == "0"
    row = page.locator("#versions tr[data-version='0']")
    assert "echo-pipe" in row.inner_text() and "default" in row.inner_text()

    studio.goto("/studio/schedules")
    row = page.locator(f"tr[data-schedule-id='{shared.schedule.id}']")
    assert "2099-01-01 05:30" in row.inner_text()
    row.locator("a").first.click()
    assert page.locator("#next-due li").first.inner_text() == "2099-01-01 05:30:00"
    assert page.locator("#next-due li").count() == 5
    late = page.locator("#fires tr[data-late='1']")
    assert late.count() == 1 and "2026-12-02" in late.inner_text() and "late" in late.inner_text()
    assert page.locator("#fires tr").count() == 3  # header + two fires
