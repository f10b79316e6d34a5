"""``submit``: record a pipeline run (or a single script run) and start it — the verb the SDK, CLI
and server share.

Validates the graph, resolves parameters, snapshots each source directory (once per content
digest), checks each step's environment, pre-computes dataset input digests, records the
pipeline run and its step runs (NotStarted), writes the run plan, then either finishes the run
in this process (every step reused: no orchestrator is started) or starts a detached
orchestrator and returns at once.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.data.files import DataAccess
from headwater.engine.inputs import WorkspaceHandle, dataset_digest
from headwater.engine.reused import plan_all_reused, record_all_reused
from headwater.errors import ConfigurationError, GraphValidationError
from headwater.graph.analysis import validate
from headwater.graph.spec import PipelineSpec, StepSpec
from headwater.layout import WorkspaceLayout
from headwater.ops.destinations import destination_problems
from headwater.ops.parameters import resolve_parameters
from headwater.ops.spawn import PendingRun, start_pending_run
from headwater.plan.digests import open_digest_cache, workspace_cache_path
from headwater.plan.environments import check_current_interpreter, environment_digest
from headwater.plan.git import git_properties_many
from headwater.plan.run_plan import PIPELINE_RUN, SCRIPT_RUN, RunPlan, StepPlan
from headwater.plan.snapshots import scan, store_snapshot
from headwater.runtime.context import WorkspaceRef
from headwater.status import PipelineRunStatus, ScriptRunStatus, StepRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord, utcnow

if TYPE_CHECKING:
    from headwater.ops.ray_targets import RayTargets

__all__ = ["SubmitOptions", "submit_pipeline", "submit_script"]


@dataclass(frozen=True)
class SubmitOptions:
    experiment_name: str
    pipeline_parameters: dict[str, Any]
    regenerate_outputs: bool = False
    continue_on_step_failure: bool = False
    tags: dict[str, str] | None = None
    max_concurrency: int = 0
    terminate_grace_seconds: float = 10.0
    pipeline_source_directory: str | None = None  # for the pipeline run's git properties
    parent_run_id: str | None = None  # a script run submitted as a child run (Run.submit_child)


def _default_datastore(spec: PipelineSpec, store: MetadataStore) -> str:
    return spec.default_datastore or store.get_meta("default_datastore") or "workspaceblobstore"


def _target_concurrency(spec: PipelineSpec, store: MetadataStore) -> dict[str, int]:
    """How many steps may run at once on each compute target the pipeline names.

    An AmlCompute with ``max_nodes=N`` runs at most N of the run's steps at once; ``'local'``, an
    AmlCompute without ``max_nodes`` and other kinds are bounded only by the pipeline's limit.
    """
    limits: dict[str, int] = {}
    for name in sorted({s.compute_target for s in spec.steps if s.compute_target not in (None, "local")}):
        assert name is not None
        record = store.get_compute_target(name)
        if record is None or record.kind != "AmlCompute":
            continue
        max_nodes = record.config.get("max_nodes")
        if isinstance(max_nodes, int) and max_nodes >= 1:
            limits[name] = max_nodes
    return limits


def _snapshot_ids(spec: PipelineSpec, store: MetadataStore, ws_folder: Path) -> dict[str, str]:
    """Snapshot every distinct source directory once; node id -> snapshot id."""
    by_dir: dict[str, str] = {}
    cache = open_digest_cache(workspace_cache_path(ws_folder))
    try:
        for step in spec.steps:
            if step.source_directory in by_dir:
                continue
            manifest = scan(step.source_directory, cache)
            # Stored unless its folder is there (a snapshot a step corrupted was discarded).
            store_snapshot(manifest, step.source_directory, WorkspaceLayout(ws_folder).snapshots)
            if not store.has_snapshot(manifest.digest):
                store.put_snapshot(manifest.digest, file_count=len(manifest.files), size=manifest.total_size)
            by_dir[step.source_directory] = manifest.digest
    finally:
        cache.close()
    return {s.node_id: by_dir[s.source_directory] for s in spec.steps}


class _NoRayTargets:
    """The :class:`~headwater.ops.ray_targets.RayTargets` of a pipeline without Ray targets."""

    def __init__(self) -> None:
        self.addresses: dict[str, str] = {}
        self.concurrency: dict[str, int] = {}
        self.ship: dict[str, str] = {}

    def resources(self, step: StepSpec) -> dict[str, Any]:
        return {}


def _ray_targets(
    spec: PipelineSpec, store: MetadataStore, parameters: dict[str, Any], default_datastore: str, ws_folder: Path
) -> RayTargets | _NoRayTargets:
    """:func:`~headwater.ops.ray_targets.plan_ray_targets`; a pipeline whose steps name no compute
    target (or ``'local'``) has none, and does not import the Ray targets' resource model."""
    if all(s.compute_target in (None, "local") for s in spec.steps):
        return _NoRayTargets()
    from headwater.ops.ray_targets import plan_ray_targets

    return plan_ray_targets(
        spec, store, parameters=parameters, default_datastore=default_datastore, workspace_folder=ws_folder
    )


def _resources_property(resources: dict[str, Any]) -> dict[str, str]:
    """:func:`~headwater.ops.ray_targets.resources_property` (none for a step that asks for nothing)."""
    if not resources:
        return {}
    from headwater.ops.ray_targets import resources_property

    return resources_property(resources)


def _dataset_inputs(
    spec: PipelineSpec, parameters: dict[str, Any], access: DataAccess
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, dict[str, Any]]]]:
    """Content digests of dataset inputs, computed once per dataset (node -> input -> digest)."""
    digests: dict[str, dict[str, str]] = {}
    records: dict[str, dict[str, dict[str, Any]]] = {}
    memo: dict[str, str] = {}
    for step in spec.steps:
        for i in step.inputs:
            record = i.source.get("dataset")
            if record is None and "parameter" in i.source:
                value = parameters.get(i.source["parameter"])
                record = value if isinstance(value, dict) and "definition" in value else None
            if record is None:
                continue
            key = record["id"] + ":" + str(record.get("version"))
            if key not in memo:
                memo[key] = dataset_digest(record, access)
            digests.setdefault(step.node_id, {})[i.name] = memo[key]
            records.setdefault(step.node_id, {})[i.name] = record
    return digests, records


def submit_pipeline(
    store: MetadataStore,
    workspace: WorkspaceRef,
    spec: PipelineSpec,
    options: SubmitOptions,
    pending: PendingRun | None = None,
) -> str:
    """Record and start a pipeline run; returns its id. Raises before recording anything when the
    pipeline is invalid or a parameter is unknown. ``pending``: an orchestrator already started
    for this run (:func:`headwater.ops.spawn.start_pending_run`); it is consumed either way."""
    return _submit(store, workspace, spec, options, PIPELINE_RUN, pending)


def submit_script(
    store: MetadataStore,
    workspace: WorkspaceRef,
    spec: PipelineSpec,
    options: SubmitOptions,
    pending: PendingRun | None = None,
) -> str:
    """Record and start a single script run (SDK v1: a ScriptRunConfig given to Experiment.submit).

    ``spec`` has exactly one step. The run is one record of kind ``script`` whose id is also its
    step's run id: the orchestrator runs the step as it runs any step, and the step runner writes
    SDK v1's script-run statuses (Queued, Preparing, Running, Finalizing, Completed ...) on it.
    Script runs are never reused, and never reused from (their status is not ``Finished``).
    """
    if len(spec.steps) != 1:
        raise ValueError(f"A script run has exactly one step, not {len(spec.steps)}")
    return _submit(store, workspace, spec, options, SCRIPT_RUN, pending)


def _submit(
    store: MetadataStore,
    workspace: WorkspaceRef,
    spec: PipelineSpec,
    options: SubmitOptions,
    kind: str,
    pending: PendingRun | None,
) -> str:
    try:
        problems = validate(spec)
        default_datastore = _default_datastore(spec, store)
        problems += destination_problems(spec, store, Path(workspace.folder), default_datastore)
        if problems:
            raise GraphValidationError(problems)
        parameters = resolve_parameters(spec.parameters, options.pipeline_parameters)
        # The orchestrator starts first (see headwater.ops.spawn); the SDK may have started it already.
        pending = pending or start_pending_run(workspace.folder)
        return _plan_and_record(store, workspace, spec, options, kind, parameters, pending, default_datastore)
    except BaseException as exc:
        if pending is not None:
            pending.discard()
            _fail_recorded(store, pending.run_id, exc)
        raise


def _fail_recorded(store: MetadataStore, run_id: str, exc: BaseException) -> None:
    """A submit that failed after its records were written: they say so, instead of NotStarted forever.

    The run becomes Failed with the error; its steps that never started become Canceled. Best
    effort: the store itself may be what failed.
    """
    try:
        run = store.get_run(run_id)
        if run is None or run.status != PipelineRunStatus.NotStarted:
            return
        now = utcnow()
        message = f"The submit failed before the run could start: {type(exc).__name__}: {exc}"
        for step in store.list_runs(parent_id=run_id):
            if step.status == StepRunStatus.NotStarted:
                store.update_run(step.id, status=StepRunStatus.Canceled, ended_at=now, error={"message": message})
        store.update_run(run_id, status=PipelineRunStatus.Failed, ended_at=now, error={"message": message})
    except Exception:  # the original error is what the caller sees
        pass


def _plan_and_record(
    store: MetadataStore,
    workspace: WorkspaceRef,
    spec: PipelineSpec,
    options: SubmitOptions,
    kind: str,
    parameters: dict[str, Any],
    pending: PendingRun,
    default_datastore: str,
) -> str:
    ws_folder = Path(workspace.folder)
    run_id, plan_path = pending.run_id, pending.plan_path
    # Ray clusters first: an unreachable one, a strict request or host-local data stops the submit here.
    ray = _ray_targets(spec, store, parameters, default_datastore, ws_folder)
    snapshots = _snapshot_ids(spec, store, ws_folder)
    handle = WorkspaceHandle(store, ws_folder, workspace.name)
    with DataAccess(handle) as access:
        input_digests, input_records = _dataset_inputs(spec, parameters, access)
    experiment = store.get_or_create_experiment(options.experiment_name)  # nothing is recorded before

    steps: dict[str, StepPlan] = {}
    for step in spec.steps:
        env = check_current_interpreter(step.environment)
        interpreter, needs_build = env.interpreter, False
        if not env.satisfied:  # built before (a lookup, no build), else built by the orchestrator
            from headwater.engine.environments import find_built  # not needed while steps use this Python

            built = find_built(
                step.environment, WorkspaceLayout(ws_folder).environments, strict_python=workspace.strict_python
            )
            interpreter, needs_build = (built.interpreter, False) if built is not None else ("", True)
        if needs_build and (step.compute_target or "") in ray.ship:
            raise ConfigurationError(
                f"Step {step.name!r} on compute target {step.compute_target!r} needs its environment built, but the "
                "target's Ray cluster has no shared filesystem and environments are not built on Ray workers yet",
                hint="Run the step in the default environment (the workers' Python), or attach the target with "
                "shared_filesystem=True when its nodes see this host's files.",
            )
        steps[step.node_id] = StepPlan(
            run_id=run_id if kind == SCRIPT_RUN else str(uuid.uuid4()),
            snapshot_id=snapshots[step.node_id],
            interpreter=interpreter or sys.executable,
            needs_build=needs_build,
            environment_digest=environment_digest(step.environment),
            input_digests=input_digests.get(step.node_id, {}),
            input_records=input_records.get(step.node_id, {}),
            resources=ray.resources(step),
        )
    plan = RunPlan(
        pipeline_run_id=run_id,
        experiment_id=experiment.id,
        experiment_name=experiment.name,
        workspace=workspace,
        spec=spec,
        parameters=parameters,
        steps=steps,
        default_datastore=default_datastore,
        regenerate_outputs=options.regenerate_outputs,
        continue_on_step_failure=options.continue_on_step_failure,
        max_concurrency=options.max_concurrency,
        target_concurrency={**_target_concurrency(spec, store), **ray.concurrency},
        ray_targets=ray.addresses,
        ray_ship=ray.ship,
        terminate_grace_seconds=options.terminate_grace_seconds,
        kind=kind,
    )

    reused = plan_all_reused(plan, store) if kind == PIPELINE_RUN else None
    if reused is not None:
        pending.stop()  # nothing to run: the waiting orchestrator is not needed
    else:
        pending.start()  # when it was not started first (headwater.ops.reuse_hint): now
    folders = [s.source_directory for s in spec.steps]
    if kind == PIPELINE_RUN:
        folders.append(options.pipeline_source_directory or os.getcwd())
    git = git_properties_many(folders)
    with store.transaction():  # all of the run's records, or none (a failed submit leaves no half-run)
        if kind == SCRIPT_RUN:
            _record_script_run(store, plan, plan_path, git, parent_id=options.parent_run_id)
        else:
            _record_pipeline_run(store, plan, plan_path, git, options.pipeline_source_directory or os.getcwd())
        if options.tags:
            store.set_tags(run_id, {str(k): None if v is None else str(v) for k, v in options.tags.items()})
    if reused is not None:
        plan.save(plan_path)
        record_all_reused(plan, store, reused)
        pending.all_reused = True
        return run_id
    from headwater.engine.liveness import orchestrator_record  # not needed when every step is reused

    # A merge: a script run's orchestrator may already be writing the same record's definition.
    store.merge_run_definition(run_id, orchestrator_record(pending.pid))
    plan.save(plan_path)  # the orchestrator starts running steps once this file exists
    return run_id


def _record_pipeline_run(
    store: MetadataStore,
    plan: RunPlan,
    plan_path: Path,
    git: dict[str, dict[str, str]],
    source_directory: str,
) -> None:
    """The pipeline run's record and one NotStarted record per step."""
    pipeline_run_id = plan.pipeline_run_id
    store.create_run(
        RunRecord(
            id=pipeline_run_id,
            experiment_id=plan.experiment_id,
            kind=PIPELINE_RUN,
            status=PipelineRunStatus.NotStarted,
            name=plan.spec.description,
            definition={"parameters": plan.parameters, "plan": str(plan_path)},
        )
    )
    store.add_properties(pipeline_run_id, {"azureml.runsource": "azureml.PipelineRun", **git[source_directory]})
    for step in plan.spec.steps:
        sp = plan.steps[step.node_id]
        store.create_run(
            RunRecord(
                id=sp.run_id,
                experiment_id=plan.experiment_id,
                kind="step",
                status=StepRunStatus.NotStarted,
                name=step.name,
                parent_id=pipeline_run_id,
                snapshot_id=sp.snapshot_id,
                compute_target=step.compute_target,
            )
        )
        properties = {"ContentSnapshotId": sp.snapshot_id, **git[step.source_directory]}
        store.add_properties(sp.run_id, {**properties, **_resources_property(sp.resources)})
        store.set_tags(sp.run_id, {"azureml.nodeid": step.node_id, "azureml.pipeline": pipeline_run_id})


def _record_script_run(
    store: MetadataStore, plan: RunPlan, plan_path: Path, git: dict[str, dict[str, str]], parent_id: str | None = None
) -> None:
    """The script run's one record (kind ``script``, NotStarted), with SDK v1's properties."""
    (step,) = plan.spec.steps
    sp = plan.steps[step.node_id]
    store.create_run(
        RunRecord(
            id=plan.pipeline_run_id,
            experiment_id=plan.experiment_id,
            kind=SCRIPT_RUN,
            status=ScriptRunStatus.NotStarted,
            name=step.name,
            parent_id=parent_id,
            snapshot_id=sp.snapshot_id,
            compute_target=step.compute_target,
            definition={"plan": str(plan_path)},
        )
    )
    store.add_properties(
        plan.pipeline_run_id,
        {
            "azureml.runsource": "experiment",
            "ContentSnapshotId": sp.snapshot_id,
            **git[step.source_directory],
            **_resources_property(sp.resources),
        },
    )
