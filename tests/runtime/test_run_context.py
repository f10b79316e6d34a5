"""Run.get_context() inside a step (events file) and outside one (SDK v1's offline prints)."""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import PathEscapeError, Workspace
from headwater.errors import NotSupportedError
from headwater.runtime import Run, RunEnvironmentException
from headwater.runtime.context import CONTEXT_ENV, InputDatasetRef, load_context
from headwater.runtime.events import utc_now
from headwater.runtime.offline import _OfflineRun
from headwater.runtime.run_files import END_REQUEST_FILE, read_end_request
from headwater.store.records import utcnow
from tests.runtime._step import make_context, run_step


@pytest.fixture(autouse=True)
def fresh_contexts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No HEADWATER_CONTEXT from outside, and no run cached by an earlier test."""
    monkeypatch.delenv(CONTEXT_ENV, raising=False)
    monkeypatch.delenv("HEADWATER_WORKSPACE", raising=False)
    monkeypatch.setattr(Run, "_context_runs", {})
    monkeypatch.setattr(_OfflineRun, "_shared_run", None)
    yield


def read_events(context: Path) -> list[dict[str, Any]]:
    events_file = Path(load_context(context).events_file)
    return [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines()]


def step_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **context: Any) -> tuple[Run, Path]:
    """The step run of a context written under ``tmp_path``, in this process."""
    path = make_context(tmp_path, **context)
    monkeypatch.setenv(CONTEXT_ENV, str(path))
    return Run.get_context(), path


# -- in a step process --------------------------------------------------------------------------


def test_a_step_script_writes_its_events_in_a_bare_interpreter(tmp_path: Path) -> None:
    raw = tmp_path / "inputs" / "raw"
    raw.mkdir(parents=True)
    context = make_context(
        tmp_path,
        inputs={"raw": InputDatasetRef("raw", "download", str(raw), None)},
        outputs={"out": str(tmp_path / "staging" / "out")},
        tags={"azureml.nodeid": "n1"},
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "m.txt").write_text("weights v1", encoding="utf-8")
    result = run_step(
        """
        from headwater import Run
        run = Run.get_context()
        assert run is Run.get_context()
        run.log('acc', 0.9)
        run.log('acc', 0.95)
        run.parent.log('best', 1)
        run.tag('k', 'v')
        run.add_properties({'p': 'x'})
        run.upload_file('model/m.txt', 'm.txt')
        open('m.txt', 'w').write('changed after the upload')
        print(run.id, run.parent.id, run.experiment.name, run.experiment.id)
        print(run.input_datasets['raw'])
        print(run.output_datasets['out'])
        print(sorted(run.get_tags().items()))
        """,
        cwd=workdir,
        context=context,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out == [
        "step-run pipeline-run exp exp-id",
        str(raw),
        str(tmp_path / "staging" / "out"),
        "[('azureml.nodeid', 'n1'), ('k', 'v')]",
    ]
    events = read_events(context)
    assert [(e["type"], e["run"], e.get("name")) for e in events] == [
        ("metric", "self", "acc"),
        ("metric", "self", "acc"),
        ("metric", "parent", "best"),
        ("tags", "self", None),
        ("properties", "self", None),
        ("file", "self", "model/m.txt"),
    ]
    assert [e["value"] for e in events[:3]] == [0.9, 0.95, 1]
    assert {e["kind"] for e in events[:3]} == {"scalar"}
    assert events[3]["tags"] == {"k": "v"}
    assert events[5]["path"] == "artifacts/model/m.txt"
    artifact = tmp_path / "runs" / "step-run" / "artifacts" / "model" / "m.txt"
    assert artifact.read_text(encoding="utf-8") == "weights v1"


def test_every_metric_kind_becomes_a_json_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class NumpyLikeScalar:  # duck-typed like numpy.float32
        def item(self) -> float:
            return 0.5

    class Figure:  # duck-typed like matplotlib.figure.Figure
        def savefig(self, fh: io.BytesIO, format: str) -> None:
            fh.write(b"\x89PNG " + format.encode())

    run, context = step_run(tmp_path, monkeypatch)
    (tmp_path / "curve.jpg").write_bytes(b"jpeg")
    run.log("nan", math.nan, description="not a number")
    run.log("inf", math.inf)
    run.log("np", NumpyLikeScalar())
    run.log_list("losses", (3, 2, 1))
    run.log_row("per_class", description="rows", cls="cat", f1=0.7)
    run.log_table("table", {"a": [1, 2], "b": ["x", "y"]})
    run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "data": {}})
    run.log_image("loss", plot=Figure())
    run.log_image("loss", plot=Figure())
    run.log_image("curve", path=str(tmp_path / "curve.jpg"))
    metrics = [e for e in read_events(context) if e["type"] == "metric"]
    assert [(m["name"], m["kind"]) for m in metrics] == [
        ("nan", "scalar"),
        ("inf", "scalar"),
        ("np", "scalar"),
        ("losses", "list"),
        ("per_class", "row"),
        ("table", "table"),
        ("cm", "table"),
        ("loss", "image"),
        ("loss", "image"),
        ("curve", "image"),
    ]
    values = [m["value"] for m in metrics]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == 0.5
    assert values[3:6] == [[3, 2, 1], {"cls": "cat", "f1": 0.7}, {"a": [1, 2], "b": ["x", "y"]}]
    assert metrics[0]["description"] == "not a number" and metrics[4]["description"] == "rows"
    assert metrics[6]["table_type"] == "confusion_matrix"
    assert values[7:] == ["images/loss.png", "images/loss_2.png", "images/curve.jpg"]
    artifacts = tmp_path / "runs" / "step-run" / "artifacts" / "images"
    assert (artifacts / "loss.png").read_bytes() == b"\x89PNG png"
    assert (artifacts / "curve.jpg").read_bytes() == b"jpeg"


def test_uploads_copy_files_folders_and_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, context = step_run(tmp_path, monkeypatch)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    run.upload_folder("outputs/tree", str(src))
    run.upload_files(["one.txt", "two.txt"], [str(src / "a.txt"), str(src / "sub" / "b.txt")])
    run.upload_file("stream.bin", io.BytesIO(b"\x00\x01"))
    run.upload_file("windows\\style.txt", io.StringIO("text"))
    names = [e["name"] for e in read_events(context) if e["type"] == "file"]
    assert names == [
        "outputs/tree/a.txt",
        "outputs/tree/sub/b.txt",
        "one.txt",
        "two.txt",
        "stream.bin",
        "windows/style.txt",
    ]
    artifacts = tmp_path / "runs" / "step-run" / "artifacts"
    assert (artifacts / "outputs" / "tree" / "sub" / "b.txt").read_text() == "b"
    assert (artifacts / "stream.bin").read_bytes() == b"\x00\x01"
    assert (artifacts / "windows" / "style.txt").read_text() == "text"


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../b.txt", "/etc/passwd", "C:/x.txt", ".."])
def test_upload_refuses_names_that_leave_the_artifacts_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    run, context = step_run(tmp_path, monkeypatch)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(PathEscapeError):
        run.upload_file(name, str(tmp_path / "f.txt"))
    assert not Path(load_context(context).events_file).exists()
    assert not (tmp_path / "runs" / "escape.txt").exists()


def test_uploading_a_missing_file_says_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, _ = step_run(tmp_path, monkeypatch)
    with pytest.raises(Exception, match=r"nope\.txt"):
        run.upload_file("x.txt", str(tmp_path / "nope.txt"))


def test_tags_and_properties_in_a_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, context = step_run(tmp_path, monkeypatch, tags={"from": "executor"}, properties={"p0": "v"})
    run.set_tags({"a": 1, "b": None})
    run.remove_tags(["from"])
    run.add_properties({"p1": "x"})
    run.add_properties({"p1": "x"})  # the same value again is fine
    with pytest.raises(Exception, match="immutable"):
        run.add_properties({"p0": "other"})
    assert run.get_tags() == {"a": "1", "b": None}
    assert run.properties == {"p0": "v", "p1": "x"}
    events = read_events(context)
    assert events[0]["tags"] == {"a": "1", "b": None}
    assert events[1] == {"type": "remove_tags", "run": "self", "keys": ["from"], "t": events[1]["t"]}


def test_parent_is_the_pipeline_run_or_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, _ = step_run(tmp_path / "a", monkeypatch)
    assert run.parent is not None and run.parent is run.parent
    assert run.parent.id == "pipeline-run" and run.parent.parent is None
    with pytest.raises(NotSupportedError, match="pipeline run"):
        run.parent.upload_file("x.txt", io.BytesIO(b"x"))
    alone, _ = step_run(tmp_path / "b", monkeypatch, run_id="script-run", parent_run_id=None)
    assert alone.parent is None


def test_log_takes_sdk_1_61s_step_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, context = step_run(tmp_path, monkeypatch)
    run.log("acc", 0.9, step=1)
    run.log("acc", 0.8)
    assert [(e["value"], e.get("step")) for e in read_events(context)] == [(0.9, 1), (0.8, None)]
    _OfflineRun().log("acc", 0.9, step=1)


def test_context_manager_and_lifecycle_calls_are_harmless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, context = step_run(tmp_path, monkeypatch)
    with Run.get_context() as run:
        run.log("x", 1)
        run.flush()
        run.complete()
    assert len(read_events(context)) == 1
    assert not (context.parent / END_REQUEST_FILE).exists()


def test_fail_and_cancel_in_a_step_ask_to_end_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, context = step_run(tmp_path, monkeypatch)
    run_dir = str(context.parent)
    assert read_end_request(run_dir) is None
    run.fail(error_details=ValueError("bad rows"), error_code="E1")
    run.cancel()  # the first request decides
    assert read_end_request(run_dir) == {"status": "Failed", "error": {"message": "ValueError: bad rows", "code": "E1"}}
    assert run.parent is not None
    with pytest.raises(NotSupportedError, match=r"run\.parent\.cancel\(\)"):
        run.parent.cancel()
    with pytest.raises(NotSupportedError, match=r"child_run\(\).*interactive"):
        run.child_run("c")
    with pytest.raises(NotSupportedError, match=r"submit_child\(\)"):
        run.submit_child(object())
    with pytest.raises(NotSupportedError, match=r"get_file_names\(\)"):
        _OfflineRun().get_file_names()


def test_step_workspace_is_the_context_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ws: Workspace
) -> None:
    run, _ = step_run(tmp_path, monkeypatch, workspace_folder=ws.folder, workspace_name=ws.name)
    opened = run.experiment.workspace
    try:
        assert opened == ws and opened is run.experiment.workspace
    finally:
        opened.close()


def test_direct_inputs_are_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ws: Workspace) -> None:
    from headwater import Dataset

    data = ws.folder / "datastores" / "workspaceblobstore" / "data"
    data.mkdir(parents=True)
    (data / "a.csv").write_text("x\n1\n")
    spec = Dataset.File.from_files(path=(ws.get_default_datastore(), "data/"))._to_spec()
    run, _ = step_run(
        tmp_path,
        monkeypatch,
        workspace_folder=ws.folder,
        workspace_name=ws.name,
        inputs={"raw": InputDatasetRef("raw", "direct", None, spec)},
    )
    try:
        dataset = run.input_datasets["raw"]
        assert type(dataset).__name__ == "FileDataset" and dataset.id == spec["id"]
        with pytest.raises(KeyError, match="'raw'"):
            run.input_datasets["rwa"]
    finally:
        run.experiment.workspace.close()


def test_a_bad_context_file_is_an_error_not_an_offline_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONTEXT_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(RunEnvironmentException, match=r"missing\.json"):
        Run.get_context()
    broken = tmp_path / "broken.json"
    broken.write_text('{"run_id": "r"}')
    monkeypatch.setenv(CONTEXT_ENV, str(broken))
    with pytest.raises(RunEnvironmentException, match="workspace"):
        Run.get_context()


# -- offline ------------------------------------------------------------------------------------


def test_offline_run_prints_sdk_v1_lines(capsys: pytest.CaptureFixture[str]) -> None:
    run = Run.get_context()
    assert run is Run.get_context()
    assert run.id.startswith("OfflineRun_") and len(run.id) == len("OfflineRun_") + 36
    run.log("accuracy", 0.7834441980783444)
    run.upload_file("model.pkl", "outputs/model.pkl")
    run.log_list("losses", [3, 2])
    run.log_row("rows", a=1)
    run.log_table("table", {"a": [1]})
    run.log_image("img", path="plot.png")
    run.log_accuracy_table("acc_table", {"schema_type": "accuracy_table"})
    run.tag("k", "v")
    run.remove_tags(["k"])
    run.add_properties({"p": "x"})
    assert run.parent is not None  # an offline run has another offline run as its parent
    run.parent.log("best", 1)
    assert capsys.readouterr().out.splitlines() == [
        "Attempted to log scalar metric accuracy:",
        "0.7834441980783444",
        "Attempted to track file model.pkl at outputs/model.pkl",
        "Attempted to log list metric losses:",
        "[3, 2]",
        "Attempted to log row metric rows:",
        "{'a': 1}",
        "Attempted to log table metric table:",
        "{'a': [1]}",
        "Attempted to log image metric img:",
        "plot.png",
        "Attempted to log accuracy_table metric acc_table:",
        "{'schema_type': 'accuracy_table'}",
        "Attempted to set tags:",
        "{'k': 'v'}",
        "Attempted to remove tags:",
        "['k']",
        "Attempted to add properties:",
        "{'p': 'x'}",
        "Attempted to log scalar metric best:",
        "1",
    ]


def test_times_and_offline_ids_have_the_usual_formats() -> None:
    stamp = utc_now()
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == timedelta(0) and len(stamp) == len(utcnow())  # the store's format
    offline_id = Run.get_context().id
    assert uuid.UUID(offline_id.removeprefix("OfflineRun_")).version == 4


def test_offline_run_has_what_a_submitted_run_has() -> None:
    run = Run.get_context()
    assert run.input_datasets == {} and run.output_datasets == {}
    assert run.parent is not None and run.parent is run.parent and run.parent.parent is None
    assert run.parent.id.startswith("OfflineRun_") and run.parent.id != run.id
    run.tag("k", "v")
    assert run.get_tags() == {"k": "v"}


def test_allow_offline_false_raises() -> None:
    with pytest.raises(RunEnvironmentException, match="HEADWATER_CONTEXT"):
        Run.get_context(allow_offline=False)


def test_offline_workspace_comes_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace.create("proj") as ws:
        ws.write_config(tmp_path / "project")
    (tmp_path / "project" / "src").mkdir()
    monkeypatch.chdir(tmp_path / "project" / "src")
    opened = Run.get_context().experiment.workspace
    try:
        assert opened.name == "proj"
    finally:
        opened.close()


def test_offline_workspace_without_a_config_file_is_a_default_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], headwater_home: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = Run.get_context().experiment.workspace
    try:
        assert opened.name == "default" and opened.folder == headwater_home / "workspaces" / "default"
    finally:
        opened.close()
    assert "created workspace 'default'" in capsys.readouterr().err
    monkeypatch.setenv("HEADWATER_WORKSPACE", "named")
    other = _OfflineRun().experiment.workspace
    try:
        assert other.name == "named"
    finally:
        other.close()
    assert "workspace 'named' ($HEADWATER_WORKSPACE)" in capsys.readouterr().err


# -- the runtime stays stdlib-only ----------------------------------------------------------------


def test_the_runtime_loads_only_the_stdlib(tmp_path: Path) -> None:
    code = """
    import json, sys
    before = set(sys.modules)
    from headwater import Run
    import headwater.runtime.run
    run = Run.get_context()
    run.log('acc', 0.9)
    run.parent.log('best', 1)
    run.tag('k', 'v')
    run.upload_file('a.txt', __file__)
    print(run.input_datasets['raw'], run.output_datasets)
    offline = headwater.runtime.run._OfflineRun()
    offline.log('x', 1)
    loaded = {m.split('.')[0] for m in set(sys.modules) - before}
    print(json.dumps(sorted(loaded - set(sys.stdlib_module_names) - {'headwater'})))
    print(json.dumps(sorted(m for m in sys.modules if m.startswith(('headwater.sdk', 'headwater.store')))))
    """
    raw = tmp_path / "raw"
    context = make_context(tmp_path, inputs={"raw": InputDatasetRef("raw", "mount", str(raw), None)})
    for no_site in (False, True):  # with the venv's site-packages available, and without
        result = run_step(code, cwd=tmp_path / "work", context=context, no_site=no_site)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[-2:] == ["[]", "[]"], lines


def test_run_get_asks_the_workspace_and_loads_no_sdk(tmp_path: Path) -> None:
    code = """
    import json, sys
    from headwater.runtime.run import Run

    class Workspace:  # anything with SDK v1's get_run(run_id)
        name = 'w'
        def get_run(self, run_id):
            return ('run', run_id)

    print(json.dumps(Run.get(Workspace(), 'r1')))
    print(json.dumps(sorted(m for m in sys.modules if m.startswith(('headwater.sdk', 'headwater.store')))))
    """
    result = run_step(code, cwd=tmp_path / "work", context=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ['["run", "r1"]', "[]"]


def test_an_offline_run_has_offline_child_runs(capsys: pytest.CaptureFixture[str]) -> None:
    parent = _OfflineRun()
    child = parent.child_run(name="fold1")
    assert child.id == f"{parent.id}.fold1" and child.parent is parent
    child.log("acc", 0.5)
    assert "Attempted to log scalar metric acc:\n0.5" in capsys.readouterr().out
    assert parent.child_run(run_id="explicit").id == "explicit"
    tagged = parent.create_children(tag_key="fold", tag_values=["1", "2"])
    assert [c.get_tags() for c in tagged] == [{"fold": "1"}, {"fold": "2"}]
    assert len(parent.create_children(count=3)) == 3
