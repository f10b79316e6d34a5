"""Ray steps on a cluster without a shared filesystem ("ship" mode, #6), on a real local cluster.

The test cluster runs on this host, so ship mode is forced (``shared_filesystem=False``): the
snapshot, the inputs and the outputs go through a remote datastore (S3 on moto's server, Azure
Blob on Azurite), and the log and events come back while the step runs. The scripts record where
they ran and what paths they got, and the test checks that none of them is in the workspace or
the run folder on this host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from headwater import (
    ActivityFailedException,
    ComputeTarget,
    ConfigurationError,
    Dataset,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    RayCompute,
    Workspace,
)
from headwater.engine.ship import snapshot_object
from tests.conftest import gen
from tests.fixtures.remote_store import STORE, RemoteStore, remote_store

pytestmark = pytest.mark.slow


# prep: reads the remote input (download and mount), waits for the test's "go" file (so the test can
# see its first lines streamed while it still runs), logs a metric and writes its output.
PREP = """
import json, os, sys, time
from headwater import Run
down, mnt, out, go = sys.argv[1:5]
print("prep started", flush=True)
Run.get_context().log("early", 1)
deadline = time.monotonic() + 120
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.05)
rows = []
for name in sorted(os.listdir(down)):
    rows += [float(x) for x in open(os.path.join(down, name)).read().split()]
assert rows == [float(x) for n in sorted(os.listdir(mnt)) for x in open(os.path.join(mnt, n)).read().split()]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "prepped.txt"), "w").write("\\n".join(str(r) for r in rows))
where = {"cwd": os.getcwd(), "paths": [down, mnt, out], "context": os.environ["HEADWATER_CONTEXT"],
         "python": sys.executable}
open(os.path.join(out, "where.json"), "w").write(json.dumps(where))
os.makedirs("outputs", exist_ok=True)
open("outputs/note.txt", "w").write("kept with the run")
Run.get_context().log("rows", len(rows))
print("prepared", len(rows), "rows")
if os.environ.get("PREP_FAILS") or os.path.exists(go + ".fail"):
    raise SystemExit(4)
"""

TRAIN = """
import json, os, sys
from headwater import Run
prepped, model = sys.argv[1:3]
values = [float(x) for x in open(os.path.join(prepped, "prepped.txt")).read().split()]
os.makedirs(model, exist_ok=True)
open(os.path.join(model, "model.txt"), "w").write(str(sum(values)))
open(os.path.join(model, "where.json"), "w").write(json.dumps({"cwd": os.getcwd(), "paths": [prepped, model]}))
Run.get_context().log("total", sum(values))
"""


Remote = RemoteStore[None]


@pytest.fixture(params=["s3", "azure"])
def remote(request: pytest.FixtureRequest) -> Remote:
    return remote_store(request, request.param, proxy=None)


@pytest.fixture
def s3(request: pytest.FixtureRequest) -> Remote:
    return remote_store(request, "s3", proxy=None)


def setup(
    ws: Workspace, remote: Remote, root: Path, ray_address: str, **attach: object
) -> tuple[Datastore, ComputeTarget]:
    gen(
        root,
        {
            "prep_src": {"prep.py": PREP},
            "train_src": {"train.py": TRAIN},
            "data": {"a.txt": "1 2 3\n", "b.txt": "4 5\n"},
        },
    )
    store = remote.register(ws)
    store.upload(str(root / "data"), target_path="raw", show_progress=False)
    config = RayCompute.attach_configuration(address=ray_address, **attach)  # type: ignore[arg-type]
    target = ComputeTarget.attach(ws, "cluster", config)
    return store, target


def build(ws: Workspace, store: Datastore, target: ComputeTarget, root: Path, go: Path) -> Pipeline:
    raw = Dataset.File.from_files([(store, "raw/")])
    prepped = OutputFileDatasetConfig(name="prepped", destination=(store, "prepped/{run-id}"))
    model = OutputFileDatasetConfig(name="model", destination=(store, "model/{run-id}"))
    prep = PythonScriptStep(
        "prep.py",
        source_directory=str(root / "prep_src"),
        compute_target=target,
        arguments=[
            raw.as_named_input("raw_down").as_download(),
            raw.as_named_input("raw_mnt").as_mount(),
            prepped,
            str(go),
        ],
    )
    train = PythonScriptStep(
        "train.py",
        source_directory=str(root / "train_src"),
        compute_target=target,
        arguments=[prepped.as_input(), model],
    )
    return Pipeline(ws, steps=[prep, train])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_shipped_pipeline_moves_its_data_through_the_datastore(
    ray_address: str, remote: Remote, pws: Workspace, tmp_path: Path
) -> None:
    root, go = tmp_path / "proj", tmp_path / "go"
    store, target = setup(pws, remote, root, ray_address, shared_filesystem=False, staging_datastore=STORE)
    run = Experiment(pws, "ship").submit(build(pws, store, target, root, go))

    # streamed: the step's first line and metric reach this host while it still runs
    wait_for(lambda: bool(run.find_step_run("prep.py")), "the prep step run")
    prep = run.find_step_run("prep.py")[0]
    std_log = Path(str(prep._run_dir)) / "user_logs" / "std_log.txt"
    wait_for(lambda: std_log.is_file() and "prep started" in std_log.read_text(), "prep's first line")
    wait_for(lambda: prep.get_metrics().get("early") == 1, "prep's first metric")
    assert prep.get_status() == "Running"
    go.touch()
    assert run.wait_for_completion(show_output=False) == "Finished"

    prep, train = run.find_step_run("prep.py")[0], run.find_step_run("train.py")[0]
    assert "prepared 5 rows" in prep.get_stdout_log()
    assert "input 'raw_mnt' (as_mount) is downloaded to the Ray worker" in prep.get_stdout_log()
    assert prep.get_metrics() == {"early": 1, "rows": 5}
    assert train.get_metrics() == {"total": 15.0}
    assert prep.get_properties()["headwater.ray.node"]
    assert "outputs/note.txt" in prep.get_file_names()  # the working directory's outputs/ came back
    # the outputs are on the remote store, with Headwater's digest as metadata
    assert remote.read(f"model/{train.id}/model.txt") == b"15.0"
    assert remote.metadata(f"model/{train.id}/model.txt").get("headwater_blake3")
    # the snapshots went as one tar each, and the step ran in none of this host's folders
    paths = remote.list_paths()
    assert sum(p.startswith("headwater/snapshots/") and p.endswith(".tar") for p in paths) == 2
    assert snapshot_object(prep.get_details()["properties"]["ContentSnapshotId"]) in paths
    ws_folder = str(pws._folder)
    for where in (
        json.loads(remote.read(f"prepped/{prep.id}/where.json")),
        json.loads(remote.read(f"model/{train.id}/where.json")),
    ):
        for path in [where["cwd"], *where["paths"], *([where["context"]] if "context" in where else [])]:
            assert not path.startswith(ws_folder), path
            assert not path.startswith(str(tmp_path)), path

    again = Experiment(pws, "ship").submit(build(pws, store, target, root, go))  # reuse works as shared
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert all(s.reused for s in again.get_steps())


def test_a_failing_shipped_step_uploads_nothing(ray_address: str, s3: Remote, pws: Workspace, tmp_path: Path) -> None:
    root, go = tmp_path / "proj", tmp_path / "go"
    store, target = setup(pws, s3, root, ray_address, shared_filesystem=False, staging_datastore=STORE)
    go.touch()
    (tmp_path / "go.fail").touch()
    run = Experiment(pws, "ship").submit(build(pws, store, target, root, go))
    with pytest.raises(ActivityFailedException, match="exit code 4"):
        run.wait_for_completion(show_output=False)
    assert "prepared 5 rows" in run.find_step_run("prep.py")[0].get_stdout_log()  # it wrote its output ...
    assert [p for p in s3.list_paths() if not p.startswith("headwater/snapshots/")] == ["raw/a.txt", "raw/b.txt"]


def test_canceling_a_shipped_step_stops_it_and_uploads_nothing(
    ray_address: str, s3: Remote, pws: Workspace, tmp_path: Path
) -> None:
    root, go = tmp_path / "proj", tmp_path / "go"  # go never appears: prep waits until canceled
    store, target = setup(pws, s3, root, ray_address, shared_filesystem=False, staging_datastore=STORE)
    run = Experiment(pws, "ship").submit(build(pws, store, target, root, go))
    wait_for(lambda: bool(run.find_step_run("prep.py")), "the prep step run")
    prep = run.find_step_run("prep.py")[0]
    std_log = Path(str(prep._run_dir)) / "user_logs" / "std_log.txt"
    wait_for(lambda: std_log.is_file() and "prep started" in std_log.read_text(), "prep's first line")
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert prep.get_status() == "Canceled"
    assert [p for p in s3.list_paths() if not p.startswith("headwater/snapshots/")] == ["raw/a.txt", "raw/b.txt"]


def test_ship_mode_refuses_a_local_datastore(ray_address: str, s3: Remote, pws: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    _, target = setup(pws, s3, root, ray_address, shared_filesystem=False, staging_datastore=STORE)
    pws.get_default_datastore().upload(str(root / "data"), target_path="raw", show_progress=False)
    local = Dataset.File.from_files([(pws.get_default_datastore(), "raw/")])
    step = PythonScriptStep(
        "train.py",
        source_directory=str(root / "train_src"),
        compute_target=target,
        arguments=[local.as_named_input("raw").as_download(), "x"],
    )
    with pytest.raises(ConfigurationError, match="no shared filesystem") as err:
        Experiment(pws, "ship").submit(Pipeline(pws, steps=[step]))
    text = str(err.value)
    assert "'train.py'" in text and "'workspaceblobstore'" in text and "'cluster'" in text
    assert pws.metadata_store.list_runs() == []


def test_ship_mode_needs_a_remote_staging_datastore(ray_address: str, pws: Workspace, tmp_path: Path) -> None:
    gen(tmp_path / "src", {"train.py": "print('hi')\n"})
    target = ComputeTarget.attach(pws, "cluster", RayCompute.attach_configuration(ray_address, shared_filesystem=False))
    step = PythonScriptStep("train.py", source_directory=str(tmp_path / "src"), compute_target=target)
    with pytest.raises(ConfigurationError, match="no shared filesystem with this host") as err:
        Experiment(pws, "ship").submit(Pipeline(pws, steps=[step]))
    assert "'workspaceblobstore' is on this host's disk" in str(err.value)
    assert "staging_datastore" in str(err.value)


def test_auto_mode_on_a_single_host_cluster_shares_the_filesystem(
    ray_address: str, s3: Remote, pws: Workspace, tmp_path: Path
) -> None:
    root, go = tmp_path / "proj", tmp_path / "go"
    store, target = setup(pws, s3, root, ray_address, staging_datastore=STORE)  # shared_filesystem: auto
    go.touch()
    run = Experiment(pws, "ship").submit(build(pws, store, target, root, go))
    assert run.wait_for_completion(show_output=False) == "Finished"
    prep = run.find_step_run("prep.py")[0]
    where = json.loads(s3.read(f"prepped/{prep.id}/where.json"))
    assert where["cwd"].startswith(str(prep._run_dir))  # ran in the run folder on this host
    assert not [p for p in s3.list_paths() if p.startswith("headwater/")]  # nothing shipped
