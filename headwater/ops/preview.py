"""``plan``: which steps a submit would run and which it would reuse, and why — recording nothing.

The preview makes the same decisions as a submit (:mod:`headwater.ops.submit`) and the
orchestrator (:mod:`headwater.engine.step_runner`): the same snapshot digests, environment
digests, input digests and fingerprints, and the same planner (:func:`headwater.plan.reuse.decide`),
so each step's reason is the one the run would record ("unchanged", "train.py changed",
"parameter lr 0.1 → 0.2" ...). It records no run, creates no experiment, stores no snapshot and
starts no orchestrator.

A step downstream of a step that runs cannot be decided before that step has run: its input is
then known only by the digest of what the upstream step writes (an upstream step that writes the
same bytes again leaves it reused). Such a step is reported as ``verdict='after-upstream'``,
naming the steps it waits for — unless it would run anyway (``allow_reuse=False``,
``regenerate_outputs=True``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from headwater.errors import GraphValidationError, HeadwaterError
from headwater.graph.analysis import producers, topological_order, validate
from headwater.graph.spec import PipelineSpec
from headwater.ops.destinations import destination_problems
from headwater.ops.parameters import resolve_parameters
from headwater.ops.submit import SubmitOptions, _dataset_inputs, _default_datastore
from headwater.runtime.context import WorkspaceRef
from headwater.store.metadata import MetadataStore

__all__ = ["RunPreview", "StepPreview", "preview_pipeline"]

PreviewVerdict = Literal["run", "reuse", "after-upstream", "cannot-start"]


@dataclass(frozen=True)
class StepPreview:
    """What a submit would do with one step.

    ``verdict``: ``'reuse'`` (``reused_run_id`` names the earlier run), ``'run'``,
    ``'after-upstream'`` (decided once the steps in ``waits_for`` have run) or ``'cannot-start'``
    (an input is missing: the run would fail this step). ``reason`` is the text the run records.
    """

    name: str
    node_id: str
    verdict: PreviewVerdict
    reason: str
    reused_run_id: str | None = None
    waits_for: tuple[str, ...] = ()
    fingerprint: str | None = None

    @property
    def reused(self) -> bool:
        return self.verdict == "reuse"


@dataclass(frozen=True)
class RunPreview:
    """A pipeline's plan: one :class:`StepPreview` per step, in topological order."""

    experiment_name: str
    parameters: dict[str, Any]
    steps: list[StepPreview]

    def step(self, name: str) -> StepPreview:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def render(self) -> str:
        """A text table: step, what would happen, why."""
        words = {"run": "run", "reuse": "reuse", "after-upstream": "decided later", "cannot-start": "fail"}
        rows = [("Step", "Would", "Why")] + [(s.name, words[s.verdict], s.reason) for s in self.steps]
        widths = [max(len(r[i]) for r in rows) for i in range(2)]
        lines = [f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}".rstrip() for r in rows]
        lines.insert(1, f"{'-' * widths[0]}  {'-' * widths[1]}  ---")
        counts = {v: sum(1 for s in self.steps if s.verdict == v) for v in words}
        summary = f"{counts['run']} would run, {counts['reuse']} would be reused"
        if counts["after-upstream"]:
            summary += f", {counts['after-upstream']} decided after their upstream steps run"
        if counts["cannot-start"]:
            summary += f", {counts['cannot-start']} could not start"
        return "\n".join([f"Plan for experiment {self.experiment_name!r}: {summary}", *lines]) + "\n"


def preview_pipeline(
    store: MetadataStore, workspace: WorkspaceRef, spec: PipelineSpec, options: SubmitOptions
) -> RunPreview:
    """What :func:`headwater.ops.submit.submit_pipeline` would do with ``spec`` now (nothing is written).

    Raises as the submit would for an invalid pipeline or an unknown parameter.
    """
    problems = validate(spec)
    default_datastore = _default_datastore(spec, store)
    problems += destination_problems(spec, store, Path(workspace.folder), default_datastore)
    if problems:
        raise GraphValidationError(problems)
    parameters = resolve_parameters(spec.parameters, options.pipeline_parameters)
    plan, manifests = _plan(store, workspace, spec, options, parameters, default_datastore)
    return RunPreview(options.experiment_name, parameters, _decide_all(plan, store, manifests))


def _plan(
    store: MetadataStore,
    workspace: WorkspaceRef,
    spec: PipelineSpec,
    options: SubmitOptions,
    parameters: dict[str, Any],
    default_datastore: str,
) -> tuple[Any, dict[str, dict[str, str]]]:
    """The RunPlan a submit would write (fresh ids, never saved) and the scanned snapshots' manifests."""
    from headwater.data.files import DataAccess
    from headwater.engine.environments import find_built
    from headwater.engine.inputs import WorkspaceHandle
    from headwater.layout import WorkspaceLayout
    from headwater.plan.digests import open_digest_cache, workspace_cache_path
    from headwater.plan.environments import check_current_interpreter, environment_digest
    from headwater.plan.run_plan import PIPELINE_RUN, RunPlan, StepPlan
    from headwater.plan.snapshots import scan

    ws_folder = Path(workspace.folder)
    manifests: dict[str, dict[str, str]] = {}
    by_dir: dict[str, str] = {}
    cache = open_digest_cache(workspace_cache_path(ws_folder))
    try:  # the digests submit computes; the snapshot itself is stored only by a submit
        for step in spec.steps:
            if step.source_directory not in by_dir:
                manifest = scan(step.source_directory, cache)
                by_dir[step.source_directory] = manifest.digest
                manifests[manifest.digest] = dict(manifest.files)
    finally:
        cache.close()
    with DataAccess(WorkspaceHandle(store, ws_folder, workspace.name)) as access:
        input_digests, input_records = _dataset_inputs(spec, parameters, access)
    experiment = store.get_experiment(options.experiment_name)
    steps = {}
    for step in spec.steps:
        env = check_current_interpreter(step.environment)
        interpreter = env.interpreter
        if not env.satisfied:
            built = find_built(
                step.environment, WorkspaceLayout(ws_folder).environments, strict_python=workspace.strict_python
            )
            interpreter = built.interpreter if built is not None else ""
        steps[step.node_id] = StepPlan(
            run_id=str(uuid.uuid4()),
            snapshot_id=by_dir[step.source_directory],
            interpreter=interpreter or "",
            environment_digest=environment_digest(step.environment),
            input_digests=input_digests.get(step.node_id, {}),
            input_records=input_records.get(step.node_id, {}),
        )
    plan = RunPlan(
        pipeline_run_id=str(uuid.uuid4()),
        experiment_id=experiment.id if experiment is not None else "",  # none yet: every step "never ran before"
        experiment_name=options.experiment_name,
        workspace=workspace,
        spec=spec,
        parameters=parameters,
        steps=steps,
        default_datastore=default_datastore,
        regenerate_outputs=options.regenerate_outputs,
        continue_on_step_failure=options.continue_on_step_failure,
        kind=PIPELINE_RUN,
    )
    return plan, manifests


def _decide_all(plan: Any, store: MetadataStore, manifests: dict[str, dict[str, str]]) -> list[StepPreview]:
    """Each step's decision in topological order, as the orchestrator would make it."""
    from headwater.engine.step_runner import StepRunner
    from headwater.plan.snapshots import load_manifest

    class _PreviewRunner(StepRunner):
        """The orchestrator's runner, seeing the snapshots this preview scanned but did not store."""

        def _snapshot_files(self, snapshot_id: str) -> dict[str, str] | None:
            return manifests.get(snapshot_id) or load_manifest(self.snapshots_root, snapshot_id)

    made_by = producers(plan.spec)
    runner = _PreviewRunner(plan, store)
    out: list[StepPreview] = []
    outputs: dict[str, dict[str, str | None]] = {}  # node -> its outputs' digests (reused steps only)
    undecided: dict[str, tuple[str, ...]] = {}  # node -> the steps that run before it is decided
    try:
        for node in topological_order(plan.spec):
            step = plan.spec.step(node)
            waits: list[str] = []
            digests: dict[str, str] = {}
            problem = None
            for i in step.inputs:
                name = i.source.get("output")
                if name is not None:
                    producer = made_by[name][0]
                    digest = outputs.get(producer, {}).get(name)
                    if digest is None:
                        waits += undecided.get(producer) or (plan.spec.step(producer).name,)
                    else:
                        digests[i.name] = digest
                    continue
                try:
                    digests[i.name] = runner.inputs.resolve_one(node, i, Path(runner.run_dir(node))).digest
                except HeadwaterError as exc:
                    problem = f"Step {step.name!r} could not start: {exc}"
            if problem is not None:
                out.append(StepPreview(step.name, node, "cannot-start", problem))
                undecided[node] = (step.name,)
                continue
            if waits and step.allow_reuse and not plan.regenerate_outputs:
                names = tuple(dict.fromkeys(waits))
                undecided[node] = names
                quoted = ", ".join(f"Step {n!r}" for n in names)
                reason = f"decided after {quoted} ran: reused only if the outputs it reads come out unchanged"
                out.append(StepPreview(step.name, node, "after-upstream", reason, waits_for=names))
                continue
            decision = runner.reuse_decision(node, digests)
            if decision.reuse_run is not None:
                outputs[node] = {o.name: o.digest for o in store.get_run_outputs(decision.reuse_run.id)}
                out.append(
                    StepPreview(
                        step.name, node, "reuse", decision.reason, decision.reuse_run.id, (), decision.fingerprint
                    )
                )
            else:
                undecided[node] = (step.name,)
                fingerprint = None if waits else decision.fingerprint
                out.append(StepPreview(step.name, node, "run", decision.reason, fingerprint=fingerprint))
    finally:
        runner.close()
    return out
