"""The layout names every path of a workspace and a run folder; the runtime's own names agree."""

from __future__ import annotations

from pathlib import Path

from headwater import layout
from headwater.layout import RunLayout, WorkspaceLayout


def test_the_runtime_names_agree_with_the_layout() -> None:
    # The stdlib-only runtime keeps its own copy of the names it uses (it does not import pathlib).
    from headwater.runtime import events, run_files

    assert events.ARTIFACTS_DIR == layout.ARTIFACTS_DIR
    assert run_files.END_REQUEST_FILE == layout.END_REQUEST_FILE
    assert (run_files._WORKDIR, run_files._WORKDIR_FOLDERS) == (layout.WORKDIR, layout.WORKDIR_FOLDERS)


def test_a_run_folder_is_named_from_the_workspace(tmp_path: Path) -> None:
    ws = WorkspaceLayout(tmp_path)
    run = ws.run("abc")
    assert run == RunLayout.of(tmp_path, "abc") == RunLayout(tmp_path / "runs" / "abc")
    assert run.std_log == tmp_path / "runs" / "abc" / "user_logs" / "std_log.txt"
    assert run.driver_log == tmp_path / "runs" / "abc" / "azureml-logs" / "70_driver_log.txt"
    assert run.events_file.name == "events.jsonl" and run.context_file.name == "context.json"
    assert run.orchestrator_log == run.folder / "system_logs" / "orchestrator.log"
    assert run.staged_output("out") == run.folder / "staging" / "out"
    assert run.plan_attempt(2).name == "plan.attempt2.json"
    assert ws.metadata_db == tmp_path / "metadata.db"
    assert ws.output_locks == tmp_path / "locks" / "outputs"
    assert ws.runtime_link_dir == tmp_path / "environments" / ".headwater-runtime"


def test_every_public_name_is_exported() -> None:
    names = [n for n in vars(layout) if not n.startswith("_")]
    public = {n for n in names if n.isupper() or n.endswith("Layout") or n == "log_ring"}
    assert public == set(layout.__all__)
