"""Every served ``azureml`` module imports and serves Headwater's very objects; other names fail as usual."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

import headwater
from headwater.compat.activate import shim_path
from headwater.compat.names import HEADWATER, INSTEAD, MODULES, NOT_SUPPORTED, SDK_VERSION, advice
from headwater.compat.placeholders import is_placeholder

pytestmark = pytest.mark.usefixtures("azureml_on")

# The modules of the issue's list (the layer serves a few more that SDK v1 code imports from).
REQUIRED = [
    "azureml.core",
    "azureml.core.compute",
    "azureml.core.compute_target",
    "azureml.core.runconfig",
    "azureml.core.conda_dependencies",
    "azureml.core.environment",
    "azureml.core.dataset",
    "azureml.core.datastore",
    "azureml.core.authentication",
    "azureml.core.run",
    "azureml.core.model",
    "azureml.data",
    "azureml.data.datapath",
    "azureml.data.data_reference",
    "azureml.data.dataset_consumption_config",
    "azureml.data.output_dataset_config",
    "azureml.pipeline.core",
    "azureml.pipeline.core.graph",
    "azureml.pipeline.core.run",
    "azureml.pipeline.steps",
    "azureml.widgets",
    "azureml.exceptions",
]


def _expected(name: str, spec: str) -> object:
    if spec == HEADWATER:
        return getattr(headwater, name)
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute or name)


def test_the_issues_module_paths_are_all_served() -> None:
    assert set(REQUIRED) <= set(MODULES)


def test_the_shim_tree_is_exactly_the_served_modules_each_a_tiny_file() -> None:
    root = shim_path()
    found = {}
    for file in root.rglob("*.py"):
        parts = file.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = file
    assert sorted(found) == sorted(MODULES)
    for name, file in found.items():
        tree = ast.parse(file.read_text(encoding="utf-8"))
        imports = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert imports == ["headwater.compat._loader"], name
        assert not any(isinstance(node, ast.Import) for node in ast.walk(tree)), name
        assert len(file.read_text(encoding="utf-8").splitlines()) <= 6, name


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_serves_the_objects_headwater_exports(module: str) -> None:
    mod = importlib.import_module(module)
    for name, spec in MODULES[module].items():
        served = getattr(mod, name)
        if spec == NOT_SUPPORTED:
            assert is_placeholder(served), f"{module}.{name}"
        else:
            assert served is _expected(name, spec), f"{module}.{name}"
        # `from module import name` gives the same object
        assert getattr(__import__(module, fromlist=[name]), name) is served


def test_names_mapped_to_headwater_are_headwater_exports() -> None:
    for module, entries in MODULES.items():
        for name, spec in entries.items():
            if spec == HEADWATER or spec.startswith("headwater:"):
                target = name if spec == HEADWATER else spec.partition(":")[2]
                assert target in headwater._EXPORTS, f"{module}.{name} -> headwater.{target}"


def test_every_not_supported_name_says_what_to_use_instead() -> None:
    unsupported = {(m, n) for m, entries in MODULES.items() for n, spec in entries.items() if spec == NOT_SUPPORTED}
    assert set(INSTEAD) <= {n for _, n in unsupported}  # no advice for a name that is served
    fallback = advice("NoSuchName", "nowhere")
    for module, name in unsupported:
        assert advice(name, module) != fallback, f"{module}.{name} needs advice (names.INSTEAD or names_more.ADVICE)"


def test_isinstance_holds_across_both_spellings() -> None:
    from azureml.data import OutputFileDatasetConfig
    from azureml.pipeline.core import PipelineData, PipelineParameter
    from azureml.pipeline.core.graph import PipelineParameter as GraphPipelineParameter

    param = PipelineParameter(name="lr", default_value=0.1)
    assert isinstance(param, headwater.PipelineParameter)
    assert isinstance(param, GraphPipelineParameter)
    assert isinstance(headwater.OutputFileDatasetConfig(name="model"), OutputFileDatasetConfig)
    assert isinstance(PipelineData("prepped"), headwater.PipelineData)
    assert issubclass(headwater.AmlCompute, importlib.import_module("azureml.core.compute").ComputeTarget)


def test_submodules_are_reachable_as_attributes_as_in_sdk_v1() -> None:
    import azureml
    import azureml.core

    assert azureml.core.compute.AmlCompute is headwater.AmlCompute
    assert azureml.pipeline.steps.PythonScriptStep is headwater.PythonScriptStep
    assert "compute" in dir(azureml.core)
    assert "Workspace" in dir(azureml.core)


def test_a_typo_is_an_ordinary_import_or_attribute_error() -> None:
    import azureml.core

    with pytest.raises(ImportError, match="Wrokspace"):
        from azureml.core import Wrokspace  # noqa: F401
    with pytest.raises(AttributeError, match="Did you mean 'Workspace'"):
        azureml.core.Wrokspace  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("azureml.core.no_such_module")
    with pytest.raises(AttributeError):
        importlib.import_module("azureml.pipeline.steps").NoSuchStep  # noqa: B018
    with pytest.raises(AttributeError):
        azureml.core.__no_such_dunder__  # noqa: B018


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from azureml.pipeline.steps import *", namespace)
    assert namespace["PythonScriptStep"] is headwater.PythonScriptStep
    assert is_placeholder(namespace["HyperDriveStep"])
    assert not any(name.startswith("_") for name in namespace if name != "__builtins__")


def test_azureml_core_version_is_sdk_v1_marked_as_headwater() -> None:
    import azureml.core

    assert azureml.core.VERSION == azureml.core.__version__ == SDK_VERSION
    assert SDK_VERSION.startswith("1.61.0+headwater.")
    assert Version(SDK_VERSION) >= Version("1.40")


def test_importing_azureml_loads_nothing_until_a_name_is_used(azureml_on: Path) -> None:
    code = (
        "import sys, json\n"
        "import azureml.core, azureml.data, azureml.pipeline.core, azureml.pipeline.steps, azureml.exceptions\n"
        "before = sorted(m for m in sys.modules\n"
        "                if m.startswith('headwater.') and not m.startswith('headwater.compat'))\n"
        "from azureml.core import Run\n"
        "heavy = ('pandas', 'pyarrow', 'sqlalchemy', 'fsspec', 'click', 'rich', 'headwater.sdk', 'headwater.store')\n"
        "print(json.dumps([before, [m for m in heavy if m in sys.modules]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(azureml_on), "PATH": ""},
    )
    before, heavy = json.loads(out.stdout)
    assert before == ["headwater._version"]
    assert heavy == []
