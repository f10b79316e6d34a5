"""The run plan: what ``submit`` hands the orchestrator, as one JSON file in the run folder
(``plan.json``, see :mod:`headwater.layout`).

It holds everything the orchestrator needs — the pipeline spec, resolved parameter values, the
step run ids, snapshot ids, interpreters, pre-computed input digests — so the orchestrator
never sees user objects and never re-reads global settings.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from headwater.graph.spec import PipelineSpec
from headwater.runtime.context import WorkspaceRef
from headwater.status import ScriptRunStatus, StepRunStatus

__all__ = [
    "PIPELINE_RUN",
    "SCRIPT_RUN",
    "SCRIPT_STATUSES",
    "STEP_STATUSES",
    "RunPlan",
    "StepPlan",
    "StepStatuses",
]

#: A plan's kinds. A pipeline run has one step run per step; a script run (SDK v1's
#: ScriptRunConfig submitted by Experiment.submit) is a one-step plan whose step run *is* the
#: top-level run: the same record, id and folder.
PIPELINE_RUN = "pipeline"
SCRIPT_RUN = "script"


@dataclass(frozen=True)
class StepStatuses:
    """The status words a step's transitions write: SDK v1's vocabulary for that kind of run.

    ``preparing``/``finalizing`` are None where the vocabulary has no such state (a step run
    stays Queued while its inputs are made ready, and is Running until its outputs are saved).
    ``runsource`` is the ``azureml.runsource`` property set when the step starts (None: it was
    set at submit).
    """

    preparing: str | None
    running: str
    finalizing: str | None
    finished: str
    runsource: str | None


#: A pipeline's step run: NotStarted, Queued, Running, Finished, Failed, Canceled.
STEP_STATUSES = StepStatuses(None, StepRunStatus.Running, None, StepRunStatus.Finished, "azureml.StepRun")
#: A script run: NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed, Canceled.
SCRIPT_STATUSES = StepStatuses(
    ScriptRunStatus.Preparing, ScriptRunStatus.Running, ScriptRunStatus.Finalizing, ScriptRunStatus.Completed, None
)


@dataclass(frozen=True)
class StepPlan:
    """Per-step facts fixed at submit time."""

    run_id: str
    snapshot_id: str
    interpreter: str  # absolute path of the environment's Python
    environment_digest: str
    input_digests: dict[str, str] = field(default_factory=dict)  # pre-computed (datasets, datapaths)
    input_records: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset records by input
    environment_error: str | None = None  # the environment cannot be used: the step fails with this
    needs_build: bool = False  # its environment must be built (engine.environments) before it runs
    # What its task asks the executor for: {"cpu", "gpu", "memory_gb"} (Ray targets; empty: the default)
    resources: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPlan:
    pipeline_run_id: str
    experiment_id: str
    experiment_name: str
    workspace: WorkspaceRef
    spec: PipelineSpec
    parameters: dict[str, Any]
    steps: dict[str, StepPlan]  # node id -> StepPlan
    default_datastore: str
    regenerate_outputs: bool = False
    continue_on_step_failure: bool = False
    max_concurrency: int = 0  # 0: as many as the machine has cores
    target_concurrency: dict[str, int] = field(default_factory=dict)  # compute target -> steps at once
    ray_targets: dict[str, str] = field(default_factory=dict)  # compute target -> Ray cluster address
    # Ray targets without a shared filesystem ("ship" mode): compute target -> staging datastore
    ray_ship: dict[str, str] = field(default_factory=dict)
    terminate_grace_seconds: float = 10.0  # SIGTERM, then SIGKILL after this long (cancel, timeout)
    kind: str = PIPELINE_RUN  # SCRIPT_RUN: one step, whose run id is pipeline_run_id

    @property
    def parent_run_id(self) -> str | None:
        """The parent of the plan's step runs: the pipeline run (None for a script run, which has none)."""
        return None if self.kind == SCRIPT_RUN else self.pipeline_run_id

    @property
    def step_statuses(self) -> StepStatuses:
        """The status words the plan's step runs take."""
        return SCRIPT_STATUSES if self.kind == SCRIPT_RUN else STEP_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline_run_id": self.pipeline_run_id,
            "experiment_id": self.experiment_id,
            "experiment_name": self.experiment_name,
            "workspace": self.workspace.to_dict(),
            "spec": self.spec.to_dict(),
            "parameters": self.parameters,
            "steps": {k: asdict(v) for k, v in self.steps.items()},
            "default_datastore": self.default_datastore,
            "regenerate_outputs": self.regenerate_outputs,
            "continue_on_step_failure": self.continue_on_step_failure,
            "max_concurrency": self.max_concurrency,
            "target_concurrency": dict(self.target_concurrency),
            "ray_targets": dict(self.ray_targets),
            "ray_ship": dict(self.ray_ship),
            "terminate_grace_seconds": self.terminate_grace_seconds,
            "kind": self.kind,
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> RunPlan:
        return RunPlan(
            pipeline_run_id=d["pipeline_run_id"],
            experiment_id=d["experiment_id"],
            experiment_name=d["experiment_name"],
            workspace=WorkspaceRef.from_dict(d["workspace"]),
            spec=PipelineSpec.from_dict(d["spec"]),
            parameters=dict(d["parameters"]),
            steps={k: StepPlan(**v) for k, v in d["steps"].items()},
            default_datastore=d["default_datastore"],
            regenerate_outputs=d.get("regenerate_outputs", False),
            continue_on_step_failure=d.get("continue_on_step_failure", False),
            max_concurrency=d.get("max_concurrency", 0),
            target_concurrency=dict(d.get("target_concurrency", {})),
            ray_targets=dict(d.get("ray_targets", {})),
            ray_ship=dict(d.get("ray_ship", {})),
            terminate_grace_seconds=float(d.get("terminate_grace_seconds", 10.0)),
            kind=d.get("kind", PIPELINE_RUN),
        )

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    @staticmethod
    def load(path: Path) -> RunPlan:
        return RunPlan.from_dict(json.loads(path.read_text(encoding="utf-8")))
