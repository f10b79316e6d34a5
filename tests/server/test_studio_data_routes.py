"""The studio's log routes over real HTTP (a live ``headwater serve``, real SQLite store, real
run folders): raw files only from inside the run folder, ranged log windows, server-side search,
and the live log stream (Server-Sent Events) that ends when the run is final."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from headwater import Workspace
from headwater.layout import RunLayout
from headwater.store.records import RunRecord
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow


class Client:
    """requests with the live server's URL and a read token."""

    def __init__(self, server: LiveServer) -> None:
        self.url = server.url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(server.headers("read"))

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.get(self.url + path, **kwargs)


@pytest.fixture
def ws(live_server: LiveServer) -> Workspace:
    return live_server.ws


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[Client]:
    c = Client(live_server)
    yield c
    c.session.close()


def _run(ws: Workspace, status: str = "Running", run_id: str = "run-logs") -> RunLayout:
    store = ws.metadata_store
    experiment = store.get_or_create_experiment("studio")
    store.create_run(RunRecord(id=run_id, experiment_id=experiment.id, kind="script", status=status, name="job"))
    layout = RunLayout.of(ws.folder, run_id)
    layout.std_log.parent.mkdir(parents=True)
    return layout


def test_raw_file_serves_only_files_inside_the_run_folder(ws: Workspace, client: Client) -> None:
    layout = _run(ws, "Completed")
    layout.std_log.write_text("hello\n")
    (Path(ws.folder) / "outside.txt").write_text("secret\n")
    layout.system_logs.mkdir()
    os.symlink(Path(ws.folder) / "outside.txt", layout.system_log("link.log"))
    ok = client.get("/studio/runs/run-logs/raw", params={"file": "user_logs/std_log.txt"})
    assert ok.status_code == 200 and ok.text == "hello\n" and ok.headers["content-type"].startswith("text/plain")
    for name in ("../../outside.txt", "/etc/passwd", "system_logs/link.log", "user_logs/../../../outside.txt"):
        refused = client.get("/studio/runs/run-logs/raw", params={"file": name})
        assert refused.status_code == 400, name
        assert "secret" not in refused.text
    assert client.get("/studio/runs/run-logs/raw", params={"file": "user_logs/none.txt"}).status_code == 404
    assert client.get("/studio/runs/no-such-run/raw", params={"file": "user_logs/std_log.txt"}).status_code == 404
    anonymous = requests.get(
        client.url + "/studio/runs/run-logs/raw",
        params={"file": "user_logs/std_log.txt"},
        timeout=60,
        allow_redirects=False,
    )
    assert anonymous.status_code in (302, 303, 307, 401) and "hello" not in anonymous.text


def test_log_page_shows_the_tail_and_the_api_pages_backwards_and_searches(ws: Workspace, client: Client) -> None:
    layout = _run(ws, "Completed")
    layout.std_log.write_text("".join(f"line {i}\n" for i in range(50_000)))
    page = client.get("/studio/runs/run-logs/logs")
    assert page.status_code == 200
    assert "line 49999" in page.text and "line 100\n" not in page.text  # the tail only
    assert len(page.content) < 200_000
    start = int(re.search(r'data-start="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    first = int(re.search(r'<span class="chunk">line (\d+)\n', page.text).group(1))  # type: ignore[union-attr]
    earlier = client.get("/studio/api/runs/run-logs/logs/chunk", params={"file": "user_logs/std_log.txt", "end": start})
    body = earlier.json()
    assert body["end"] == start and body["lines"][-1] == f"line {first - 1}" and body["start"] < start
    found = client.get(
        "/studio/api/runs/run-logs/logs/search", params={"file": "user_logs/std_log.txt", "q": "LINE 4242", "limit": 3}
    ).json()
    assert [h["line"] for h in found["hits"]] == [4243, 42421, 42422] and found["next_offset"] is not None


def test_log_stream_sends_new_lines_then_ends_when_the_run_is_final(ws: Workspace, client: Client) -> None:
    layout = _run(ws, "Running")
    layout.std_log.write_text("first\n")
    events: list[tuple[str, str]] = []
    arrived = threading.Event()

    def writer() -> None:
        assert arrived.wait(30)
        with open(layout.std_log, "a") as fh:
            fh.write("second\nthi")
        ws.metadata_store.update_run("run-logs", status="Completed")
        with open(layout.std_log, "a") as fh:
            fh.write("rd")  # the last line has no newline: sent once the run is final

    thread = threading.Thread(target=writer)
    thread.start()
    with client.get("/studio/api/runs/run-logs/logs/stream", params={"offset": 0}, stream=True) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        event = ""
        for raw in response.iter_lines():
            line = raw.decode()
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                events.append((event, line[len("data: ") :]))
                arrived.set()
    thread.join()
    lines = [line for kind, data in events if kind == "lines" for line in json.loads(data)["lines"]]
    assert lines == ["first", "second", "third"]
    assert events[-1][0] == "end"


def test_log_stream_resumes_from_last_event_id(ws: Workspace, client: Client) -> None:
    layout = _run(ws, "Completed")
    layout.std_log.write_text("one\ntwo\n")
    response = client.get("/studio/api/runs/run-logs/logs/stream", params={"offset": 0}, headers={"Last-Event-ID": "4"})
    text = response.text
    assert '"lines": ["two"]' in text and "one" not in text and "event: end" in text


STEP = """
import os, sys
from headwater import Run
run = Run.get_context()
for loss in (0.9, 0.5):
    run.log("loss", loss)
run.log("rows", 3)
run.log_row("per_class", cls="a", f1=0.5)
run.log_table("confusion", {"actual": [0, 1], "predicted": [1, 1]})
run.log_list("sizes", [7, 8])
with open("pic.png", "wb") as fh:
    fh.write(b"\\x89PNG\\r\\n\\x1a\\nfake")
run.log_image("picture", path="pic.png")
run.parent.log("pipeline_score", 0.8)
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], "rows.csv"), "w").write("a\\n1\\n")
"""


def test_metric_and_dataset_pages_render_a_real_run(ws: Workspace, client: Client, tmp_path: Path) -> None:
    from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep
    from tests.conftest import gen

    src = gen(tmp_path / "src", {"train.py": STEP})
    out = OutputFileDatasetConfig(name="rows").register_on_complete("prepared")
    step = PythonScriptStep("train.py", name="train", source_directory=str(src), arguments=[out])
    run = Experiment(ws, "metrics").submit(Pipeline(ws, steps=[step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Finished"
    step_id = run.find_step_run("train")[0].id

    page = client.get(f"/studio/runs/{step_id}/metrics")
    assert page.status_code == 200, page.text
    for text in (
        'data-metric="loss"',
        "rows",
        "per_class",
        "confusion",
        "sizes",
        f"/studio/runs/{step_id}/images/images/picture.png",
    ):
        assert text in page.text, text
    pipeline_page = client.get(f"/studio/runs/{run.id}/metrics")
    assert "pipeline_score" in pipeline_page.text and f"/studio/runs/{step_id}/metrics" in pipeline_page.text
    image = client.get(f"/studio/runs/{step_id}/images/images/picture.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert client.get(f"/studio/runs/{step_id}/images/images/%2E%2E/context.json").status_code == 404
    experiment = client.get("/studio/experiments/metrics", params={"metric": "train/loss"})
    assert experiment.status_code == 200 and "compare-chart" in experiment.text and run.id in experiment.text
    assert client.get("/studio/experiments/nope").status_code == 404
    assert "/studio/experiments/metrics" in client.get("/studio/experiments").text

    listing = client.get("/studio/datasets")
    assert listing.status_code == 200 and "/studio/datasets/prepared" in listing.text
    detail = client.get("/studio/datasets/prepared")
    assert detail.status_code == 200, detail.text
    assert "Unchanged since registration" in detail.text and f"/studio/runs/{run.id}/steps/{step_id}" in detail.text
    assert client.get("/studio/datasets/prepared", params={"version": 9}).status_code == 404
    lineage = client.get(f"/studio/runs/{run.id}/datasets")
    assert lineage.status_code == 200 and "/studio/datasets/prepared?version=1" in lineage.text
    logs = client.get(f"/studio/runs/{run.id}/logs")  # a pipeline run: its own logs and links to its steps'
    assert logs.status_code == 200 and f"/studio/runs/{step_id}/logs" in logs.text

    again = Experiment(ws, "metrics").submit(Pipeline(ws, steps=[step]))
    assert again.wait_for_completion(show_output=False, raise_on_error=False) == "Finished"
    reused = again.find_step_run("train")[0]
    reused_logs = client.get(f"/studio/runs/{reused.id}/logs")  # a reused step points to the run that ran
    assert 'data-testid="reused-logs"' in reused_logs.text and f"/studio/runs/{step_id}/logs" in reused_logs.text
