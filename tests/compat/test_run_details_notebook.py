"""``RunDetails(run).show()`` in a real Jupyter kernel: live-updating HTML, with the studio link.

A notebook is executed with nbclient in an ipykernel whose Python is this environment's, with the
azureml layer on its path (as ``headwater compat install`` puts it there). The pipeline's
second step waits for a file the notebook writes only after ``show()``: the HTML shown at first
cannot say Finished, so a final display that does was updated in place while the run ran.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.compat.activate import shim_path
from tests.conftest import gen
from tests.server.conftest import LiveServer
from tests.server.conftest import live_server as live_server  # a fixture

pytestmark = pytest.mark.slow

WAIT = """
import os, sys, time
go = sys.argv[1]
deadline = time.monotonic() + 120
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.05)
print("went")
"""


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A kernel spec running this Python with the azureml layer on its path; its name."""
    spec = tmp_path / "jupyter" / "kernels" / "headwater-test"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Headwater test",
                "language": "python",
                "env": {"PYTHONPATH": str(shim_path())},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    yield "headwater-test"


def execute(cells: list[str], cwd: Path, kernel_name: str) -> Any:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name=kernel_name, timeout=180, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def html_of(cell: Any) -> str:
    shown = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    assert len(shown) == 1, cell.outputs  # one display, updated in place
    return str(shown[0])


def test_run_details_is_live_html_with_a_studio_link(
    live_server: LiveServer, kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = gen(tmp_path / "nb", {"src": {"prep.py": "print('prep')\n", "wait.py": WAIT}})
    monkeypatch.chdir(project)
    ws: Workspace = live_server.ws
    go = tmp_path / "go"
    first = Experiment(ws, "nb").submit(
        Pipeline(ws, [PythonScriptStep("prep.py", name="prep", source_directory="src")])
    )
    assert first.wait_for_completion(show_output=False) == "Finished"

    nb = execute(
        [
            "from azureml.core import Workspace, Experiment\n"
            "from azureml.pipeline.core import Pipeline\n"
            "from azureml.pipeline.steps import PythonScriptStep\n"
            "from azureml.widgets import RunDetails\n"
            f"ws = Workspace.get({ws.name!r})\n"
            "prep = PythonScriptStep('prep.py', name='prep', source_directory='src')\n"
            f"wait = PythonScriptStep('wait.py', name='wait', source_directory='src', arguments=[{str(go)!r}])\n"
            "wait.run_after(prep)\n"
            "run = Experiment(ws, 'nb').submit(Pipeline(ws, [prep, wait]))",
            "print('before show:', run.get_status())\ndetails = RunDetails(run)\ndetails.show()",
            f"open({str(go)!r}, 'w').close()\nrun.wait_for_completion()",
            "t = details._updater\nif t is not None: t.join(60)\nprint('following:', details._updater is not None)",
        ],
        project,
        kernel,
    )
    show = nb.cells[1]
    printed = "".join(o.get("text", "") for o in show.outputs if o["output_type"] == "stream")
    assert "Finished" not in printed  # the run was not over when show() drew it
    html = html_of(show)
    assert 'class="headwater-run-details"' in html
    assert 'data-status="Finished"' in html.split("<table", 1)[0]  # updated in place to the end
    rows = html.split('<tr class="hw-step"')[1:]
    assert len(rows) == 2
    prep_row = next(r for r in rows if ">prep<" in r)
    wait_row = next(r for r in rows if ">wait<" in r)
    assert "reused run " in prep_row and ": unchanged" in prep_row
    assert 'data-status="Finished"' in wait_row and "never ran before" in wait_row
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]  # the graph, refreshed with the table
    assert svg.count('class="hw-node') == 2
    assert 'data-node="prep" data-state="reused"' in svg and 'data-node="wait" data-state="ran"' in svg
    assert svg.count('class="hw-edge"') == 1 and 'data-from="prep" data-to="wait"' in svg
    assert "<title>prep: reused: reused run " in svg
    run_id = str(nb.cells[0].outputs[-1]["text"]).split("Submitted PipelineRun ")[1].split()[0]
    assert f'href="{live_server.url}/studio/runs/{run_id}"' in html
    assert "following: False" in nb.cells[3].outputs[-1]["text"]


def test_run_details_outside_a_kernel_prints_text(
    azureml_on: Path, pws: Workspace, proj: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gen(proj, {"src": {"s.py": "print('s')\n"}})
    run = Experiment(pws, "text").submit(Pipeline(pws, [PythonScriptStep("s.py", name="s", source_directory="src")]))
    run.wait_for_completion(show_output=False)
    capsys.readouterr()
    from azureml.widgets import RunDetails

    RunDetails(run).show()
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(": Finished") and "<" not in out
