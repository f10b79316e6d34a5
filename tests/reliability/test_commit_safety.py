"""What a step may commit, and what a submit refuses before any step runs (issue #12, items 2, 4, 5).

* Symlinks in a step's output: a link that leaves the output folder (``/etc/passwd``, a sibling
  folder), a dangling link and a link to a folder fail the step with an error naming the output,
  the link and where it points; nothing of the step's outputs is committed and its consumers never
  start. A link to a file inside the output is kept (made relative) and read through.
* ``datastore download`` of a prefix that holds such a link downloads everything else and then
  fails naming the link.
* Output destinations (``..``, absolute, through a symlink leading out of a local datastore, an
  unknown datastore) and wrong-type parameter overrides are refused at submit: no step process
  starts (the ledger stays empty).
* Step names are quoted one way: ``Step 'name'``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from headwater.errors import DataAccessError, GraphValidationError, HeadwaterError
from tests.conftest import gen
from tests.e2e.conftest import ran, script

# -- symlinks in outputs -------------------------------------------------------------------------

# `writer.py <out> <kind> [<second out> <second kind>]`: writes data.txt, then the link of <kind>.
WRITER = script(
    "writer",
    """
import os, sys

def fill(out, kind):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "data.txt"), "w") as fh:
        fh.write("payload")
    if kind == "passwd":
        os.symlink("/etc/passwd", os.path.join(out, "leak.txt"))
    elif kind == "sibling":  # a folder beside the output, reached with a relative link
        sibling = os.path.join(os.path.dirname(os.path.abspath(out)), "sibling")
        os.makedirs(sibling, exist_ok=True)
        with open(os.path.join(sibling, "secret.txt"), "w") as fh:
            fh.write("secret")
        os.makedirs(os.path.join(out, "sub"), exist_ok=True)
        os.symlink(os.path.join("..", "..", "sibling"), os.path.join(out, "sub", "sib"))
    elif kind == "dangling":
        os.symlink("missing.txt", os.path.join(out, "dangling.txt"))
    elif kind == "folder":  # a link to a folder inside the output
        os.makedirs(os.path.join(out, "real"), exist_ok=True)
        os.symlink("real", os.path.join(out, "alias"))
    elif kind == "internal":
        os.makedirs(os.path.join(out, "models"), exist_ok=True)
        with open(os.path.join(out, "models", "v3.txt"), "w") as fh:
            fh.write("model three")
        os.symlink(os.path.join("models", "v3.txt"), os.path.join(out, "latest.txt"))
        os.symlink(os.path.abspath(os.path.join(out, "data.txt")), os.path.join(out, "models", "abs.txt"))
    elif kind == "root":  # the output folder itself replaced by a link
        os.remove(os.path.join(out, "data.txt"))
        os.rmdir(out)
        os.symlink("/etc", out)

fill(sys.argv[1], sys.argv[2])
if len(sys.argv) > 3:
    fill(sys.argv[3], sys.argv[4])
""",
)

READER = script(
    "reader",
    """
import os, sys
inp = sys.argv[1]
with open(os.path.join(inp, "latest.txt")) as fh:
    latest = fh.read()
with open(os.path.join(inp, "models", "abs.txt")) as fh:
    absolute = fh.read()
print("read", latest, "|", absolute)
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.txt", "w") as fh:
    fh.write(latest + "|" + absolute)
""",
)


@pytest.fixture
def links(proj: Path) -> Path:
    gen(proj, {"src": {"writer.py": WRITER, "reader.py": READER}})
    return proj


def _local_store(ws: Workspace) -> tuple[Datastore, Path]:
    store = Datastore.get(ws, "workspaceblobstore")
    return store, Path(store._backend.root)


def _writer_pipeline(ws: Workspace, kind: str, *, second: str | None = None, read: bool = True) -> Pipeline:
    store, _root = _local_store(ws)
    out = OutputFileDatasetConfig(name="out", destination=(store, "committed/{run-id}/out"))
    args: list[Any] = [out, kind]
    outputs = [out]
    if second is not None:
        out2 = OutputFileDatasetConfig(name="out2", destination=(store, "committed/{run-id}/out2"))
        args += [out2, second]
        outputs.append(out2)
    writer = PythonScriptStep("writer.py", name="writer", source_directory="src", arguments=args)
    steps = [writer]
    if read:
        steps.append(
            PythonScriptStep("reader.py", name="reader", source_directory="src", arguments=[out.as_input("inp")])
        )
    return Pipeline(ws, steps=steps)


def _run(ws: Workspace, pipeline: Pipeline) -> Any:
    run = Experiment(ws, "links").submit(pipeline)
    run.wait_for_completion(show_output=False, raise_on_error=False)
    return run


def _error(run: Any, step: str) -> str:
    (child,) = [s for s in run.get_children() if s.name == step]
    return str((child.get_details().get("error") or {}).get("message", ""))


def _assert_refused(ws: Workspace, proj: Path, run: Any, *words: str) -> str:
    assert run.get_status() == "Failed"
    message = _error(run, "writer")
    for word in ("Step 'writer'", "output 'out'", *words):
        assert word in message, (word, message)
    assert ran(proj) == ["writer"]  # the consumer never started
    _store, root = _local_store(ws)
    assert not (root / "committed").exists()  # nothing committed
    return message


@pytest.mark.slow
def test_a_link_to_etc_passwd_fails_the_step_and_commits_nothing(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "passwd"))
    message = _assert_refused(pws, links, run, "'leak.txt'", "'/etc/passwd'", "symlink", "outside the output")
    assert "copy" in message.lower()  # what to do


@pytest.mark.slow
def test_a_relative_link_to_a_sibling_folder_outside_the_output_is_refused(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "sibling"))
    _assert_refused(pws, links, run, "'sub/sib'", "'../../sibling'", "outside the output")


@pytest.mark.slow
def test_a_dangling_link_is_named_as_a_link(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "dangling"))
    message = _assert_refused(pws, links, run, "'dangling.txt'", "'missing.txt'", "symlink", "does not exist")
    assert "No such file or directory" not in message


@pytest.mark.slow
def test_a_link_to_a_folder_is_refused_even_inside_the_output(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "folder"))
    _assert_refused(pws, links, run, "'alias'", "folder")


@pytest.mark.slow
def test_an_output_folder_replaced_by_a_link_is_refused(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "root"))
    _assert_refused(pws, links, run, "'/etc'", "symlink")


@pytest.mark.slow
def test_a_bad_link_in_the_second_output_commits_neither(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "internal", second="passwd", read=False))
    assert run.get_status() == "Failed"
    message = _error(run, "writer")
    assert "output 'out2'" in message and "'/etc/passwd'" in message
    _store, root = _local_store(pws)
    assert not (root / "committed").exists()


@pytest.mark.slow
def test_links_to_files_inside_the_output_are_kept_relative_and_read_through(links: Path, pws: Workspace) -> None:
    run = _run(pws, _writer_pipeline(pws, "internal"))
    assert run.get_status() == "Finished", _error(run, "writer")
    assert ran(links) == ["writer", "reader"]
    (reader,) = [s for s in run.get_children() if s.name == "reader"]
    reader.download_file("outputs/seen.txt", str(links / "seen.txt"))
    assert (links / "seen.txt").read_text() == "model three|payload"
    _store, root = _local_store(pws)
    (committed,) = (root / "committed").iterdir()
    out = committed / "out"
    assert os.readlink(out / "latest.txt") == "models/v3.txt"
    assert os.readlink(out / "models" / "abs.txt") == "../data.txt"  # absolute made relative: survives the move
    assert (out / "models" / "abs.txt").read_text() == "payload"
    # the same content again is reused (the digest follows the links to the same bytes)
    again = _run(pws, _writer_pipeline(pws, "internal"))
    assert again.get_status() == "Finished"
    assert ran(links) == []


# -- units: the scan itself -----------------------------------------------------------------------


def test_output_digest_refuses_a_link_that_leaves_the_output(tmp_path: Path) -> None:
    from headwater.engine.outputs import output_digest
    from headwater.plan.digests import NULL_CACHE

    out = gen(tmp_path / "staging" / "model", {"a.txt": "a"})
    (tmp_path / "outside.txt").write_text("secret")
    (out / "leak").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(DataAccessError, match=r"'leak' in output 'model' is a symlink.*outside the output"):
        output_digest(out, NULL_CACHE)


def test_a_fifo_in_an_output_is_refused_instead_of_hanging_the_digest(tmp_path: Path) -> None:
    from headwater.engine.outputs import output_digest
    from headwater.plan.digests import NULL_CACHE

    out = gen(tmp_path / "staging" / "model", {"a.txt": "a"})
    os.mkfifo(out / "pipe")
    with pytest.raises(DataAccessError, match=r"'pipe' in output 'model' is not a regular file"):
        output_digest(out, NULL_CACHE)


def test_remote_commit_uploads_the_bytes_of_an_internal_link(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """On S3 (moto) a link inside the output becomes an object with the target's bytes."""
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    from headwater.engine.outputs import commit_output, output_digest
    from headwater.plan.digests import NULL_CACHE
    from headwater.store.remote import S3Backend

    backend = S3Backend(
        "s3store",
        bucket=bucket,
        endpoint_url=server.endpoint_url,
        region=server.region,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
    )
    try:
        out = gen(tmp_path / "staging" / "model", {"data.txt": "payload"})
        (out / "latest.txt").symlink_to("data.txt")
        digest = output_digest(out, NULL_CACHE)
        commit_output(out, backend, "models/m1")
        assert sorted(backend.list_files("models/m1")) == ["models/m1/data.txt", "models/m1/latest.txt"]
        with backend.open("models/m1/latest.txt") as fh:
            assert fh.read() == b"payload"
        from headwater.engine.output_check import stored_output_digest

        assert stored_output_digest(backend, "models/m1", NULL_CACHE) == digest

        bad = gen(tmp_path / "staging2" / "model", {"data.txt": "x"})
        (bad / "leak").symlink_to("/etc/passwd")
        with pytest.raises(DataAccessError, match="'/etc/passwd'"):
            commit_output(bad, backend, "models/m2")
        assert backend.list_files("models/m2") == []
    finally:
        backend.close()


# -- datastore download of a prefix holding a bad link -------------------------------------------


def test_download_skips_a_link_leading_out_and_then_fails_naming_it(tmp_path: Path, ws: Workspace) -> None:
    store, root = _local_store(ws)
    gen(root / "shared", {"a.txt": "a", "sub": {"b.txt": "b"}})
    (root / "shared" / "leak.txt").symlink_to("/etc/passwd")
    (root / "shared" / "gone.txt").symlink_to("missing.txt")
    target = tmp_path / "down"
    with pytest.raises(DataAccessError) as info:
        store.download(str(target), prefix="shared/", show_progress=False)
    message = str(info.value)
    assert "'shared/leak.txt'" in message and "'/etc/passwd'" in message
    assert "'shared/gone.txt'" in message and "does not exist" in message
    assert "2 file(s)" in message or "Downloaded 2" in message
    # everything else arrived
    assert (target / "shared" / "a.txt").read_text() == "a"
    assert (target / "shared" / "sub" / "b.txt").read_text() == "b"
    assert not (target / "shared" / "leak.txt").exists()


def test_cli_download_of_a_prefix_with_a_bad_link_fails_clearly(tmp_path: Path, ws: Workspace) -> None:
    from click.testing import CliRunner

    from headwater.cli.main import cli

    _store, root = _local_store(ws)
    gen(root / "shared", {"a.txt": "a"})
    (root / "shared" / "leak.txt").symlink_to("/etc/passwd")
    result = CliRunner().invoke(
        cli, ["datastore", "download", str(tmp_path / "down"), "--prefix", "shared/", "-w", ws.name]
    )
    assert result.exit_code != 0
    assert "'shared/leak.txt'" in result.output and "'/etc/passwd'" in result.output
    assert (tmp_path / "down" / "shared" / "a.txt").read_text() == "a"


# -- output destinations, validated at submit ----------------------------------------------------

NOOP = script("noop", "import sys\nprint('ran', sys.argv[1:])\n")


@pytest.fixture
def noop(proj: Path) -> Path:
    gen(proj, {"src": {"noop.py": NOOP}})
    return proj


def _dest_pipeline(ws: Workspace, destination: Any) -> Pipeline:
    first = PythonScriptStep("noop.py", name="first", source_directory="src", arguments=["x"])
    out = OutputFileDatasetConfig(name="result", destination=destination)
    second = PythonScriptStep("noop.py", name="second", source_directory="src", arguments=[out])
    return Pipeline(ws, steps=[first, second])


def _refused_at_submit(ws: Workspace, proj: Path, pipeline: Pipeline) -> str:
    with pytest.raises(GraphValidationError) as info:
        Experiment(ws, "dest").submit(pipeline)
    assert ran(proj) == []  # no step process started, not even the step without the bad output
    return str(info.value)


@pytest.mark.parametrize("path", ["../escape/{run-id}", "ok/../../escape", "/abs/{run-id}"])
def test_a_destination_leaving_the_datastore_is_refused_at_submit(noop: Path, pws: Workspace, path: str) -> None:
    store, _root = _local_store(pws)
    message = _refused_at_submit(pws, noop, _dest_pipeline(pws, (store, path)))
    assert "Step 'second'" in message and "output 'result'" in message and repr(path) in message


def test_a_destination_through_a_symlink_leading_out_is_refused_at_submit(
    noop: Path, pws: Workspace, tmp_path: Path
) -> None:
    store, root = _local_store(pws)
    (tmp_path / "elsewhere").mkdir()
    (root / "door").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    message = _refused_at_submit(pws, noop, _dest_pipeline(pws, (store, "door/{run-id}")))
    assert "Step 'second'" in message and "output 'result'" in message and "'door/{run-id}'" in message
    assert "symlink" in message


def test_a_destination_on_an_unknown_datastore_is_refused_at_submit(noop: Path, pws: Workspace) -> None:
    message = _refused_at_submit(pws, noop, _dest_pipeline(pws, ("workspaceblobstor", "x/{run-id}")))
    assert "Step 'second'" in message and "output 'result'" in message and "'workspaceblobstor'" in message
    assert "Did you mean 'workspaceblobstore'" in message


def test_every_bad_destination_is_reported_at_once(noop: Path, pws: Workspace) -> None:
    store, _root = _local_store(pws)
    a = OutputFileDatasetConfig(name="a", destination=(store, "../a"))
    b = OutputFileDatasetConfig(name="b", destination=("nope", "b"))
    step = PythonScriptStep("noop.py", name="both", source_directory="src", arguments=[a, b])
    with pytest.raises(GraphValidationError) as info:
        Experiment(pws, "dest").submit(Pipeline(pws, steps=[step]))
    assert "output 'a'" in str(info.value) and "output 'b'" in str(info.value)
    assert ran(noop) == []


def test_pipeline_validate_reports_an_escaping_destination(noop: Path, pws: Workspace) -> None:
    store, _root = _local_store(pws)
    problems = _dest_pipeline(pws, (store, "../up")).validate()
    assert any("Step 'second'" in p and "output 'result'" in p and "'../up'" in p for p in problems), problems


def test_a_good_destination_inside_a_symlinked_folder_that_stays_inside_is_accepted(noop: Path, pws: Workspace) -> None:
    store, root = _local_store(pws)
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    run = Experiment(pws, "dest").submit(_dest_pipeline(pws, (store, "alias/{run-id}")))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert sorted(ran(noop)) == ["noop", "noop"]


# -- parameter types, checked at submit ----------------------------------------------------------

PARAM = script("param", "import sys\nprint('value', sys.argv[1:])\n")


@pytest.fixture
def params(proj: Path) -> Path:
    gen(proj, {"src": {"param.py": PARAM}})
    return proj


def _param_pipeline(ws: Workspace, default: Any) -> Pipeline:
    p = PipelineParameter("p", default_value=default)
    step = PythonScriptStep("param.py", name="uses", source_directory="src", arguments=["--p", p])
    return Pipeline(ws, steps=[step])


@pytest.mark.parametrize(
    ("default", "value", "type_name"),
    [
        (0.1, "not-a-number", "float"),
        (0.1, True, "float"),
        (3, 2.5, "int"),
        (3, "3", "int"),
        (3, False, "int"),
        (True, 1, "bool"),
        (True, "true", "bool"),
        ("abc", 5, "str"),
        (0.1, None, "float"),
    ],
)
def test_a_wrong_type_parameter_is_refused_at_submit(
    params: Path, pws: Workspace, default: Any, value: Any, type_name: str
) -> None:
    with pytest.raises(HeadwaterError) as info:
        Experiment(pws, "params").submit(_param_pipeline(pws, default), pipeline_parameters={"p": value})
    message = str(info.value)
    assert "'p'" in message and type_name in message and repr(value) in message, message
    assert isinstance(info.value, ValueError)  # as SDK v1's errors about parameters
    assert ran(params) == []


def test_a_datapath_parameter_refuses_a_scalar(params: Path, pws: Workspace) -> None:
    from headwater import DataPath
    from headwater.sdk.data_reference import DataPathComputeBinding

    store, _root = _local_store(pws)
    gen(_root, {"data": {"x.txt": "x"}})
    p = PipelineParameter("where", default_value=DataPath(store, "data"))
    step = PythonScriptStep(
        "param.py",
        name="uses",
        source_directory="src",
        arguments=["--p", "x"],
        inputs=[(p, DataPathComputeBinding())],
    )
    with pytest.raises(HeadwaterError) as info:
        Experiment(pws, "params").submit(Pipeline(pws, steps=[step]), pipeline_parameters={"where": "data/other"})
    assert "'where'" in str(info.value) and "DataPath" in str(info.value) and "'data/other'" in str(info.value)
    assert ran(params) == []


@pytest.mark.parametrize(
    ("default", "value", "shown"),
    [(0.1, 2, "2"), (0.1, 0.5, "0.5"), (3, 4, "4"), (True, False, "False"), ("abc", "xyz", "xyz")],
)
def test_a_right_type_parameter_runs(params: Path, pws: Workspace, default: Any, value: Any, shown: str) -> None:
    run = Experiment(pws, "params").submit(_param_pipeline(pws, default), pipeline_parameters={"p": value})
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(params) == ["param"]
    (step,) = run.get_children()
    step.download_file("user_logs/std_log.txt", str(params / "log.txt"))
    text = (params / "log.txt").read_text()
    assert re.search(rf"value \['--p', '{re.escape(shown)}'\]", text), text


# -- one way to quote a step's name -------------------------------------------------------------


def test_a_failing_step_and_a_missing_script_quote_the_step_name_one_way(params: Path, pws: Workspace) -> None:
    gen(params, {"bad": {"fail.py": script("fail", "raise SystemExit(3)\n")}})
    missing = PythonScriptStep("nope.py", name="m", source_directory="src")
    problems = Pipeline(pws, steps=[missing]).validate()
    assert problems and all("Step 'm'" in p for p in problems), problems
    assert not any("[m]" in p for p in problems)
    failing = PythonScriptStep("fail.py", name="f", source_directory="bad")
    run = Experiment(pws, "names").submit(Pipeline(pws, steps=[failing]))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    message = _error(run, "f")
    assert message.startswith("Step 'f' failed"), message
    assert "[f]" not in message


def test_the_ray_worker_commits_no_output_when_one_holds_a_link_leading_out(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A step shipped to a Ray cluster without a shared filesystem: its worker checks every output first."""
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    from headwater.engine.ship_worker import ShippedStep

    datastore = {
        "name": "s3store",
        "kind": "s3",
        "config": {
            "bucket_name": bucket,
            "endpoint_url": server.endpoint_url,
            "region": server.region,
            "credentials": {"access_key_id": "workspace:k", "secret_access_key": "workspace:s"},
        },
        "secrets": {"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key},
    }
    outputs = [{"name": n, "datastore": "s3store", "path": f"shipped/{n}"} for n in ("good", "bad")]
    step = ShippedStep({"outputs": outputs, "datastores": {"s3store": datastore}})
    try:
        gen(step.root / "staging", {"good": {"a.txt": "a"}, "bad": {"b.txt": "b"}})
        (step.root / "staging" / "bad" / "leak").symlink_to("/etc/passwd")
        with pytest.raises(DataAccessError, match=r"'leak' in output 'bad' is a symlink to '/etc/passwd'"):
            step.commit()
        assert step.backend("s3store").list_files("shipped") == []
    finally:
        step.cleanup()
