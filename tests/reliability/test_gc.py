"""``headwater gc`` (issue #12, item 13): what it removes, what it never removes, what it reports.

Runs are real pipeline runs; "collected" is read from the datastore folders and from which step
processes started on the next submit (the ledger), never from time.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from headwater import (
    Dataset,
    Datastore,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from headwater.cli.main import cli
from tests.conftest import gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.slow

HANG_GUARD_S = 120.0

WRITE = script(
    "write",
    """
import os, sys
out, tag = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "data.txt"), "w") as fh:
    fh.write(tag * 1000)
""",
)

READ = script(
    "read",
    """
import os, sys, time
src, gate = sys.argv[1], sys.argv[2]
with open(os.path.join(src, "data.txt")) as fh:
    print("read", len(fh.read()))
while gate != "-" and not os.path.exists(gate):
    time.sleep(0.02)
""",
)


def _pipeline(ws: Workspace, tag: str = "a", gate: str = "-", register: str | None = None) -> Pipeline:
    store = Datastore(ws, "workspaceblobstore")
    out = OutputFileDatasetConfig(name="out", destination=(store, "gc/{run-id}/out"))
    if register:
        out = out.register_on_complete(register)
    param = PipelineParameter("tag", default_value=tag)
    write = PythonScriptStep(name="write", script_name="write.py", source_directory="src", arguments=[out, param])
    read = PythonScriptStep(
        name="read", script_name="read.py", source_directory="src", arguments=[out.as_input("inp"), gate]
    )
    return Pipeline(ws, [write, read])


def _submit(ws: Workspace, pipeline: Pipeline, experiment: str = "gc") -> Any:
    run = Experiment(ws, experiment).submit(pipeline)
    return run


def _done(run: Any) -> Any:
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def _gc(ws: Workspace, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["gc", "-w", ws.name, "--json", *args])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return json.loads(result.stdout)


def _output_folder(ws: Workspace, run: Any, step: str = "write") -> Path:
    """The local folder of step ``step``'s output 'out' (the default datastore is a local folder)."""
    (out,) = ws.metadata_store.get_run_outputs(run.find_step_run(step)[0].id)
    return Path(Datastore(ws, out.datastore)._backend.root, out.path)


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"write.py": WRITE, "read.py": READ}})
    return proj


def test_old_outputs_are_removed_and_their_steps_rerun_saying_why(src: Path, pws: Workspace) -> None:
    first = _done(_submit(pws, _pipeline(pws)))
    folder = _output_folder(pws, first)
    assert (folder / "data.txt").exists()
    assert sorted(ran(src)) == ["read", "write"]
    _done(_submit(pws, _pipeline(pws)))
    assert ran(src) == []  # everything reused, as before gc

    report = _gc(pws, "--older-than", "0s")
    assert not folder.exists()
    assert report["removed"]["outputs"]["count"] == 1
    assert report["removed"]["outputs"]["bytes"] == 1000
    assert report["freed_bytes"] >= 1000

    again = _done(_submit(pws, _pipeline(pws)))
    assert ran(src) == ["write"]  # 'read' has no output and its input has the same bytes again: reused
    write = again.find_step_run("write")[0]
    assert f"the outputs of run {first.find_step_run('write')[0].id} were removed by headwater gc" in write.reason
    assert _gc(pws, "--older-than", "1d")["removed"]["outputs"]["count"] == 0  # the new run is young


def test_outputs_a_registered_dataset_reads_are_kept(src: Path, pws: Workspace) -> None:
    first = _done(_submit(pws, _pipeline(pws, register="precious")))
    folder = _output_folder(pws, first)
    ds = Dataset.get_by_name(pws, "precious")
    assert ds is not None
    report = _gc(pws, "--older-than", "0s")
    assert (folder / "data.txt").exists()
    assert report["removed"]["outputs"]["count"] == 0
    assert any("dataset 'precious' version 1" in k["why"] for k in report["kept"])
    ran(src)
    _done(_submit(pws, _pipeline(pws, register="precious")))
    assert ran(src) == []  # still reusable


def test_a_running_runs_outputs_are_kept(src: Path, pws: Workspace, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    live = _submit(pws, _pipeline(pws, gate=str(gate)))
    deadline = time.monotonic() + HANG_GUARD_S
    while "read" not in ran(src):  # the writer committed its output; the reader waits at the gate
        assert time.monotonic() < deadline, "the reading step never started"
        time.sleep(0.05)
    folder = _output_folder(pws, live)
    report = _gc(pws, "--older-than", "0s")
    assert (folder / "data.txt").exists()
    assert report["removed"]["outputs"]["count"] == 0
    assert report["removed"]["snapshots"]["count"] == 0
    gate.write_text("")
    _done(live)


def test_dry_run_removes_nothing_and_reports_the_same(src: Path, pws: Workspace) -> None:
    first = _done(_submit(pws, _pipeline(pws)))
    folder = _output_folder(pws, first)
    leftover = Path(pws.folder) / "runs" / first.find_step_run("read")[0].id / "staging" / "half"
    gen(leftover, {"part.bin": "x" * 300})
    snapshots = [p for p in (Path(pws.folder) / "snapshots").iterdir()]
    past = time.time() - 2 * 3600  # stored two hours ago: no submit is using it right now
    for p in snapshots:
        os.utime(p, (past, past))

    dry = _gc(pws, "--older-than", "0s", "--dry-run")
    assert (folder / "data.txt").exists() and leftover.exists()
    assert all(p.exists() for p in snapshots)
    assert dry["dry_run"] is True
    assert dry["removed"]["outputs"] == {"count": 1, "bytes": 1000}
    assert dry["removed"]["staging"] == {"count": 1, "bytes": 300}
    assert dry["removed"]["snapshots"]["count"] == 1

    text = CliRunner().invoke(cli, ["gc", "-w", pws.name, "--older-than", "0s", "--dry-run"])
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("Would remove 1 output(s) (1000 B), 1 staging folder(s) (300 B), 1 snapshot(s)")
    real = _gc(pws, "--older-than", "0s")
    assert real["removed"] == dry["removed"]
    assert real["freed_bytes"] == dry["freed_bytes"]
    assert not folder.exists() and not leftover.exists()
    snapshot_dir = next(p for p in snapshots if p.is_dir() or not p.name.endswith(".json"))
    assert not snapshot_dir.exists()
    assert (snapshot_dir.parent / f"{snapshot_dir.name}.json").exists()  # the manifest stays
    ran(src)
    _done(_submit(pws, _pipeline(pws)))  # the snapshot is stored again
    assert ran(src) == ["write"]


def test_keep_last_keeps_the_newest_runs_of_each_experiment(src: Path, pws: Workspace) -> None:
    runs = [_done(_submit(pws, _pipeline(pws, tag=t))) for t in "abc"]
    other = _done(_submit(pws, _pipeline(pws, tag="d"), experiment="other"))
    folders = [_output_folder(pws, r) for r in [*runs, other]]
    report = _gc(pws, "--keep-last", "2")
    assert [f.exists() for f in folders] == [False, True, True, True]
    assert report["removed"]["outputs"]["count"] == 1
    assert report["removed"]["outputs"]["bytes"] == 1000


@pytest.fixture(params=["azure", "s3"])
def remote_store(request: pytest.FixtureRequest, pws: Workspace) -> Datastore:
    """A remote datastore named 'remote' on Azurite or on the S3 test server."""
    if request.param == "azure":
        azurite = request.getfixturevalue("azurite")
        container = request.getfixturevalue("azure_container")
        return Datastore.register_azure_blob_container(
            pws,
            "remote",
            container,
            azurite.account_name,
            account_key=azurite.account_key,
            account_url=azurite.account_url,
        )
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return Datastore.register_s3(
        pws,
        "remote",
        bucket,
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.region,
    )


def test_outputs_on_a_remote_datastore_are_deleted_through_its_backend(
    src: Path, pws: Workspace, remote_store: Datastore
) -> None:
    out = OutputFileDatasetConfig(name="out", destination=(remote_store, "gc/{run-id}/out"))
    write = PythonScriptStep(name="write", script_name="write.py", source_directory="src", arguments=[out, "r"])
    run = _done(_submit(pws, Pipeline(pws, [write])))
    (record,) = pws.metadata_store.get_run_outputs(run.find_step_run("write")[0].id)
    backend = remote_store._backend
    assert backend.list_files(record.path) == [f"{record.path}/data.txt"]
    report = _gc(pws, "--older-than", "0s")
    assert report["removed"]["outputs"] == {"count": 1, "bytes": 1000}
    assert backend.list_files(record.path) == []
    ran(src)
    again = _done(_submit(pws, Pipeline(pws, [write])))
    assert ran(src) == ["write"]
    assert "were removed by headwater gc" in again.find_step_run("write")[0].reason


def test_unused_built_environments_go_as_env_prune_would(pws: Workspace) -> None:
    from tests.cli.test_env import _fake_built, _register

    registered = _fake_built(pws, _register(pws, "needs-six", "six==1.16.0").to_spec())
    curated = _fake_built(pws, Environment.get(pws, "AzureML-Tutorial").to_spec())
    stray = _fake_built(pws, {"pip_packages": ["stray==1"]})  # last used a day ago
    recent = _fake_built(pws, {"pip_packages": ["recent==1"]}, recent=True)  # a step may run in it
    root = Path(pws.folder) / "environments"
    dry = _gc(pws, "--older-than", "0s", "--dry-run")
    assert dry["removed"]["environments"]["count"] == 1 and (root / stray).is_dir()
    real = _gc(pws, "--older-than", "0s")
    assert real["removed"]["environments"] == dry["removed"]["environments"]
    assert real["removed"]["environments"]["bytes"] > 2048
    assert [i["what"] for i in real["items"] if i["kind"] == "environments"] == [stray]
    assert not (root / stray).exists()
    assert all((root / d).is_dir() for d in (registered, curated, recent))
    other = _fake_built(pws, {"pip_packages": ["other==1"]})  # unused for a day: not 30
    assert _gc(pws, "--older-than", "30d")["removed"]["environments"]["count"] == 0
    assert (root / other).is_dir()


@pytest.mark.parametrize(
    ("source", "prefix"),
    [
        ("gc/x/out", "gc/x/out"),
        ("gc/x/out/", "gc/x/out"),
        ("gc/*/out/*.txt", "gc"),
        ("gc/x/out/*.csv", "gc/x/out"),
        ("*.csv", ""),
        ("gc/x?", "gc"),
        ("", ""),
    ],
)
def test_a_dataset_source_holds_the_folder_before_its_first_glob(source: str, prefix: str) -> None:
    from headwater.ops.gc import _literal_prefix

    assert _literal_prefix(source) == prefix


def test_overlapping_paths() -> None:
    from headwater.ops.gc import _overlaps, parse_age

    assert _overlaps("a/b", "a/b") and _overlaps("a", "a/b/c") and _overlaps("a/b/c", "a") and _overlaps("", "x")
    assert not _overlaps("a/b", "a/bc") and not _overlaps("a/bc", "a/b")
    assert parse_age("30d").days == 30 and parse_age("12h").total_seconds() == 43200 and parse_age("2").days == 2
    with pytest.raises(ValueError):
        parse_age("soon")


def test_a_bad_age_is_refused_naming_the_option() -> None:
    result = CliRunner().invoke(cli, ["gc", "--older-than", "soon"])
    assert result.exit_code == 2
    assert "'soon' is not an age" in result.output and "--older-than" in result.output
