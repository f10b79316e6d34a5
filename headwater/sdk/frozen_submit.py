"""Submitting an already-built, frozen pipeline graph (a draft's), and reading a run's graph back.

Like ``Pipeline._submit`` but the spec is given: the orchestrator is started first (its start-up
overlaps recording the run), then :func:`headwater.ops.submit.submit_pipeline` records and starts it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from headwater.graph.spec import PipelineSpec
from headwater.sdk.parameters import parameter_value

if TYPE_CHECKING:
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.workspace import Workspace

__all__ = ["frozen_from_run", "json_parameters", "submit_spec"]


def json_parameters(pipeline_parameters: dict[str, Any] | None) -> dict[str, Any]:
    """Parameter assignments in their JSON form (None stays None: submit refuses it naming the type)."""
    return {
        name: None if value is None else parameter_value(value, name=name)
        for name, value in (pipeline_parameters or {}).items()
    }


def submit_spec(
    ws: Workspace,
    spec: PipelineSpec,
    experiment_name: str,
    *,
    pipeline_parameters: dict[str, Any] | None = None,
    continue_on_step_failure: bool = False,
    tags: dict[str, str] | None = None,
) -> PipelineRun:
    """Submit ``spec`` to experiment ``experiment_name``; returns the PipelineRun at once."""
    from headwater.ops.spawn import start_pending_run

    pending = start_pending_run(ws.folder)
    try:
        from headwater.ops.submit import SubmitOptions, submit_pipeline

        store, ref = ws.metadata_store, ws._ref()
    except BaseException:
        pending.discard()
        raise
    from headwater.sdk.runs import PipelineRun

    run_id = submit_pipeline(
        store,
        ref,
        spec,
        SubmitOptions(
            experiment_name=experiment_name,
            pipeline_parameters=dict(pipeline_parameters or {}),
            continue_on_step_failure=continue_on_step_failure,
            tags=tags,
            max_concurrency=int(os.environ.get("HEADWATER_MAX_CONCURRENCY", "0") or 0),
            terminate_grace_seconds=float(os.environ.get("HEADWATER_TERMINATE_GRACE_SECONDS", "10") or 10),
            pipeline_source_directory=spec.steps[0].source_directory if spec.steps else str(ws.folder),
        ),
        pending,
    )
    return PipelineRun._get(ws, run_id)


def frozen_from_run(run: Any) -> tuple[PipelineSpec, dict[str, Any], bool]:
    """A pipeline run's graph with each step pointed at the snapshot it ran (a frozen copy), its
    parameter values and its continue_on_step_failure."""
    import dataclasses

    from headwater.layout import WorkspaceLayout
    from headwater.sdk.run_graph import run_plan

    plan = run_plan(run)
    root = WorkspaceLayout(run._workspace.folder).snapshots
    steps = tuple(
        dataclasses.replace(s, source_directory=str(root / plan.steps[s.node_id].snapshot_id)) for s in plan.spec.steps
    )
    return dataclasses.replace(plan.spec, steps=steps), dict(plan.parameters), bool(plan.continue_on_step_failure)
