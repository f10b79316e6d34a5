"""A FileDataset of one file reaches its step as that file's path, as in SDK v1 (#16).

SDK v1 decides it from the dataset's definition: one path without glob characters, no
transformation, naming a file. Then the argument, the ``<name>`` variable and
``run.input_datasets[name]`` name the file (``<mount or download folder>/<file name>``), so a
script ``open()``s it. A glob matching one file, or a folder holding one file, stays a folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import Dataset, Datastore, Experiment, Pipeline, PythonScriptStep, Workspace
from tests.conftest import gen
from tests.fixtures.remote_store import RemoteStore, remote_store

pytestmark = pytest.mark.slow

STEP = """
import os, sys
from azureml.core import Run

run = Run.get_context()
arg, kind = sys.argv[1], sys.argv[2]
name = "data_" + kind
assert os.environ[name] == arg == run.input_datasets[name], (os.environ[name], arg, run.input_datasets[name])
if os.path.isfile(arg):
    with open(arg) as fh:
        run.log(kind, fh.read().splitlines()[1])
else:
    run.log(kind, "folder: " + ",".join(sorted(os.listdir(arg))))
run.log(kind + "_name", os.path.basename(arg))
"""


def run_step(ws: Workspace, src: Path, store: Datastore) -> dict[str, object]:
    one = Dataset.File.from_files((store, "data/one.csv"))
    glob = Dataset.File.from_files((store, "data/o*.csv"))
    folder = Dataset.File.from_files((store, "only/"))
    steps = [
        PythonScriptStep("step.py", name=kind, source_directory=str(src), arguments=[arg, kind])
        for kind, arg in (
            ("download", one.as_named_input("data_download").as_download()),
            ("mount", one.as_named_input("data_mount").as_mount()),
            ("glob", glob.as_named_input("data_glob").as_download()),
            ("folder", folder.as_named_input("data_folder").as_mount()),
        )
    ]
    run = Experiment(ws, "one-file").submit(Pipeline(ws, steps=steps))
    assert run.wait_for_completion(show_output=False) == "Finished"
    metrics: dict[str, object] = {}
    for step in run.get_steps():
        metrics.update(step.get_metrics())
    return metrics


EXPECTED = {
    "download": "1,2",
    "download_name": "one.csv",
    "mount": "1,2",
    "mount_name": "one.csv",
    "glob": "folder: one.csv",
    "glob_name": "data_glob",
    "folder": "folder: one.csv",
}


@pytest.fixture
def src(tmp_path: Path) -> Path:
    data: dict[str, object] = {"data": {"one.csv": "a,b\n1,2\n", "two.txt": "x\n"}, "only": {"one.csv": "a,b\n1,2\n"}}
    gen(tmp_path / "upload", data)
    return gen(tmp_path / "src", {"step.py": STEP})


def test_a_one_file_dataset_is_the_files_path_on_a_local_datastore(src: Path, pws: Workspace) -> None:
    store = pws.get_default_datastore()
    for folder in ("data", "only"):
        store.upload(str(src.parent / "upload" / folder), target_path=folder, show_progress=False)
    metrics = run_step(pws, src, store)
    assert {k: v for k, v in metrics.items() if k != "folder_name"} == EXPECTED


@pytest.fixture(params=["azure", "s3"])
def remote(request: pytest.FixtureRequest) -> Iterator[RemoteStore[None]]:
    yield remote_store(request, request.param, proxy=None)


def test_a_one_file_dataset_is_the_files_path_on_a_remote_datastore(
    remote: RemoteStore[None], src: Path, pws: Workspace
) -> None:
    store = remote.register(pws)
    for folder in ("data", "only"):
        store.upload(str(src.parent / "upload" / folder), target_path=folder, show_progress=False)
    metrics = run_step(pws, src, store)
    assert {k: v for k, v in metrics.items() if k != "folder_name"} == EXPECTED
