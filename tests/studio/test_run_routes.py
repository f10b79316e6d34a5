"""The run pages' routes without a browser: status codes, redirects, downloads, the event stream."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import requests

from tests.server.conftest import LiveServer
from tests.studio.pipelines import reused_and_failed_run

pytestmark = pytest.mark.slow


def test_run_pages_panels_downloads_and_events(live_server: LiveServer, demo_project: Path) -> None:
    run = reused_and_failed_run(live_server.ws, demo_project)
    s = requests.Session()
    s.headers.update(live_server.headers("read"))
    base = live_server.url

    listing = s.get(f"{base}/studio/", timeout=30)
    assert listing.status_code == 200 and listing.text.count("data-run-id=") == 2
    assert s.get(f"{base}/studio/?status=Failed", timeout=30).text.count("data-run-id=") == 1
    assert s.get(f"{base}/studio/?sort=size", timeout=30).status_code == 400

    page = s.get(f"{base}/studio/runs/{run.id}", timeout=30)
    assert page.status_code == 200
    steps = dict(re.findall(r'<tr data-step-id="([^"]+)" class="state-(\w+)"', page.text))
    assert sorted(steps.values()) == ["canceled", "failed", "ran", "reused", "reused"]
    ids = {s.name: s.id for s in run.get_children()}
    # a step run's own URL leads to its pipeline run's page with its panel open
    moved = s.get(f"{base}/studio/runs/{ids['train']}", allow_redirects=False, timeout=30)
    assert moved.status_code == 303 and moved.headers["location"] == f"/studio/runs/{run.id}/steps/{ids['train']}"
    panel = s.get(f"{base}/studio/runs/{run.id}/steps/{ids['train']}", params={"partial": 1}, timeout=30).text
    assert "train.py changed" in panel and "<html" not in panel
    # what changed since train's previous run: the snapshot, down to the edited line of train.py
    assert "Source files that changed" in panel and '<span class="add">+# tuned</span>' in panel
    assert s.get(f"{base}/studio/runs/{run.id}/steps/nope", timeout=30).status_code == 404
    assert s.get(f"{base}/studio/runs/nope", timeout=30).status_code == 404

    # downloads: a file of an output, and nothing outside the datastore's root
    link = re.search(r'href="(/studio/runs/[^"]+/outputs/model/files/[^"]+)"', panel)
    assert link is not None, panel
    assert s.get(f"{base}{link.group(1)}", timeout=30).text == "train lr=0.1\n"
    escape = f"{base}/studio/runs/{ids['train']}/outputs/model/files/..%2F..%2F..%2F..%2Fmetadata.db"
    refused = s.get(escape, timeout=30)
    assert refused.status_code == 400 and "escapes" in refused.json()["detail"]
    anonymous = requests.get(f"{base}{link.group(1)}", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/studio/login?")  # no file

    # the event stream of an ended run: the graph once, then the end
    events = s.get(f"{base}/studio/api/runs/{run.id}/events", timeout=30)
    assert events.headers["content-type"].startswith("text/event-stream")
    assert re.findall(r"^event: (\w+)$", events.text, re.M) == ["steps", "end"]


def test_a_script_run_page_is_its_own_panel(live_server: LiveServer) -> None:
    from headwater.store.records import RunRecord

    store = live_server.ws.metadata_store
    exp = store.get_or_create_experiment("scripts")
    parts = {"script": "score.py", "parameters": {}, "arguments": [{"literal": "--fast"}]}
    store.create_run(
        RunRecord(id="sr1", experiment_id=exp.id, kind="script", status="Completed", name="score",
                  fingerprint="f", reason="never ran before", definition={"fingerprint_parts": parts})
    )  # fmt: skip
    page = requests.get(f"{live_server.url}/studio/runs/sr1", headers=live_server.headers("read"), timeout=30)
    assert page.status_code == 200
    assert 'class="step-panel" data-step-id="sr1"' in page.text and "never ran before" in page.text
    assert '<span class="arg">--fast</span>' in page.text


def test_an_open_event_stream_ends_cleanly_when_the_server_stops(live_server: LiveServer, demo_project: Path) -> None:
    from tests.server.conftest import wait_until
    from tests.studio.pipelines import demo_pipeline, submit

    gate = demo_project / "gate"
    run = submit(live_server.ws, demo_pipeline(live_server.ws, gate=gate, with_failing_branch=False))
    try:
        url = f"{live_server.url}/studio/api/runs/{run.id}/events"
        with requests.get(url, headers=live_server.headers("read"), stream=True, timeout=60) as stream:
            lines = stream.iter_lines(decode_unicode=True)
            assert next(lines) == "event: steps"
            live_server.proc.send_signal(signal.SIGTERM)
            rest = list(lines)  # a stream cut by the server's shutdown timeout raises ChunkedEncodingError here
        assert "event: end" not in rest  # the run goes on; only the stream ended
        assert wait_until(lambda: live_server.proc.poll() is not None, what="the server to exit")
        assert live_server.proc.returncode == 0
    finally:
        gate.write_text("go")
        run.wait_for_completion(show_output=False)
