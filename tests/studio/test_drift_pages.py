"""The data drift pages: the detectors list, a detector's magnitude over time against its
threshold, a chosen period's feature contributions and baseline-vs-target distributions, the link
from a detector run's page; the webhook shown by host only."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.ops.drift_receiver import SECRET, Receiver
from tests.server.drift_data import make_monitor
from tests.studio.conftest import Studio, wait_until

pytestmark = pytest.mark.slow

FIRST = datetime(2026, 5, 1)


def test_a_detector_page_shows_the_magnitude_over_time_and_a_periods_features(studio: Studio, tmp_path: Path) -> None:
    ws = studio.ws
    days = [FIRST + timedelta(days=i) for i in range(3)]
    receiver = Receiver()
    with receiver:
        monitor = make_monitor(
            ws, tmp_path, "weather", days, shifted=[days[2]], emails=["mlops@example.org"], webhook_url=receiver.url
        )
        run = monitor.backfill(days[0], days[2])
        assert run.wait_for_completion(show_output=False) == "Finished"
        # the server's scheduler raises the backfill's alert and delivers it
        wait_until(lambda: receiver.bodies, timeout=120, what="the alert's webhook")
    host = receiver.url.split("/hooks/")[0]

    page = studio.page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    studio.goto("/studio/drift")
    row = page.locator("tr[data-detector='weather']")
    assert "Day" in row.inner_text() and "30 %" in row.inner_text()
    assert "mlops@example.org" in row.inner_text() and host in row.inner_text()
    assert row.locator("td.alerts").inner_text() == "1"
    assert SECRET not in page.content()
    row.locator("a").click()

    page.wait_for_selector("#magnitude-chart[data-drawn='true'] canvas")
    assert page.locator("#magnitude-chart .u-legend").inner_text().count("threshold") == 1
    periods = page.locator("#periods tbody tr")
    assert periods.count() == 3
    latest = page.locator(f"#periods tr[data-period='{days[2].isoformat()}']")
    assert "selected" in (latest.get_attribute("class") or "")  # the latest period is shown by default
    assert float(latest.locator("td.magnitude").inner_text().rstrip(" %")) > 30
    assert SECRET not in page.content() and f"webhook configured ({host}/…)" in page.content()
    alert = page.locator("#alerts tbody tr")
    assert alert.count() == 1 and "delivered after 1 attempt" in alert.locator("td.webhook").inner_text()

    # the drifted period: temperature first, its histogram drawn; the categorical station as a table
    section = page.locator("#period")
    assert section.get_attribute("data-period") == days[2].isoformat()
    first = page.locator("#contributions tbody tr").first
    assert first.get_attribute("data-feature") == "temperature"
    page.wait_for_selector(".distribution[data-feature='temperature'] [data-drawn='true'] canvas")
    station = page.locator(".distribution[data-feature='station'] table.categorical")
    assert {"north", "south", "east"} <= set(station.locator("tbody td:first-child").all_inner_texts())
    studio.screenshot("drift-detector")
    assert errors == []

    # choose the first period: its own features
    page.locator(f"#periods tr[data-period='{days[0].isoformat()}'] a").first.click()
    page.wait_for_selector(f"#period[data-period='{days[0].isoformat()}']")
    assert page.locator("#contributions tbody tr").count() == 4

    # a detector run's page links to its detector
    studio.goto(f"/studio/runs/{run.id}")
    link = page.locator("#drift-link")
    assert "detector weather" in link.inner_text()
    link.click()
    page.wait_for_selector("#magnitude-chart")
    assert page.url.split("?")[0].endswith("/studio/drift/weather")


def test_an_unknown_detector_or_period_answers_404(studio: Studio) -> None:
    response = studio.goto("/studio/drift/nope")
    assert response.status == 404
    studio.goto("/studio/drift")
    assert "No data drift detectors" in studio.page.locator("#detectors").inner_text()
