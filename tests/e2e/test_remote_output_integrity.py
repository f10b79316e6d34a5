"""A remote output is reused only while it is what the earlier run wrote (Azure Blob on Azurite, S3 on moto).

Two ways a remote output folder can stop matching its run's record:
* another tool rewrites a blob in place: reuse compares the recorded digest with the files'
  current fingerprints (metadata only) and the step runs again, saying why;
* a later commit to the same path fails halfway: earlier runs' records of the path were superseded
  before it was written, so none of them is reused on top of the mix.

The datastore talks to the server through a loopback proxy that logs every request and, when
told to, refuses uploads (HTTP 503) after a given number: a real partial failure, no patching.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    ActivityFailedException,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    Workspace,
)
from headwater.engine.output_check import outputs_intact
from headwater.plan.digests import NULL_CACHE
from headwater.store.remote import RETRIES_SETTING
from tests.conftest import gen
from tests.e2e.conftest import ran, script
from tests.fixtures.http_proxy import UploadCuttingProxy
from tests.fixtures.remote_store import STORE, RemoteStore, remote_store

pytestmark = pytest.mark.slow


Remote = RemoteStore[UploadCuttingProxy]


@pytest.fixture(params=["azure", "s3"])
def remote(request: pytest.FixtureRequest) -> Iterator[Remote]:
    # Asked for before ``proj`` (which changes the working directory), as in test_remote_datastores.
    if request.param == "azure":
        port = request.getfixturevalue("azurite").port
    else:
        port = request.getfixturevalue("s3_server").port
    proxy = UploadCuttingProxy(port)
    try:
        yield remote_store(request, request.param, proxy=proxy, via=proxy.url)
    finally:
        proxy.close()


def writer(tag: str, files: dict[str, str]) -> str:
    """A step script (ledger tag ``tag``) that writes ``files`` into its ``--out`` folder."""
    return script(
        tag,
        f"""
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--out")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
for name, text in {files!r}.items():
    with open(os.path.join(a.out, name), "w") as fh:
        fh.write(text)
""",
    )


def pipeline(ws: Workspace, store: Datastore, destination: str) -> Pipeline:
    out = OutputFileDatasetConfig(name="out", destination=(store, destination))
    step = PythonScriptStep(script_name="write.py", source_directory="src", arguments=["--out", out])
    return Pipeline(ws, steps=[step])


def submit(ws: Workspace, p: Pipeline) -> Any:
    run = Experiment(ws, "outputs").submit(p)
    run.wait_for_completion(show_output=False)
    return run


FIRST = {"a.txt": "first a", "b.txt": "first b", "c.txt": "first c"}
SECOND = {"a.txt": "second a", "b.txt": "second b", "c.txt": "second c"}


def test_an_output_blob_edited_in_place_is_not_reused(remote: Remote, proj: Path, rws: Workspace) -> None:
    gen(proj, {"src": {"write.py": writer("write", FIRST)}})
    store = remote.register(rws)
    first = submit(rws, pipeline(rws, store, "out/{run-id}"))
    assert first.get_status() == "Finished" and ran(proj) == ["write"]
    step = first.find_step_run("write.py")[0]

    # Untouched: reused, and deciding that read no byte of the output (listings and metadata only).
    remote.proxy.take()
    again = submit(rws, pipeline(rws, store, "out/{run-id}"))
    assert ran(proj) == [] and again.find_step_run("write.py")[0].reason == f"reused run {step.id}: unchanged"
    assert [r for r in remote.proxy.take() if r[0] == "GET" and f"/out/{step.id}/" in r[1]] == []

    # Another tool rewrites one of its blobs, to the same size: the earlier run is not reused.
    remote.write(f"out/{step.id}/b.txt", b"FIRST b")
    third = submit(rws, pipeline(rws, store, "out/{run-id}"))
    assert third.get_status() == "Finished"
    assert ran(proj) == ["write"]
    assert third.find_step_run("write.py")[0].reason == (
        f"output 'out' of run {step.id} changed since that run wrote it ('out/{step.id}' on datastore '{STORE}')"
    )


def test_outputs_intact_compares_remote_and_local_outputs(remote: Remote, proj: Path, rws: Workspace) -> None:
    """The check itself, on a remote output and on one in the workspace's local blob store."""
    gen(proj, {"src": {"write.py": writer("write", FIRST)}})
    store = remote.register(rws)
    local = Datastore.get(rws, "workspaceblobstore")
    run = submit(rws, pipeline(rws, store, "out/{run-id}"))
    run_local = submit(rws, pipeline(rws, local, "local/{run-id}"))
    remote_id, local_id = run.find_step_run("write.py")[0].id, run_local.find_step_run("write.py")[0].id
    backends = {STORE: store._backend, "workspaceblobstore": local._backend}

    def check(run_id: str) -> str | None:
        blocker = outputs_intact(rws.metadata_store, backends.__getitem__, run_id, NULL_CACHE)
        return None if blocker is None else blocker.message

    assert check(remote_id) is None and check(local_id) is None
    remote.write(f"out/{remote_id}/new.txt", b"added by another tool")
    assert check(remote_id) == (
        f"output 'out' of run {remote_id} changed since that run wrote it ('out/{remote_id}' on datastore '{STORE}')"
    )
    store._backend.delete(f"out/{remote_id}", recursive=True)
    assert check(remote_id) == f"the outputs of run {remote_id} no longer exist"
    # Local outputs are compared too (stat-cached digests): an in-place edit there is found.
    (Path(local._backend.root, "local", local_id) / "a.txt").write_text("edited")  # a local folder
    assert check(local_id) == (
        f"output 'out' of the reused run {local_id} changed on disk ('local/{local_id}' on datastore "
        "'workspaceblobstore')"
    )


def test_a_half_failed_commit_leaves_no_earlier_run_reusable(
    remote: Remote, proj: Path, rws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = remote.register(rws)
    fixed = "fixed/out"
    expected_first = {f"{fixed}/{name}": text.encode() for name, text in FIRST.items()}

    gen(proj, {"src": {"write.py": writer("write", FIRST)}})
    first = submit(rws, pipeline(rws, store, fixed))
    assert first.get_status() == "Finished" and ran(proj) == ["write"]
    assert remote.files(fixed) == expected_first

    # Run 2 writes three other files; the store takes the first upload and refuses the rest.
    gen(proj, {"src": {"write.py": writer("write", SECOND)}})
    monkeypatch.setenv(RETRIES_SETTING, "1")  # fail fast: one try per request
    remote.proxy.cut_uploads_after(1)
    second = Experiment(rws, "outputs").submit(pipeline(rws, store, fixed))
    with pytest.raises(ActivityFailedException, match="outputs could not be saved"):
        second.wait_for_completion(show_output=False)
    assert ran(proj) == ["write"]
    assert remote.proxy.refused == 2
    mixed = remote.files(fixed)
    assert sorted(mixed) == sorted(expected_first) and mixed != expected_first  # one file is run 2's
    assert sum(data.startswith(b"second") for data in mixed.values()) == 1

    # Run 3 is run 1 again: run 1 must not be reused on top of the mix; the step runs and commits.
    remote.proxy.cut_uploads_after(None)
    gen(proj, {"src": {"write.py": writer("write", FIRST)}})
    third = submit(rws, pipeline(rws, store, fixed))
    assert third.get_status() == "Finished"
    assert ran(proj) == ["write"]
    step = third.find_step_run("write.py")[0]
    assert step.reason == f"the outputs of run {first.find_step_run('write.py')[0].id} no longer exist"
    assert remote.files(fixed) == expected_first

    # ... and that consistent output is reusable again.
    fourth = submit(rws, pipeline(rws, store, fixed))
    assert ran(proj) == [] and fourth.find_step_run("write.py")[0].reason == f"reused run {step.id}: unchanged"
