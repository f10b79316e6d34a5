"""The run diff page (``/studio/diff?a=&b=``) and a run's timeline (``/studio/runs/{id}/timeline``) in a
browser, on two real runs of the seed pipeline: B edits train.py, sets lr 0.2 and adds a step."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import project as project  # a fixture
from tests.ops.test_studio_diff_timeline import two_runs
from tests.studio.conftest import Studio

pytestmark = pytest.mark.slow


def test_diff_page_shows_two_runs_side_by_side(studio: Studio, project: Path) -> None:
    a, b = two_runs(project, studio.ws, extra=True)
    studio.goto(f"/studio/diff?a={a.id}&b={b.id}")
    page = studio.page
    assert page.locator("#graph tr[data-step='extra']").get_attribute("data-state") == "added"
    assert page.locator("#graph tr[data-step='prep.py']").get_attribute("data-state") == "same"
    assert "Reused" in page.locator("#graph tr[data-step='prep.py'] td").nth(3).inner_text()
    lr = page.locator("#parameters tr[data-name='lr']")
    assert lr.get_attribute("data-state") == "changed"
    assert [c.inner_text() for c in lr.locator("td").all()] == ["lr", "0.1", "0.2"]
    train = page.locator("section[data-step='train.py']")
    assert train.locator("li[data-path='train.py']").get_attribute("data-state") == "changed"
    assert train.locator("pre.udiff .d-add").first.inner_text() == "+# tuned"
    compare = page.locator("section[data-step='compare.py']")
    assert compare.locator("tr[data-name='model_in']").get_attribute("data-state") == "changed"
    assert [c.inner_text() for c in compare.locator("tr[data-name='weight'] td").all()] == ["weight", "1.5", "3.0"]
    studio.screenshot("diff")


def test_timeline_page_shows_bars_and_the_time_reuse_saved(studio: Studio, project: Path) -> None:
    a, b = two_runs(project, studio.ws)
    studio.goto(f"/studio/runs/{b.id}")
    page = studio.page
    page.click("#timeline-link")  # the run page links to its timeline
    page.wait_for_url(studio.url(f"/studio/runs/{b.id}/timeline"))
    prep = page.locator("#timeline tr[data-step='prep.py']")
    reused_id = prep.get_attribute("data-reused")
    assert reused_id == a.find_step_run("prep.py")[0].id
    assert "saved" in prep.locator(".saved").inner_text()
    assert page.locator("#saved-total").is_visible()
    bar = page.locator("#timeline tr[data-step='train.py'] .bar.run")
    assert bar.bounding_box()["width"] > 0
    assert page.locator("#run-status").inner_text() == "Finished"
    studio.screenshot("timeline")
