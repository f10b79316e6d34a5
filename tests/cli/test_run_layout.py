"""A real run's folders are where :mod:`headwater.layout` says: what the engine writes, what the
step's runtime reads, what ``headwater run logs`` and the SDK read."""

from __future__ import annotations

import pytest

from headwater.layout import WorkspaceLayout
from headwater.runtime.context import load_context
from tests.cli.conftest import Cli
from tests.cli.test_run import Project, project  # noqa: F401  (the fixture)


@pytest.mark.slow
def test_the_engine_the_runtime_and_the_cli_use_the_layouts_paths(hw: Cli, project: Project) -> None:  # noqa: F811
    run = project.submit()
    assert run.wait_for_completion(show_output=False) == "Finished"
    ws = WorkspaceLayout(project.ws.folder)
    top = ws.run(run.id)
    assert top.plan.is_file() and top.orchestrator_lock.is_file() and top.orchestrator_log.is_file()
    train = run.find_step_run("train.py")[0]
    step = ws.run(train.id)
    # the CLI and the SDK read the log the executor wrote
    assert train._log_path() == step.std_log
    assert hw("run", "logs", train.id, "-w", "test-ws").stdout == step.std_log.read_text() == "trained on 6\n"
    assert step.driver_log.read_text() == step.std_log.read_text()
    # the step read its context from the layout's file, and was told the layout's events file
    context = load_context(step.context_file)
    assert context.run_id == train.id and context.parent_run_id == run.id
    assert context.events_file == str(step.events_file) and context.run_dir == str(step.folder)
    assert step.workdir.joinpath("train.py").is_file() and step.workdir.joinpath("outputs").is_dir()
