"""``headwater run show`` prints the run's studio page when the workspace's server runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.ops.server_process import running_server
from headwater.store.records import RunRecord
from tests.cli.conftest import Cli, fields
from tests.server.conftest import start_serve, stop_process, wait_until


@pytest.mark.slow
def test_run_show_prints_the_studio_url_only_while_a_server_runs(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    store = cli_ws.metadata_store
    exp = store.get_or_create_experiment("e")
    store.create_run(RunRecord(id="run-1", experiment_id=exp.id, kind="pipeline", status="Finished", name="p"))
    assert "studio" not in fields(hw("run", "show", "run-1", "-w", "test-ws").stdout)
    assert json.loads(hw("run", "show", "run-1", "-w", "test-ws", "--json").stdout)["studio_url"] is None
    proc, out = start_serve(cli_ws.folder, log=tmp_path / "serve.log")
    try:
        info = wait_until(lambda: running_server(cli_ws.folder), what="the server")
        shown = fields(hw("run", "show", "run-1", "-w", "test-ws").stdout)
        assert shown["studio"] == f"{info.url}/studio/runs/run-1"
        assert json.loads(hw("run", "show", "run-1", "-w", "test-ws", "--json").stdout)["studio_url"] == shown["studio"]
    finally:
        stop_process(proc, out)
