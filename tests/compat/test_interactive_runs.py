"""Interactive runs and run lifecycle, as SDK v1 code calls them: ``Experiment.start_logging()``,
``child_run``/``create_children``, ``complete``/``fail``/``cancel``, files, tags, ``Experiment``'s
listing, archiving and tags. Real runs in a local workspace, through ``from azureml.core import ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import NotSupportedError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")


def _core() -> Any:
    import azureml.core

    return azureml.core


def test_start_logging_logs_files_tags_and_completes(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = _core()
    monkeypatch.chdir(gen(tmp_path / "nb", {"model.pkl": b"weights", "outputs": {"report.txt": "ok"}}))
    exp = core.Experiment(ws, "notebook")
    run = exp.start_logging(display_name="try 1")
    assert isinstance(run, core.Run)
    assert run.get_status() == "Running"
    run.log("loss", 0.5, step=1)
    run.log("loss", 0.25, step=2)
    run.log_list("sizes", [1, 2])
    run.tag("stage", "explore")
    run.set_tags({"owner": "me"})
    run.upload_file("models/model.pkl", "model.pkl")
    assert run.get_metrics() == {"loss": [0.5, 0.25], "sizes": [1, 2]}
    assert run.get_tags() == {"stage": "explore", "owner": "me"}
    run.complete()
    assert run.get_status() == "Completed"
    # SDK v1 uploads ./outputs when the run completes
    assert {"models/model.pkl", "outputs/report.txt"} <= set(run.get_file_names())
    run.download_file("models/model.pkl", str(tmp_path / "back.pkl"))
    assert (tmp_path / "back.pkl").read_bytes() == b"weights"
    run.download_files(prefix="outputs", output_directory=str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "outputs" / "report.txt").read_text() == "ok"

    again = core.Run.get(ws, run.id)
    assert again.get_status() == "Completed" and again.get_metrics()["loss"] == [0.5, 0.25]
    assert [r.id for r in exp.get_runs()] == [run.id]
    assert run.get_details()["status"] == "Completed"
    assert run.display_name == "try 1"


def test_a_final_status_is_never_rewritten(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exp = _core().Experiment(ws, "notebook")
    failed = exp.start_logging()
    failed.fail(error_details="diverged", error_code="NaNLoss")
    assert failed.get_status() == "Failed"
    failed.complete()
    failed.cancel()
    assert failed.get_status() == "Failed"
    error = failed.get_details()["error"]
    assert error["message"] == "diverged" and error["code"] == "NaNLoss"

    canceled = exp.start_logging()
    canceled.cancel()
    assert canceled.get_status() == "Canceled"

    with exp.start_logging() as run:
        run.log("a", 1)
    assert run.get_status() == "Completed"
    with pytest.raises(ZeroDivisionError), exp.start_logging() as broken:
        1 / 0  # noqa: B018
    assert broken.get_status() == "Failed"
    assert "ZeroDivisionError" in broken.get_details()["error"]["message"]


def test_child_runs_and_get_children_filters(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    parent = _core().Experiment(ws, "sweep").start_logging()
    one = parent.child_run(name="lr=0.1")
    assert one.parent.id == parent.id and one.get_status() == "Running"
    one.log("acc", 0.9)
    one.complete()
    children = parent.create_children(count=2, tag_key="lr", tag_values=["0.2", "0.3"])
    assert [c.get_tags()["lr"] for c in children] == ["0.2", "0.3"]
    children[0].fail()
    grandchild = children[1].child_run(run_id="my-grandchild")
    assert grandchild.id == "my-grandchild"

    assert {c.id for c in parent.get_children()} == {one.id, children[0].id, children[1].id}
    assert [c.id for c in parent.get_children(status="Completed")] == [one.id]
    assert [c.id for c in parent.get_children(tags={"lr": "0.3"})] == [children[1].id]
    assert [c.id for c in parent.get_children(tags="lr")] == [children[0].id, children[1].id]
    assert grandchild.id in {c.id for c in parent.get_children(recursive=True)}
    assert list(parent.get_children(_rehydrate_runs=False))
    assert parent.get_metrics(recursive=True)[one.id] == {"acc": 0.9}
    # children of an interactive run are not top-level runs of the experiment
    assert [r.id for r in parent.experiment.get_runs()] == [parent.id]
    with pytest.raises(ValueError, match="tag_values"):
        parent.create_children(count=3, tag_key="lr", tag_values=["1"])


def test_experiment_list_archive_reactivate_and_tags(ws: Workspace) -> None:
    core = _core()
    a, b = core.Experiment(ws, "exp-a"), core.Experiment(ws, "exp-b")
    a.start_logging().complete()
    b.start_logging().complete()
    assert [e.name for e in core.Experiment.list(ws)] == ["exp-a", "exp-b"]
    a.archive()
    assert a.archived_time is not None
    assert [e.name for e in core.Experiment.list(ws)] == ["exp-b"]
    assert [e.name for e in core.Experiment.list(ws, view_type="ArchivedOnly")] == ["exp-a"]
    assert [e.name for e in core.Experiment.list(ws, view_type="All")] == ["exp-a", "exp-b"]
    a.reactivate()
    assert a.archived_time is None
    assert [e.name for e in core.Experiment.list(ws, experiment_name="exp-a")] == ["exp-a"]

    b.tag("team", "vision")
    b.set_tags({"owner": "me"})
    assert core.Experiment(ws, "exp-b").tags == {"team": "vision", "owner": "me"}
    b.remove_tags(["owner"])
    assert b.tags == {"team": "vision"}
    assert [e.name for e in core.Experiment.list(ws, tags={"team": "vision"})] == ["exp-b"]
    assert [e.name for e in core.Experiment.list(ws, tags="team")] == ["exp-b"]
    assert "experiment" in core.Experiment.get_docs_url().lower()
    assert b.workspace_object is ws and b.identity == "Experiment#exp-b" and core.Experiment.DELIM == "#"
    assert b.portal_url == b.get_portal_url() and Path(b.get_portal_url()).name == "runs"
    with pytest.raises(NotSupportedError, match=r"Experiment\.delete"):
        core.Experiment.delete(ws, a.id)


def test_get_runs_filters_by_type_tags_and_properties(ws: Workspace) -> None:
    exp = _core().Experiment(ws, "filters")
    tagged = exp.start_logging()
    tagged.tag("keep")
    tagged.add_properties({"algo": "tree"})
    tagged.complete()
    other = exp.start_logging()
    other.complete()
    assert [r.id for r in exp.get_runs(tags="keep")] == [tagged.id]
    assert [r.id for r in exp.get_runs(properties={"algo": "tree"})] == [tagged.id]
    assert {r.id for r in exp.get_runs(type="azureml.scriptrun")} == {tagged.id, other.id}
    assert list(exp.get_runs(type="azureml.PipelineRun")) == []


def test_the_other_run_members_work_or_say_what_to_do(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = _core()
    monkeypatch.chdir(tmp_path)
    exp = core.Experiment(ws, "members")
    run = exp.start_logging(display_name="members")
    run.tag("k", "v")
    gen(tmp_path, {"logs": {"train.log": "epoch 1\n"}})
    run.upload_folder("logs", "logs")
    assert (run.status, run.tags, run.display_name, run.type) == ("Running", {"k": "v"}, "members", "azureml.scriptrun")
    assert run.identity.endswith(run.id) and run.number == 0 and run.description is None
    assert run.get_detailed_status() == {"status": "Running", "details": None}
    assert run.get_details_with_logs()["logFiles"] == {"logs/train.log": "epoch 1\n"}
    assert run.get_all_logs(str(tmp_path / "all")) == [str(tmp_path / "all" / "logs" / "train.log")]
    assert "azureml.core.run" in core.Run.get_docs_url() and core.Run.DELIM == "#"
    assert [r.id for r in core.Run.list(exp, status="Running")] == [run.id]
    assert run.get_snapshot_id() is None
    for call, member in (
        (lambda: run.get_secret("KEY"), "get_secret"),
        (lambda: run.take_snapshot("."), "take_snapshot"),
        (lambda: run.restore_snapshot(path="x"), "restore_snapshot"),
        (lambda: core.Run.list_by_compute(None), "list_by_compute"),
        (lambda: run.submit_child(object()), "submit_child"),
    ):
        with pytest.raises(NotSupportedError, match=rf"Run\.{member}\(\)") as info:
            call()
        assert info.value.hint
    run.complete()
    assert [r.id for r in core.Run.list(exp, status="Running")] == []


@pytest.mark.slow
def test_submit_child_runs_a_script_under_the_interactive_run(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = _core()
    monkeypatch.chdir(
        gen(tmp_path / "nb", {"src": {"train.py": "from azureml.core import Run\nRun.get_context().log('acc', 0.7)\n"}})
    )
    parent = core.Experiment(ws, "sweep").start_logging()
    child = parent.submit_child(core.ScriptRunConfig("src", "train.py"), tags={"trial": "1"})
    assert child.wait_for_completion()["status"] == "Completed"
    assert child.parent.id == parent.id and child.get_tags()["trial"] == "1"
    assert child.get_metrics() == {"acc": 0.7}
    assert [c.id for c in parent.get_children(type="azureml.scriptrun")] == [child.id]
    assert [r.id for r in parent.experiment.get_runs()] == [parent.id]  # a child is not top-level
    with pytest.raises(NotSupportedError, match=r"submit_child\(\) of a dict"):
        parent.submit_child({"script": "train.py"})
