"""Snapshot the public API of the real Azure ML SDK v1, for the conformance test of the azureml layer.

    python scripts/sdk_conformance.py            # (make conformance-snapshot) venv + install + snapshot
    python scripts/sdk_conformance.py --gaps     # rewrite the known-gaps list and the conformance table

The default run creates a separate virtual environment ``.conformance/venv`` (git-ignored), installs
the pinned SDK packages (:data:`PINS`) into it, imports them there with networking off (a
``sitecustomize`` on that interpreter's path makes every socket connect and name look-up raise), and
introspects the module paths of :data:`MODULE_PATHS`: their public classes and functions, and for
each class its public members (kind, parameters with their defaults). The result is written,
sorted and stable, to ``tests/compat/sdk_v1_snapshot.json`` (:data:`SNAPSHOT`). The SDK is
frozen, so the snapshot changes only when the pins or the module list here change.

``--gaps`` needs no SDK: it runs the comparison of ``tests/compat/conformance.py`` (the one the
test runs) against the committed snapshot with this interpreter (Headwater's ``.venv``), and writes
the list of today's gaps the test tolerates (``tests/compat/sdk_v1_known_gaps.json``) and
``docs/sdk-v1-conformance.md``.

The snapshot side is stdlib-only and imports nothing of Headwater; it runs as a child process in the
SDK's venv (``--introspect``), whose output is the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".conformance" / "venv"
OFFLINE = ROOT / ".conformance" / "offline"
SNAPSHOT = ROOT / "tests" / "compat" / "sdk_v1_snapshot.json"

#: The SDK v1 packages measured, at the versions issue #16 measured.
PINS = {
    "azureml-core": "1.61.0.post4",
    "azureml-pipeline-core": "1.62.0",
    "azureml-pipeline-steps": "1.62.0",
    "azureml-dataset-runtime": "1.62.0.post1",
}

#: The module paths measured: every ``azureml`` module the layer serves (headwater/compat/names.py,
#: except ``azureml.widgets``, which is another package) and the module paths of the real packages
#: that public samples (Azure/MachineLearningNotebooks, Azure/azureml-examples v1) import from.
MODULE_PATHS = [
    # served by the layer today
    "azureml.core",
    "azureml.core.authentication",
    "azureml.core.compute",
    "azureml.core.compute.amlcompute",
    "azureml.core.compute.computeinstance",
    "azureml.core.compute.datafactory",
    "azureml.core.compute_target",
    "azureml.core.conda_dependencies",
    "azureml.core.dataset",
    "azureml.core.datastore",
    "azureml.core.environment",
    "azureml.core.experiment",
    "azureml.core.model",
    "azureml.core.run",
    "azureml.core.runconfig",
    "azureml.core.script_run",
    "azureml.core.script_run_config",
    "azureml.core.workspace",
    "azureml.data",
    "azureml.data.azure_storage_datastore",
    "azureml.data.data_reference",
    "azureml.data.datapath",
    "azureml.data.dataset_consumption_config",
    "azureml.data.dataset_factory",
    "azureml.data.output_dataset_config",
    "azureml.exceptions",
    "azureml.pipeline.core",
    "azureml.pipeline.core.graph",
    "azureml.pipeline.core.run",
    "azureml.pipeline.steps",
    # imported by public samples, not served today
    "azureml.core.compute.compute",
    "azureml.core.container_registry",
    "azureml.core.keyvault",
    "azureml.core.resource_configuration",
    "azureml.data.abstract_dataset",
    "azureml.data.abstract_datastore",
    "azureml.data.azure_data_lake_datastore",
    "azureml.data.azure_sql_database_datastore",
    "azureml.data.dataset_type_definitions",
    "azureml.data.file_dataset",
    "azureml.data.sql_data_reference",
    "azureml.data.tabular_dataset",
    "azureml.pipeline.core.builder",
    "azureml.pipeline.core.module",
    "azureml.pipeline.core.pipeline",
    "azureml.pipeline.core.pipeline_draft",
    "azureml.pipeline.core.pipeline_endpoint",
    "azureml.pipeline.core.pipeline_output_dataset",
    "azureml.pipeline.core.schedule",
    "azureml.pipeline.steps.command_step",
    "azureml.pipeline.steps.data_transfer_step",
    "azureml.pipeline.steps.module_step",
    "azureml.pipeline.steps.parallel_run_config",
    "azureml.pipeline.steps.parallel_run_step",
    "azureml.pipeline.steps.python_script_step",
    # served by the layer since it took every module path samples import (stand-ins where Headwater
    # has no such step or service)
    "azureml.core.image",
    "azureml.core.webservice",
    "azureml.pipeline.core.module_step_base",
    "azureml.pipeline.steps.adla_step",
    "azureml.pipeline.steps.automl_step",
    "azureml.pipeline.steps.azurebatch_step",
    "azureml.pipeline.steps.databricks_step",
    "azureml.pipeline.steps.estimator_step",
    "azureml.pipeline.steps.hyper_drive_step",
    "azureml.pipeline.steps.kusto_step",
    "azureml.pipeline.steps.mpi_step",
    "azureml.pipeline.steps.r_script_step",
    "azureml.pipeline.steps.synapse_spark_step",
    "azureml.train",
    "azureml.train.automl",
    "azureml.train.dnn",
    "azureml.train.estimator",
    "azureml.train.hyperdrive",
]

#: The classes "the pipeline API uses": the headline figure of docs/sdk-v1-conformance.md is over these
#: (issue #16's list, plus the step, data and compute classes pipeline code builds on).
PIPELINE_API = [
    "azureml.core.compute.amlcompute.AmlCompute",
    "azureml.core.compute.compute.ComputeTarget",
    "azureml.core.conda_dependencies.CondaDependencies",
    "azureml.core.dataset.Dataset",
    "azureml.core.datastore.Datastore",
    "azureml.core.environment.Environment",
    "azureml.core.experiment.Experiment",
    "azureml.core.run.Run",
    "azureml.core.runconfig.DockerConfiguration",
    "azureml.core.runconfig.RunConfiguration",
    "azureml.core.script_run.ScriptRun",
    "azureml.core.script_run_config.ScriptRunConfig",
    "azureml.core.workspace.Workspace",
    "azureml.data.azure_storage_datastore.AzureBlobDatastore",
    "azureml.data.data_reference.DataReference",
    "azureml.data.datapath.DataPath",
    "azureml.data.datapath.DataPathComputeBinding",
    "azureml.data.dataset_consumption_config.DatasetConsumptionConfig",
    "azureml.data.dataset_factory.FileDatasetFactory",
    "azureml.data.dataset_factory.TabularDatasetFactory",
    "azureml.data.file_dataset.FileDataset",
    "azureml.data.output_dataset_config.OutputFileDatasetConfig",
    "azureml.data.output_dataset_config.OutputTabularDatasetConfig",
    "azureml.data.tabular_dataset.TabularDataset",
    "azureml.pipeline.core.builder.PipelineData",
    "azureml.pipeline.core.builder.PipelineStep",
    "azureml.pipeline.core.builder.StepSequence",
    "azureml.pipeline.core.graph.PipelineParameter",
    "azureml.pipeline.core.graph.PortDataReference",
    "azureml.pipeline.core.graph.PublishedPipeline",
    "azureml.pipeline.core.module.Module",
    "azureml.pipeline.core.pipeline.Pipeline",
    "azureml.pipeline.core.pipeline_draft.PipelineDraft",
    "azureml.pipeline.core.pipeline_endpoint.PipelineEndpoint",
    "azureml.pipeline.core.pipeline_output_dataset.PipelineOutputFileDataset",
    "azureml.pipeline.core.pipeline_output_dataset.PipelineOutputTabularDataset",
    "azureml.pipeline.core.run.PipelineRun",
    "azureml.pipeline.core.run.StepRun",
    "azureml.pipeline.core.run.StepRunOutput",
    "azureml.pipeline.core.schedule.Schedule",
    "azureml.pipeline.core.schedule.ScheduleRecurrence",
    "azureml.pipeline.steps.command_step.CommandStep",
    "azureml.pipeline.steps.data_transfer_step.DataTransferStep",
    "azureml.pipeline.steps.module_step.ModuleStep",
    "azureml.pipeline.steps.python_script_step.PythonScriptStep",
]

_SITECUSTOMIZE = '''"""Networking off for the SDK v1 snapshot (scripts/sdk_conformance.py): connecting raises."""
import socket


def _offline(*args, **kwargs):
    raise OSError("networking is off while the SDK v1 snapshot is taken")


socket.socket.connect = _offline
socket.socket.connect_ex = _offline
socket.create_connection = _offline
socket.getaddrinfo = _offline
'''


# -- the parent side: venv, install, run the introspection there -------------------------------


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _installed_pins(python: Path) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        f"names = {sorted(PINS)!r}\n"
        "found = {}\n"
        "for n in names:\n"
        "    try: found[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(found))\n"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def ensure_venv(python: str) -> Path:
    """``.conformance/venv`` with the pinned packages (created and installed on first use); its interpreter."""
    venv_python = _venv_python()
    if not venv_python.exists():
        print(f"creating {VENV} with {python}", file=sys.stderr)
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    if _installed_pins(venv_python) != PINS:
        specs = [f"{name}=={version}" for name, version in sorted(PINS.items())]
        print(f"installing {' '.join(specs)} (a few minutes)", file=sys.stderr)
        subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", *specs], check=True)
    OFFLINE.mkdir(parents=True, exist_ok=True)
    (OFFLINE / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    return venv_python


def take_snapshot(python: str) -> dict[str, object]:
    """Run the introspection in the SDK's venv with networking off; the snapshot as a dict."""
    venv_python = ensure_venv(python)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(ROOT / ".conformance"),  # the SDK reads no config of the user's
        "PYTHONPATH": str(OFFLINE),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [str(venv_python), str(Path(__file__).resolve()), "--introspect"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT / ".conformance"),
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the introspection failed in {VENV} (exit {done.returncode})")
    return json.loads(done.stdout)


def write_json(path: Path, data: object) -> None:
    """:func:`dumps` with a final newline."""
    path.write_text(dumps(data) + "\n", encoding="utf-8")


# -- the child side: runs in the SDK's venv, stdlib only ---------------------------------------


def _default(value: object) -> str:
    import re

    text = repr(value)
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def _params(func: object, *, bound: bool) -> list[str] | None:
    """The parameters as Python writes them: ``["a", "b=None", "*", "c=1", "**kwargs"]`` (``/`` and ``*`` markers).

    ``bound`` drops the first (self/cls) parameter; defaults are ``repr``s, without object addresses.
    """
    import inspect

    try:
        signature = inspect.signature(func)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if bound and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    out: list[str] = []
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and (i == 0 or params[i - 1].kind not in (p.KEYWORD_ONLY, p.VAR_POSITIONAL)):
            out.append("*")
        if p.kind is not p.POSITIONAL_ONLY and i > 0 and params[i - 1].kind is p.POSITIONAL_ONLY:
            out.append("/")
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        default = "" if p.default is p.empty else "=" + _default(p.default)
        out.append(prefix + p.name + default)
    if params and params[-1].kind is params[-1].POSITIONAL_ONLY:
        out.append("/")
    return out


def _is_public_module(name: str) -> bool:
    return name.startswith("azureml.") and not any(part.startswith("_") for part in name.split("."))


def _member(cls: type, name: str) -> list[object] | None:
    """``[kind]`` or ``[kind, params]`` for a public member (inherited ones too, not those of builtins)."""
    import inspect

    owner = next((klass for klass in cls.__mro__ if name in vars(klass)), None)
    if owner is None or owner.__module__ == "builtins":
        return None
    raw = vars(owner)[name]
    if isinstance(raw, staticmethod):
        return ["staticmethod", _params(raw.__func__, bound=False)]
    if isinstance(raw, classmethod):
        return ["classmethod", _params(raw.__func__, bound=True)]
    if inspect.isfunction(raw):
        first = next(iter(inspect.signature(raw).parameters), "")
        if first != "self":  # a function assigned in the class body (``get_by_name = _Dataset.get_by_name``)
            return ["staticmethod", _params(raw, bound=False)]
        return ["method", _params(raw, bound=True)]
    if isinstance(raw, property) or inspect.isdatadescriptor(raw):
        return ["property"]
    if inspect.isclass(raw):
        return ["class"]
    return ["attribute"]


def _class_record(cls: type) -> dict[str, object]:
    import inspect

    members: dict[str, object] = {}
    for name in dir(cls):
        if not name.startswith("_"):
            record = _member(cls, name)
            if record is not None:
                members[name] = record
    init = next((vars(k)["__init__"] for k in cls.__mro__ if "__init__" in vars(k)), object.__init__)
    return {
        "bases": [f"{b.__module__}.{b.__qualname__}" for b in cls.__bases__ if b is not object],
        "init": _params(init, bound=True) if inspect.isfunction(init) else [],
        "members": members,
    }


def _public_names(module: object) -> tuple[list[str], bool]:
    """The module's public names (its ``__all__``, else the classes and functions it defines or re-exports
    from a public ``azureml`` module) and whether it declares ``__all__``."""
    import inspect

    declared = getattr(module, "__all__", None)
    if declared is not None:
        return sorted(n for n in set(declared) if not n.startswith("_")), True
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        home = getattr(value, "__module__", "") or ""
        if home == module.__name__ or _is_public_module(home):  # type: ignore[attr-defined]
            names.append(name)
    return sorted(names), False


def introspect() -> dict[str, object]:
    """The snapshot of :data:`MODULE_PATHS` in this interpreter (the SDK's venv).

    ``modules`` maps each module path to its public names: ``"class <module>.<qualname>"``,
    ``"function"`` or ``"attribute"``. ``classes`` has the members of every class a module of
    :data:`MODULE_PATHS` defines or lists in its ``__all__`` (other re-exported classes, e.g.
    ``azureml.core.model.AksCompute``, are recorded by name only); ``functions`` the parameters of
    the module functions.
    """
    import importlib
    import importlib.metadata
    import inspect
    import platform

    modules: dict[str, dict[str, str]] = {}
    classes: dict[str, object] = {}
    functions: dict[str, object] = {}
    for path in MODULE_PATHS:
        module = importlib.import_module(path)
        names: dict[str, str] = {}
        public, declared = _public_names(module)
        for name in public:
            value = getattr(module, name)
            if inspect.isclass(value):
                key = f"{value.__module__}.{value.__qualname__}"
                names[name] = f"class {key}"
                if key not in classes and (declared or value.__module__ in MODULE_PATHS):
                    classes[key] = _class_record(value)
            elif inspect.isfunction(value):
                names[name] = "function"
                functions[f"{path}.{name}"] = _params(value, bound=False)
            elif not inspect.ismodule(value):
                names[name] = "attribute"
        modules[path] = names
    missing = sorted(set(PIPELINE_API) - set(classes))
    if missing:
        raise SystemExit(f"PIPELINE_API names classes the snapshot does not have: {missing}")
    return {
        "about": "Public API of the Azure ML SDK v1, written by scripts/sdk_conformance.py; do not edit by hand.",
        "packages": {name: importlib.metadata.version(name) for name in sorted(PINS)},
        "python": platform.python_version(),
        "pipeline_api": PIPELINE_API,
        "modules": modules,
        "classes": classes,
        "functions": functions,
    }


def dumps(data: object, indent: int = 0) -> str:
    """JSON with sorted keys, one dict entry per line, and lists (kinds, parameters) on one line: stable diffs."""
    if isinstance(data, dict) and data:
        pad = " " * (indent + 1)
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in sorted(data.items())]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return json.dumps(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--introspect", action="store_true", help=argparse.SUPPRESS)
    group.add_argument("--gaps", action="store_true", help="rewrite the known-gaps list and the conformance table")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter that creates the SDK's venv (default: this one)"
    )
    args = parser.parse_args(argv)
    if args.introspect:
        json.dump(introspect(), sys.stdout)
        return 0
    if args.gaps:
        sys.path.insert(0, str(ROOT))
        from tests.compat.conformance import write_gaps_and_table

        write_gaps_and_table()
        return 0
    write_json(SNAPSHOT, take_snapshot(args.python))
    print(f"wrote {SNAPSHOT.relative_to(ROOT)} ({SNAPSHOT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
