"""Pipelines with their data on a remote datastore (Azure Blob on Azurite, S3 on moto's server).

The seed-style flow reads an input folder on the remote store (downloaded and mounted), writes an
output to it, and a second step consumes that output; then reuse, a blob changed in place, a
failed step, ``register_on_complete`` and a TabularDataset over a remote CSV. The datastore talks
to the server through a loopback proxy that logs every request, so "reuse decided without
downloading data" is read from the requests the store received, not from timing or patching.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import (
    ActivityFailedException,
    Dataset,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineRun,
    PythonScriptStep,
    Workspace,
)
from headwater.engine.remote_mount import MOUNT_SETTING, fuse_unavailable_reason
from tests.conftest import gen
from tests.e2e.conftest import ran, script
from tests.fixtures.http_proxy import CountingProxy, Request
from tests.fixtures.remote_store import RemoteStore, remote_store

pytestmark = pytest.mark.slow


PREP = script(
    "prep",
    """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--down")
p.add_argument("--mnt")
p.add_argument("--out")
a = p.parse_args()

def rows(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as fh:
            out += [float(x) for x in fh.read().split()]
    return out

down, mounted = rows(a.down), rows(a.mnt)
assert down == mounted, (down, mounted)
print("mounted:", os.path.ismount(a.mnt))
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "prepped.txt"), "w") as fh:
    fh.write("\\n".join(str(r) for r in down))
print("prepared", len(down), "rows")
if os.environ.get("PREP_FAILS"):
    raise SystemExit(4)
""",
)

TRAIN = script(
    "train",
    """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--prepped")
p.add_argument("--model")
a = p.parse_args()
with open(os.path.join(a.prepped, "prepped.txt")) as fh:
    values = [float(x) for x in fh.read().split()]
print("prepped mounted:", os.path.ismount(a.prepped))
os.makedirs(a.model, exist_ok=True)
with open(os.path.join(a.model, "model.txt"), "w") as fh:
    fh.write(str(sum(values)))
""",
)


Remote = RemoteStore[CountingProxy]


def data_reads(requests: list[Request], folder: str) -> list[Request]:
    """GETs of a blob's bytes below ``folder`` (listings and metadata reads are not GETs of a blob path)."""
    return [r for r in requests if r.method == "GET" and f"/{folder}/" in r.path]


@pytest.fixture(params=["azure", "s3"])
def remote(request: pytest.FixtureRequest) -> Iterator[Remote]:
    # Asked for before ``proj`` (which changes the working directory): a server started later
    # would run in the test's folder and be stopped with the test's processes.
    if request.param == "azure":
        upstream = request.getfixturevalue("azurite").account_url.rsplit("/", 1)[0]
    else:
        upstream = request.getfixturevalue("s3_server").endpoint_url
    with CountingProxy(upstream) as proxy:
        yield remote_store(request, request.param, proxy=proxy, via=proxy.url)


@pytest.fixture
def seeded(remote: Remote, proj: Path, rws: Workspace) -> Datastore:
    """The project's scripts, and ``raw/`` (two small files) uploaded to the remote datastore."""
    gen(proj, {"prep_src": {"prep.py": PREP}, "train_src": {"train.py": TRAIN}, "data": DATA})
    store = remote.register(rws)
    store.upload(str(proj / "data"), target_path="raw", show_progress=False)
    return store


DATA = {"a.txt": "1 2 3\n", "b.txt": "4 5\n"}


def build(ws: Workspace, store: Datastore, *, register: bool = False) -> Pipeline:
    raw = Dataset.File.from_files([(store, "raw/")])
    prepped = OutputFileDatasetConfig(name="prepped", destination=(store, "prepped/{run-id}"))
    model = OutputFileDatasetConfig(name="model", destination=(store, "model/{run-id}"))
    if register:
        model = model.register_on_complete("remote-model")
    prep = PythonScriptStep(
        script_name="prep.py",
        source_directory="prep_src",
        arguments=[
            "--down",
            raw.as_named_input("raw_down").as_download(),
            "--mnt",
            raw.as_named_input("raw_mnt").as_mount(),
            "--out",
            prepped,
        ],
    )
    train = PythonScriptStep(
        script_name="train.py",
        source_directory="train_src",
        arguments=["--prepped", prepped.as_input(), "--model", model],
    )
    return Pipeline(ws, steps=[prep, train])


def submit(ws: Workspace, pipeline: Pipeline) -> PipelineRun:
    run = Experiment(ws, "remote").submit(pipeline)
    run.wait_for_completion(show_output=False)
    return run


def test_seed_flow_on_a_remote_store_then_reuse_without_downloading(
    remote: Remote, proj: Path, rws: Workspace, seeded: Datastore
) -> None:
    run = submit(rws, build(rws, seeded, register=True))
    assert run.get_status() == "Finished"
    assert sorted(ran(proj)) == ["prep", "train"]
    prep, train = run.find_step_run("prep.py")[0], run.find_step_run("train.py")[0]
    # the outputs are on the remote store, with the right contents
    prepped_path = f"prepped/{prep.id}/prepped.txt"
    assert remote.read(prepped_path).decode().split() == ["1.0", "2.0", "3.0", "4.0", "5.0"]
    assert remote.read(f"model/{train.id}/model.txt") == b"15.0"
    # a mount of remote files is a lazy FUSE view where this machine allows it, else a download with a notice
    why_not = fuse_unavailable_reason()
    if os.environ.get("CI", "").lower() == "true":  # `make test` installs fusepy, libfuse and fusermount
        assert why_not is None or "/dev/fuse" in why_not, why_not  # only the device is the platform's to give
    log = prep.get_stdout_log()
    if why_not is None:
        assert "mounted: True" in log and "[headwater]" not in log
        assert "prepped mounted: True" in train.get_stdout_log()
    else:
        assert "input 'raw_mnt' (as_mount) was downloaded" in log and why_not in log
    # register_on_complete: a dataset whose file is on the remote store
    model_ds = Dataset.get_by_name(rws, "remote-model")
    assert model_ds.to_path() == ["/model.txt"]
    assert model_ds.tags["headwater.run_id"] == train.id
    target = proj / "model_copy"
    model_ds.download(str(target))
    assert (target / "model.txt").read_text() == "15.0"

    remote.proxy.take()
    again = submit(rws, build(rws, seeded, register=True))
    assert again.get_status() == "Finished"
    assert ran(proj) == []
    reasons = {s.name: s.reason for s in again.get_steps()}
    assert reasons == {"prep.py": f"reused run {prep.id}: unchanged", "train.py": f"reused run {train.id}: unchanged"}
    requests = remote.proxy.take()
    assert requests  # the decision did ask the store (listings, metadata) ...
    assert data_reads(requests, "raw") == []  # ... but read no byte of the input files
    assert data_reads(requests, "prepped") == []

    # the same bytes uploaded again (a new ETag): still reused
    seeded.upload(str(proj / "data"), target_path="raw", overwrite=True, show_progress=False)
    assert submit(rws, build(rws, seeded, register=True)).get_status() == "Finished"
    assert ran(proj) == []


def test_a_blob_changed_in_place_reruns_its_consumers(
    remote: Remote, proj: Path, rws: Workspace, seeded: Datastore
) -> None:
    assert submit(rws, build(rws, seeded)).get_status() == "Finished"
    ran(proj)
    remote.write("raw/b.txt", b"4 6\n")  # same size, other bytes, by another client
    run = submit(rws, build(rws, seeded))
    assert run.get_status() == "Finished"
    assert sorted(ran(proj)) == ["prep", "train"]
    prep = run.find_step_run("prep.py")[0]
    reason = prep.reason or ""
    assert "input 'raw_down' changed" in reason and "input 'raw_mnt' changed" in reason
    assert run.find_step_run("train.py")[0].reason == "input 'prepped' changed"
    assert remote.read(f"prepped/{prep.id}/prepped.txt").decode().split()[-1] == "6.0"


def test_a_failed_step_uploads_nothing(
    remote: Remote, proj: Path, rws: Workspace, seeded: Datastore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREP_FAILS", "1")
    run = Experiment(rws, "remote").submit(build(rws, seeded))
    with pytest.raises(ActivityFailedException, match="exit code 4"):
        run.wait_for_completion(show_output=False)
    assert "prepared 5 rows" in run.find_step_run("prep.py")[0].get_stdout_log()  # it wrote its output
    assert remote.list_paths() == ["raw/a.txt", "raw/b.txt"]  # and nothing of it was uploaded


def test_mount_falls_back_to_download_with_a_notice(
    remote: Remote, proj: Path, rws: Workspace, seeded: Datastore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MOUNT_SETTING, "download")
    run = submit(rws, build(rws, seeded))
    assert run.get_status() == "Finished"
    prep = run.find_step_run("prep.py")[0]
    log = prep.get_stdout_log()
    assert "mounted: False" in log
    notice = f"input 'raw_mnt' (as_mount) was downloaded to {prep._run_dir}"
    assert notice in log
    assert f"{MOUNT_SETTING}=download is set" in log
    assert notice in (Path(str(prep._run_dir)) / "system_logs" / "data_access.txt").read_text()
    assert "input 'prepped' (as_mount) was downloaded" in run.find_step_run("train.py")[0].get_stdout_log()


def test_tabular_dataset_over_a_remote_csv(rws: Workspace, remote: Remote) -> None:
    store = remote.register(rws)
    remote.write("tables/t.csv", b"id,score\n1,0.5\n2,0.25\n3,1.0\n")
    remote.write("tables/u.csv", b"id,score\n4,2.0\n")
    ds = Dataset.Tabular.from_delimited_files([(store, "tables/*.csv")])
    df = ds.to_pandas_dataframe()
    assert df["id"].tolist() == [1, 2, 3, 4]
    assert df["score"].tolist() == [0.5, 0.25, 1.0, 2.0]
