"""A step whose environment is built records when its build started and ended; the timeline shows
its queue, build and run phases (and a step that needs no build records nothing)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import requests

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.ops.studio_timeline import run_timeline
from tests.conftest import gen
from tests.e2e.test_environments import SCRIPT, runconfig
from tests.server.conftest import LiveServer
from tests.server.conftest import live_server as live_server  # a fixture

pytestmark = pytest.mark.slow


def test_a_built_environment_records_its_build_times_and_the_timeline_shows_the_phases(
    tmp_path: Path, live_server: LiveServer
) -> None:
    pws: Workspace = live_server.ws
    src = gen(tmp_path / "src", {"uses_six.py": SCRIPT, "plain.py": "print('plain')\n"})
    built = PythonScriptStep("uses_six.py", name="built", source_directory=str(src), runconfig=runconfig("six==1.16.0"))
    plain = PythonScriptStep("plain.py", name="plain", source_directory=str(src))
    run = Experiment(pws, "envs").submit(Pipeline(pws, steps=[built, plain]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    steps = {s.name: s for s in run.get_steps()}

    props = steps["built"].get_properties()
    started = datetime.fromisoformat(props["headwater.build_started"])
    ended = datetime.fromisoformat(props["headwater.build_ended"])
    ran = steps["built"].get_details()
    assert started <= ended <= datetime.fromisoformat(ran["startTimeUtc"])
    assert not any(k.startswith("headwater.build_") for k in steps["plain"].get_properties())

    rows = {r.name: r for r in run_timeline(pws.metadata_store, run.id).rows}
    phases = rows["built"].phases
    assert phases.build is not None and phases.build > 0
    assert phases.queue is not None and phases.queue >= 0 and phases.run is not None and phases.run > 0
    assert rows["built"].build_start is not None and rows["built"].build_end is not None
    assert rows["built"].build_start <= rows["built"].build_end <= (rows["built"].start or 0)
    assert rows["plain"].phases.build is None and rows["plain"].build_start is None

    # the studio's timeline page draws the three phases
    page = requests.get(
        f"{live_server.url}/studio/runs/{run.id}/timeline", headers=live_server.headers("read"), timeout=60
    )
    assert page.status_code == 200, page.text
    built_row = page.text.split('data-step="built"', 1)[1].split("</tr>", 1)[0]
    plain_row = page.text.split('data-step="plain"', 1)[1].split("</tr>", 1)[0]
    assert 'class="bar build"' in built_row and 'class="bar queue"' in built_row and "bar run" in built_row
    assert 'class="bar build"' not in plain_row and '<td class="phase-build"></td>' in plain_row
