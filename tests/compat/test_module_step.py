"""``Module`` / ``ModuleVersion`` / ``ModuleStep`` as SDK v1 code uses them, through the ``azureml``
layer (issue 16): publish a Python script as a module, use it twice in one pipeline with ModuleStep,
see the outputs flow from one use to the next and the second submission reuse both steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import AlreadyExistsError, ConfigurationError, NotFoundError, NotSupportedError
from tests.conftest import gen
from tests.e2e.conftest import ran

pytestmark = pytest.mark.usefixtures("azureml_on")

# calculate.py (as in SDK v1's ModuleStep sample): --in <folder> (optional) --out <folder>; adds
# AML_PARAMETER_increment to the number read (or to AML_PARAMETER_start) and writes it.
CALCULATE = """
import argparse, os
tag = "calc"
with open(os.environ["HW_TEST_LEDGER"], "a") as fh:
    fh.write(tag + "\\n")
p = argparse.ArgumentParser()
p.add_argument("--in", dest="inp")
p.add_argument("--out")
a = p.parse_args()
value = int(os.environ["AML_PARAMETER_start"])
if a.inp:
    with open(os.path.join(a.inp, "n.txt")) as fh:
        value = int(fh.read())
value += int(os.environ["AML_PARAMETER_increment"])
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "n.txt"), "w") as fh:
    fh.write(str(value))
print("value", value)
"""


def publish(ws: Workspace, proj: Path) -> Any:
    from azureml.pipeline.core import Module
    from azureml.pipeline.core.graph import InputPortDef, OutputPortDef

    gen(proj, {"calc": {"calculate.py": CALCULATE}})
    module = Module.create(ws, name="calculate", description="adds a number")
    in_port = InputPortDef(name="in_num", default_datastore_mode="mount", is_optional=True, label="a number")
    out_port = OutputPortDef(name="out_num", default_datastore_name="workspaceblobstore", is_directory=True)
    module.publish_python_script(
        "calculate.py",
        "first",
        inputs=[in_port],
        outputs=[out_port],
        params={"start": 1, "increment": 1},
        version="1",
        source_directory="./calc",
        arguments=["--in", in_port, "--out", out_port],
    )
    return module


@pytest.mark.slow
def test_a_published_module_used_twice_passes_data_along_and_is_reused(
    proj: Path, pws: Workspace, tmp_path: Path
) -> None:
    from azureml.core import Experiment
    from azureml.pipeline.core import Module, ModuleVersion, Pipeline, PipelineData
    from azureml.pipeline.steps import ModuleStep

    module = publish(pws, proj)
    (proj / "calc" / "calculate.py").write_text("raise SystemExit('edited after publishing')\n")  # frozen: ignored
    store = pws.get_default_datastore()
    first_out = PipelineData("first_out", datastore=store)
    second_out = PipelineData("second_out", datastore=store)
    first = ModuleStep(
        module=module, version="1", outputs_map={"out_num": first_out}, params={"start": 10}, name="first"
    )
    wiring = {"in_num": first_out, "out_num": second_out}  # one dict for both maps, as in SDK v1's sample
    second = ModuleStep(
        module_version=Module.get(pws, name="calculate").resolve("1"),
        inputs_map=wiring,
        outputs_map=wiring,
        params={"increment": 5},
    )
    assert second.name == "calculate"
    pipeline = Pipeline(pws, steps=[first, second])

    run = Experiment(pws, "modules").submit(pipeline)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == ["calc", "calc"]
    target = tmp_path / "out"
    (step,) = run.find_step_run("calculate")
    step.get_output_data("second_out").download(str(target))
    assert next(target.rglob("n.txt")).read_text() == "16"  # 10 + 1, then + 5

    again = Experiment(pws, "modules").submit(Pipeline(pws, steps=[first, second]))
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == []
    assert all(s.reused for s in again.get_steps())

    version = ModuleVersion.get(pws, first.module_version.module_version_id)
    assert (version.version, version.status, version.module_id) == ("1", "Active", module.id)
    assert [p.name for p in version.interface["inputs"]] == ["in_num"]


def test_module_versions_default_resolve_and_status(proj: Path, pws: Workspace) -> None:
    from azureml.pipeline.core import Module, ModuleVersionDescriptor
    from azureml.pipeline.core.graph import OutputPortDef
    from azureml.pipeline.steps import ModuleStep

    module = publish(pws, proj)
    with pytest.raises(AlreadyExistsError, match="Module 'calculate'"):
        Module.create(pws, "calculate", "again")
    out = OutputPortDef(name="out_num")
    v2 = module.publish_python_script("calculate.py", "second", [], [out], source_directory="./calc", version="2")
    v10 = module.publish_python_script("calculate.py", "third", [], [out], source_directory="./calc", version="10")
    assert [d.version for d in module.module_version_list()] == ["1", "2", "10"]
    assert isinstance(module.module_version_list()[0], ModuleVersionDescriptor)
    assert module.get_default_version() == "1"  # the first published, until another is made the default
    assert module.resolve().version == "1"
    assert module.resolve("2").module_version_id == v2.module_version_id
    module.set_default_version("10")
    assert Module.get(pws, module_id=module.id).default_version == "10"
    assert module.resolve().version == "10"
    assert [d.version for d in Module.get_versions(pws, "calculate")] == ["1", "2", "10"]
    with pytest.raises(NotFoundError):
        module.set_default_version("3")

    v10.disable()
    assert v10.status == "Disabled"
    module.set_name("calc")
    module.set_description("adds")
    module.deprecate()
    got = Module.get(pws, name="calc")
    assert (got.name, got.description, got.status) == ("calc", "adds", "Deprecated")

    with pytest.raises(ConfigurationError, match="script not found"):
        module.publish_python_script("missing.py", "x", [], [], source_directory="./calc")
    with pytest.raises(ConfigurationError, match="exactly one of module and module_version"):
        ModuleStep()
    with pytest.raises(ConfigurationError, match="has no port 'nope'"):
        ModuleStep(module=module, version="2", inputs_map={"nope": 1})
    with pytest.raises(NotSupportedError, match="publish_azure_batch"):
        module.publish_azure_batch("d", None, [], [])
    with pytest.raises(NotFoundError, match="Module 'nope'"):
        Module.get(pws, name="nope")


def test_garbage_collection_keeps_the_snapshots_of_module_versions(proj: Path, pws: Workspace) -> None:
    import os
    import time
    from datetime import UTC, datetime, timedelta

    from headwater.ops.gc import collect_garbage

    module = publish(pws, proj)
    kept = Path(module.resolve("1")._definition["source_directory"])
    old = time.time() - 2 * 3600
    for entry in kept.parent.iterdir():
        os.utime(entry, (old, old))
    report = collect_garbage(
        Path(pws.folder), pws.metadata_store, older_than=timedelta(0), now=datetime.now(UTC) + timedelta(hours=2)
    )
    assert kept.name not in {i.what for i in report.removed}
    assert (kept / "calculate.py").is_file()
