"""DataTransferStep: copies between datastores, verified file by file, reused while nothing changed.

Local folders, then Azure Blob (Azurite) and S3 (moto's server) on loopback; the SDK v1 sample's
code with a DataFactoryCompute runs unchanged through the compatibility layer. Which steps ran
is read from the ledger that step scripts append to (a reused step's process never starts).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    ComputeTarget,
    DataFactoryCompute,
    DataReference,
    Dataset,
    Datastore,
    DataTransferStep,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    Workspace,
)
from headwater.engine.transfer import TransferVerificationError, verify_copies
from headwater.store.datastores import LocalBackend
from tests.conftest import gen
from tests.e2e.conftest import ran, script

READ = script(
    "read",
    """
import os, sys
root = sys.argv[1]
for folder, _dirs, files in sorted(os.walk(root)):
    for name in sorted(files):
        path = os.path.join(folder, name)
        print("seen", os.path.relpath(path, root), open(path).read())
""",
)


def _stores(ws: Workspace, proj: Path) -> tuple[Datastore, Datastore]:
    gen(
        proj,
        {
            "src_store": {"raw": {"a.txt": "1 2 3", "sub": {"b.txt": "4 5"}}},
            "dst_store": {"copied": {"keep.txt": "mine"}},
        },
    )
    return (
        Datastore.register_local_folder(ws, "src", proj / "src_store"),
        Datastore.register_local_folder(ws, "dst", proj / "dst_store"),
    )


def _adf(ws: Workspace) -> DataFactoryCompute:
    return ComputeTarget.create(ws, "adf", DataFactoryCompute.provisioning_configuration())  # type: ignore[return-value]


def _pipeline(ws: Workspace, proj: Path, source: Any, destination: Any, **kwargs: Any) -> Pipeline:
    gen(proj, {"read_src": {"read.py": READ}})
    copy = DataTransferStep("copy", source_data_reference=source, destination_data_reference=destination, **kwargs)
    out = copy.get_output()
    read = PythonScriptStep("read.py", name="read", source_directory="read_src", arguments=[out], inputs=[out])
    return Pipeline(ws, steps=[read])


def _submit(ws: Workspace, pipeline: Pipeline, expect: str = "Finished") -> Any:
    run = Experiment(ws, "transfer").submit(pipeline)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == expect
    return run


def _steps(run: Any) -> dict[str, Any]:
    return {s.name: s for s in run.get_steps()}


def _log(step: Any) -> str:
    return Path(step.get_details()["logFiles"]["user_logs/std_log.txt"]).read_text()


def test_copies_into_a_data_reference_verified_and_read_downstream(proj: Path, pws: Workspace) -> None:
    src, dst = _stores(pws, proj)
    pipeline = _pipeline(
        pws,
        proj,
        DataReference(src, "raw_in", "raw"),
        DataReference(dst, "copied", "copied"),
        compute_target=_adf(pws),
    )
    run = _submit(pws, pipeline)
    copied = proj / "dst_store" / "copied"
    assert (copied / "a.txt").read_text() == "1 2 3" and (copied / "sub" / "b.txt").read_text() == "4 5"
    assert (copied / "keep.txt").read_text() == "mine"  # copied next to what was there, not replacing it
    steps = _steps(run)
    assert "copied 2 files, 8 bytes" in _log(steps["copy"])
    assert "size and content digest of every file verified" in _log(steps["copy"])
    assert ran(proj) == ["read"]
    assert "seen a.txt 1 2 3" in _log(steps["read"]) and "seen sub/b.txt 4 5" in _log(steps["read"])


def test_reused_while_unchanged_and_a_changed_source_file_is_copied_again(proj: Path, pws: Workspace) -> None:
    src, dst = _stores(pws, proj)

    def pipeline() -> Pipeline:
        return _pipeline(pws, proj, DataReference(src, "raw_in", "raw"), DataReference(dst, "copied", "copied"))

    _submit(pws, pipeline())
    assert ran(proj) == ["read"]
    again = _steps(_submit(pws, pipeline()))
    assert again["copy"].reason.startswith("reused run") and again["read"].reason.startswith("reused run")
    assert ran(proj) == []

    (proj / "src_store" / "raw" / "a.txt").write_text("7 8 9")
    changed = _steps(_submit(pws, pipeline()))
    assert changed["copy"].reason == "input 'raw_in' changed"
    assert (proj / "dst_store" / "copied" / "a.txt").read_text() == "7 8 9"
    assert ran(proj) == ["read"]
    assert "seen a.txt 7 8 9" in _log(changed["read"])


def test_a_missing_source_fails_the_step_naming_the_datastore_and_path(proj: Path, pws: Workspace) -> None:
    src, dst = _stores(pws, proj)
    copy = DataTransferStep(
        "copy",
        source_data_reference=DataReference(src, "gone", "no/such/folder"),
        destination_data_reference=DataReference(dst, "copied", "copied"),
    )
    run = _submit(pws, Pipeline(pws, steps=[copy]), expect="Failed")
    error = _steps(run)["copy"].get_details()["error"]["message"]
    assert "'no/such/folder' does not exist on datastore 'src'" in error


def test_a_file_dataset_copied_into_an_output_that_a_later_step_reads(proj: Path, pws: Workspace) -> None:
    src, _dst = _stores(pws, proj)
    files = Dataset.File.from_files([(src, "raw/**/*.txt")])
    out = OutputFileDatasetConfig(name="copied_files")
    run = _submit(pws, _pipeline(pws, proj, files, out, source_reference_type="directory"))
    steps = _steps(run)
    assert "seen a.txt 1 2 3" in _log(steps["read"]) and "seen sub/b.txt 4 5" in _log(steps["read"])
    assert "copied 2 files" in _log(steps["copy"])


def test_one_file_to_a_file_path(proj: Path, pws: Workspace) -> None:
    src, dst = _stores(pws, proj)
    copy = DataTransferStep(
        "copy",
        source_data_reference=DataReference(src, "one", "raw/a.txt"),
        destination_data_reference=DataReference(dst, "renamed", "copied/renamed.txt"),
        source_reference_type="file",
        destination_reference_type="file",
    )
    _submit(pws, Pipeline(pws, steps=[copy]))
    assert (proj / "dst_store" / "copied" / "renamed.txt").read_text() == "1 2 3"


def test_verify_copies_names_a_file_whose_copy_differs(tmp_path: Path) -> None:
    source = gen(tmp_path / "source", {"a.bin": "same bytes", "b.bin": "original!"})
    dest = gen(tmp_path / "dest", {"a.bin": "same bytes", "b.bin": "corrupted"})  # same size, other bytes
    backend = LocalBackend("dest", dest)
    verify_copies(backend, [(source / "a.bin", "a.bin")])
    with pytest.raises(TransferVerificationError, match=r"'b\.bin' on datastore 'dest'.*differs from its source"):
        verify_copies(backend, [(source / "a.bin", "a.bin"), (source / "b.bin", "b.bin")])
    (dest / "a.bin").write_text("same")
    with pytest.raises(TransferVerificationError, match=r"'a\.bin' on datastore 'dest'.* has 4 bytes, its source 10"):
        verify_copies(backend, [(source / "a.bin", "a.bin")])


SDK_V1_SAMPLE = """
# The SDK v1 sample's DataTransferStep code (aml-pipelines-data-transfer), with blob datastores.
from azureml.core import Datastore, Experiment, Workspace
from azureml.core.compute import ComputeTarget, DataFactoryCompute
from azureml.exceptions import ComputeTargetException
from azureml.data.data_reference import DataReference
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import DataTransferStep

ws = Workspace.from_config()
blob = ws.get_default_datastore()
blob.upload_files(["./testdata.txt"], target_path="testdata", overwrite=True, show_progress=False)

def get_or_create_data_factory(workspace, factory_name):
    try:
        return DataFactoryCompute(workspace, factory_name)
    except ComputeTargetException as e:
        if 'ComputeTargetNotFound' in e.message:
            print('Data factory not found, creating...')
            provisioning_config = DataFactoryCompute.provisioning_configuration()
            data_factory = ComputeTarget.create(workspace, factory_name, provisioning_config)
            data_factory.wait_for_completion()
            return data_factory
        else:
            raise e

data_factory_compute = get_or_create_data_factory(ws, "adftest")
attached = ComputeTarget.attach(ws, "adfattached", DataFactoryCompute.attach_configuration(
    resource_group="rg", factory_name="adf"))
print("attached", attached.type)

src = DataReference(datastore=blob, data_reference_name="src_ref", path_on_datastore="testdata/testdata.txt")
dst = DataReference(datastore=blob, data_reference_name="dst_ref", path_on_datastore="copied/testdata.txt")
transfer = DataTransferStep(
    name="transfer_blob_to_blob",
    source_data_reference=src,
    destination_data_reference=dst,
    compute_target=data_factory_compute,
    source_reference_type="file",
    destination_reference_type="file")
pipeline = Pipeline(workspace=ws, steps=[transfer])
run = Experiment(ws, "Data_dependency").submit(pipeline)
run.wait_for_completion()
print("status", run.get_status())
"""


@pytest.mark.slow
def test_the_sdk_v1_sample_runs_unchanged(tmp_path: Path, headwater_home: Path) -> None:
    folder = gen(
        tmp_path / "sample",
        {
            "transfer.py": SDK_V1_SAMPLE,
            "testdata.txt": "hello transfer",
            ".azureml": {"config.json": '{"workspace_name": "transfer-ws"}'},
        },
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HEADWATER_WORKSPACE")}
    env["HEADWATER_HOME"] = str(headwater_home)
    headwater = Path(sys.executable).with_name("headwater")
    done = subprocess.run(
        [str(headwater), "run", "transfer.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "Data factory not found, creating..." in done.stdout
    assert "attached DataFactory" in done.stdout and "status Finished" in done.stdout
    ws = Workspace.get("transfer-ws")
    try:
        copied = ws.get_default_datastore()._backend.local_path("copied/testdata.txt")
        assert copied is not None and copied.read_text() == "hello transfer"
    finally:
        ws.close()


# -- remote datastores ---------------------------------------------------------------------------


@pytest.mark.slow
def test_azure_blob_to_s3_and_s3_to_local(
    proj: Path, pws: Workspace, azurite: Any, azure_container: str, s3_server: Any, s3_bucket: str
) -> None:
    blob = Datastore.register_azure_blob_container(
        pws,
        "blob",
        azure_container,
        azurite.account_name,
        account_key=azurite.account_key,
        account_url=azurite.account_url,
    )
    s3 = Datastore.register_s3(
        pws,
        "s3",
        s3_bucket,
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
        region=s3_server.region,
    )
    gen(proj, {"data": {"a.txt": "1 2 3", "sub": {"b.txt": "4 5" * 1000}}})
    blob.upload(str(proj / "data"), target_path="raw", show_progress=False)
    local = Datastore.register_local_folder(pws, "back", proj / "back")

    def pipeline() -> Pipeline:
        to_s3 = DataTransferStep(
            "to_s3",
            source_data_reference=DataReference(blob, "raw_blob", "raw"),
            destination_data_reference=DataReference(s3, "on_s3", "copied"),
        )
        back = DataTransferStep(
            "back",
            source_data_reference=to_s3.get_output(),
            destination_data_reference=DataReference(local, "back_home", "here"),
        )
        return Pipeline(pws, steps=[back])

    run = _submit(pws, pipeline())
    assert "copied 2 files" in _log(_steps(run)["to_s3"])
    assert (proj / "back" / "here" / "a.txt").read_text() == "1 2 3"
    assert (proj / "back" / "here" / "sub" / "b.txt").read_text() == "4 5" * 1000
    again = _steps(_submit(pws, pipeline()))
    assert again["to_s3"].reason.startswith("reused run") and again["back"].reason.startswith("reused run")
