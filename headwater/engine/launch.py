"""Turn a step, its resolved inputs and outputs into a :class:`TaskSpec`: SDK v1's contract.

What a step script sees (reference §1.4): argv tokens replaced by local paths and values; the
environment variables ``AZUREML_RUN_ID``, ``AZUREML_ARM_*``, ``<input name>``,
``AZUREML_DATASET_ENVIRONMENT_VARS``, ``<output name>``, ``AZUREML_DATASET_FILE_OUTPUTS``,
``AZUREML_DATAREFERENCE_<name>``, ``AML_PARAMETER_<name>``; plus ``HEADWATER_CONTEXT``, the
context file that :mod:`headwater.runtime` reads.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

from headwater._paths import COMPAT_SHIM_DIR, PACKAGE_DIR
from headwater.engine.executors.base import TaskSpec
from headwater.engine.resolved import ResolvedInput, ResolvedOutput
from headwater.graph.spec import StepSpec
from headwater.layout import RunLayout, WorkspaceLayout
from headwater.plan.run_plan import RunPlan
from headwater.runtime.context import CONTEXT_ENV, InputDatasetRef, StepContext

__all__ = ["ResolvedInput", "ResolvedOutput", "parameter_env_name", "format_value", "build_task"]

_NON_WORD = re.compile(r"\W")
_VARIABLE = r"((?:AZUREML_DATAREFERENCE|AML_PARAMETER)_\w+)"
_PLACEHOLDER = re.compile(rf"\$\{{{_VARIABLE}\}}|\${_VARIABLE}")
_PYTHON_WORDS = {"python", "python3", f"python3.{sys.version_info[1]}"}


def parameter_env_name(name: str) -> str:
    """``AML_PARAMETER_<name>`` with non-word characters replaced by ``_`` (as SDK v1 does)."""
    return "AML_PARAMETER_" + _NON_WORD.sub("_", name)


def format_value(value: Any) -> str:
    """How a parameter value appears in argv and environment variables."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _token_value(
    token: dict[str, str],
    inputs: dict[str, ResolvedInput],
    outputs: dict[str, ResolvedOutput],
    parameters: dict[str, Any],
) -> str:
    if "literal" in token:
        return token["literal"]
    if "input" in token:
        return inputs[token["input"]].value
    if "output" in token:
        return str(outputs[token["output"]].staging)
    return format_value(parameters.get(token["parameter"]))


def _expand(
    value: str,
    token: dict[str, str],
    env: dict[str, str],
    inputs: dict[str, ResolvedInput],
    outputs: dict[str, ResolvedOutput],
) -> str:
    """Resolve SDK v1's placeholders written as text in a literal argument, as its runtime does.

    ``str(pipeline_data)`` is ``$AZUREML_DATAREFERENCE_<name>`` and ``str(parameter)`` is
    ``$AML_PARAMETER_<name>``, so code like ``f"--out={data}"`` passes them as text; they expand
    to the step's variable of that name (unknown names stay as written). A whole argument
    ``DatasetConsumptionConfig:<name>`` / ``DatasetOutputConfig:<name>`` becomes that input's or
    output's path.
    """
    if "literal" not in token:
        return value
    kind, _, name = value.partition(":")
    if kind == "DatasetConsumptionConfig" and name in inputs:
        return inputs[name].value
    if kind == "DatasetOutputConfig" and name in outputs:
        return str(outputs[name].staging)
    if "$" not in value:
        return value
    return _PLACEHOLDER.sub(lambda m: env.get(m[1] or m[2], m[0]), value)


def _command_argv(words: list[str], interpreter: str) -> tuple[str, ...]:
    """A CommandStep's command. A leading ``python`` means the step environment's interpreter."""
    if len(words) == 1:
        # One string: a shell command line, as SDK v1 runs it.
        line = words[0]
        first, _, rest = line.strip().partition(" ")
        if first in _PYTHON_WORDS:
            line = f"{shlex.quote(interpreter)} {rest}"
        return ("/bin/sh", "-c", line)
    if words and words[0] in _PYTHON_WORDS:
        words = [interpreter, *words[1:]]
    return tuple(words)


def runtime_link_dir(workspace_folder: Path) -> Path:
    """``<workspace>/environments/.headwater-runtime``: a folder whose only entry links to the
    installed ``headwater`` package, for steps that run in a built environment."""
    folder = WorkspaceLayout(workspace_folder).runtime_link_dir
    link = folder / "headwater"
    if not link.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".headwater.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(PACKAGE_DIR, target_is_directory=True)
        os.replace(tmp, link)
    return folder


def build_task(
    plan: RunPlan,
    step: StepSpec,
    *,
    run_dir: Path,
    workdir: Path,
    inputs: list[ResolvedInput],
    outputs: list[ResolvedOutput],
    interpreter: str | None = None,
    fingerprint: str | None = None,
) -> TaskSpec:
    """Write the step's context file and return its task. ``interpreter`` (a built environment's
    Python) overrides the plan's; ``fingerprint`` (the step's) keys a ParallelRunStep's progress."""
    sp = plan.steps[step.node_id]
    by_in = {i.name: i for i in inputs}
    by_out = {o.name: o for o in outputs}
    ws = plan.workspace
    layout = RunLayout(run_dir)
    env: dict[str, str] = {
        "AZUREML_RUN_ID": sp.run_id,
        "AZUREML_ARM_SUBSCRIPTION": ws.subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": ws.resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": ws.name,
        "AZUREML_ARM_PROJECT_NAME": plan.experiment_name,
        "AZUREML_EXPERIMENT_ID": plan.experiment_id,
        "AZUREML_WORKSPACE_ID": ws.folder,
        CONTEXT_ENV: str(layout.context_file),
        "PYTHONUNBUFFERED": "1",
    }
    if plan.parent_run_id is not None:  # a script run has no parent
        env["HEADWATER_PARENT_RUN_ID"] = plan.parent_run_id
    env.update(step.environment_variables)
    # Step scripts written for SDK v1 import azureml.*: the compatibility layer is always active in steps.
    # An interpreter other than Headwater's own (a built environment) gets Headwater's package
    # through a folder holding only a link to it: the stdlib-only runtime and the azureml names.
    python = interpreter or sp.interpreter
    runtime = None if python == sys.executable else str(runtime_link_dir(Path(plan.workspace.folder)))
    user_path = env.get("PYTHONPATH", os.environ.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(COMPAT_SHIM_DIR), runtime, user_path) if p)
    dataset_vars = []
    for i in inputs:
        env[i.name] = i.value
        dataset_vars.append(f"{i.name}:{i.mode}")
        if i.legacy:
            env[f"AZUREML_DATAREFERENCE_{i.name}"] = i.value
    if dataset_vars:
        env["AZUREML_DATASET_ENVIRONMENT_VARS"] = ",".join(dataset_vars)
    file_outputs = []
    for o in outputs:
        env[o.name] = str(o.staging)
        file_outputs.append(o.name)
        if o.legacy:
            env[f"AZUREML_DATAREFERENCE_{o.name}"] = str(o.staging)
    if file_outputs:
        env["AZUREML_DATASET_FILE_OUTPUTS"] = ";".join(file_outputs)
    for key, token in step.params.items():
        env[parameter_env_name(key)] = _token_value(token, by_in, by_out, plan.parameters)
    for token in step.arguments:  # SDK v1 passes parameters in arguments as $AML_PARAMETER_<name>
        if "parameter" in token:
            name = token["parameter"]
            env.setdefault(parameter_env_name(name), format_value(plan.parameters.get(name)))

    args = [_expand(_token_value(t, by_in, by_out, plan.parameters), t, env, by_in, by_out) for t in step.arguments]
    target = step.compute_target
    if step.kind == "python":
        assert step.script is not None
        argv: tuple[str, ...] = (python, step.script, *args)
    elif step.kind == "transfer":  # DataTransferStep: Headwater's copier, always on this machine
        argv = (
            sys.executable,
            "-m",
            "headwater.engine.transfer",
            "--workspace-folder",
            ws.folder,
            "--step-name",
            step.name,
            *args,
        )
        target = None
    elif step.kind == "parallel":  # ParallelRunStep: Headwater's driver runs the entry script in workers
        assert step.script is not None
        argv = (python, "-m", "headwater.runtime.parallel_driver", *args)
        env["HEADWATER_PARALLEL_PROGRESS"] = str(WorkspaceLayout(ws.folder).parallel_progress(fingerprint or sp.run_id))
    else:
        argv = _command_argv(args, python)

    StepContext(
        run_id=sp.run_id,
        parent_run_id=plan.parent_run_id,
        step_name=step.name,
        experiment_name=plan.experiment_name,
        experiment_id=plan.experiment_id,
        workspace=ws.for_step(),
        run_dir=str(run_dir),
        events_file=str(layout.events_file),
        input_datasets={i.name: InputDatasetRef(i.name, i.mode, i.path, i.dataset) for i in inputs},
        output_datasets={o.name: str(o.staging) for o in outputs},
    ).write(layout.context_file)
    return TaskSpec(
        run_id=sp.run_id,
        argv=argv,
        cwd=str(workdir),
        env=env,
        log_path=str(layout.std_log),
        timeout_seconds=step.max_run_duration_seconds,
        target=target,
        resources=dict(sp.resources),
        step_name=step.name,
    )
