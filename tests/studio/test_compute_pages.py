"""The compute and environments pages: what exists and what ran where."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import AmlCompute, ComputeTarget, Environment, Experiment, Pipeline, PythonScriptStep
from tests.conftest import gen
from tests.studio.conftest import Studio

pytestmark = pytest.mark.slow


def test_compute_targets_and_environments_with_their_runs(
    studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = studio.ws
    monkeypatch.chdir(gen(tmp_path / "proj", {"src": {"a.py": "print('a')\n", "b.py": "print('b')\n"}}))
    cluster = ComputeTarget.create(ws, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=2))
    ComputeTarget.create(ws, "idle-cluster", AmlCompute.provisioning_configuration(max_nodes=1))
    Environment("registered-env").register(ws)
    steps = [
        PythonScriptStep("a.py", name="a", source_directory="src", compute_target=cluster),
        PythonScriptStep("b.py", name="b", source_directory="src"),
    ]
    run = Experiment(ws, "where").submit(Pipeline(ws, steps))
    assert run.wait_for_completion(show_output=False) == "Finished"

    page = studio.page
    studio.goto("/studio/compute")
    assert page.locator("tr[data-target='cpu-cluster'] td.runs").inner_text() == "1"
    assert "max_nodes=2" in page.locator("tr[data-target='cpu-cluster']").inner_text()
    assert page.locator("tr[data-target='idle-cluster'] td.runs").inner_text() == "0"
    assert page.locator("tr[data-target='local'] td.runs").inner_text() == "1"
    assert run.id in (page.locator("tr[data-target='cpu-cluster'] a").get_attribute("href") or "")

    studio.goto("/studio/environments")
    rows = page.locator("#environments tbody tr")
    used = [r for r in rows.all() if r.locator("td.runs").inner_text() == "2"]
    assert len(used) == 1  # both steps ran in the default environment
    registered = page.locator("#environments tr", has_text="registered-env:1")
    assert registered.count() == 1
    studio.screenshot("compute")
