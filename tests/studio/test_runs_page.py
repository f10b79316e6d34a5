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
