"""Reading ``published.endpoint`` / ``pipeline_endpoint.endpoint`` (or ``Pipeline.service_endpoint()``)
starts the workspace's server when none runs; the URLs point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from headwater import Pipeline, PythonScriptStep, Workspace
from headwater.ops.server_process import pid_alive, read_record, running_server, stop_server
from headwater.sdk.pipeline_endpoint import PipelineEndpoint
from tests.conftest import gen
from tests.server.conftest import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def ws(headwater_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    gen(tmp_path / "p", {"src": {"train.py": "print('hi')\n"}})
    monkeypatch.chdir(tmp_path / "p")
    with Workspace.create("auto-publish") as ws:
        try:
            yield ws
        finally:
            record = read_record(ws.folder)
            stop_server(ws.folder)
            if record is not None:
                wait_until(lambda: not pid_alive(record.pid), timeout=30, what="the server to exit")


def test_reading_endpoint_starts_the_server(ws: Workspace) -> None:
    pipeline = Pipeline(ws, [PythonScriptStep("train.py", name="train", source_directory="src")])
    published = pipeline.publish(name="p")
    assert running_server(ws.folder) is None  # publishing alone starts nothing
    url = published.endpoint
    info = running_server(ws.folder)
    assert info is not None and info.autostarted and url.startswith(info.url)
    assert pipeline.service_endpoint() == info.url
    endpoint = PipelineEndpoint.publish(ws, "ep", None, published)
    assert endpoint.endpoint == url.replace(
        f"PipelineSubmit/{published.id}", f"PipelineEndpointSubmit/Id/{endpoint.id}"
    )
    assert requests.post(url, json={"ExperimentName": "x"}, timeout=30).status_code == 401  # no token, no run
