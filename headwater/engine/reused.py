"""The all-reused fast path: a run whose every step is reused finishes inside ``submit``.

The same planner decides as in the orchestrator, in topological order, with each upstream
output's digest taken from the run that would be reused. Nothing is written unless every step
is reused; then the records are written exactly as the orchestrator would write them (the same
:class:`~headwater.engine.reuse_decider.ReuseDecider`, without the step runner's imports).
"""

from __future__ import annotations

from pathlib import Path

from headwater.engine.reuse_decider import ReuseDecider
from headwater.errors import HeadwaterError
from headwater.graph.analysis import producers, topological_order
from headwater.plan.reuse import StepDecision
from headwater.plan.run_plan import RunPlan
from headwater.status import PipelineRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import utcnow

__all__ = ["all_reused_decisions", "plan_all_reused", "record_all_reused"]


def all_reused_decisions(plan: RunPlan, runner: ReuseDecider) -> dict[str, StepDecision] | None:
    """Every step's decision when all of them reuse an earlier run, else None (nothing written)."""
    if plan.regenerate_outputs:
        return None
    made_by = producers(plan.spec)
    decisions: dict[str, StepDecision] = {}
    outputs: dict[str, dict[str, str | None]] = {}
    for node in topological_order(plan.spec):
        step = plan.spec.step(node)
        if not step.allow_reuse or plan.steps[node].environment_error:
            return None
        digests: dict[str, str] = {}
        for i in step.inputs:
            name = i.source.get("output")
            if name is not None:
                digest = outputs[made_by[name][0]].get(name)
                if digest is None:
                    return None
                digests[i.name] = digest
                continue
            try:
                digests[i.name] = runner.inputs.resolve_one(node, i, Path(runner.run_dir(node))).digest
            except HeadwaterError:
                return None
        decision = runner.reuse_decision(node, digests)
        if decision.reuse_run is None:
            return None
        decisions[node] = decision
        outputs[node] = {o.name: o.digest for o in runner.store.get_run_outputs(decision.reuse_run.id)}
    return decisions


def plan_all_reused(plan: RunPlan, store: MetadataStore) -> dict[str, StepDecision] | None:
    """:func:`all_reused_decisions` with a runner of its own (nothing is written)."""
    runner = ReuseDecider(plan, store)
    try:
        return all_reused_decisions(plan, runner)
    finally:
        runner.close()


def record_all_reused(plan: RunPlan, store: MetadataStore, decisions: dict[str, StepDecision]) -> None:
    """Write a run whose every step is reused, as the orchestrator would (the run records exist)."""
    runner = ReuseDecider(plan, store)
    try:
        store.update_run(plan.pipeline_run_id, status=PipelineRunStatus.Running, started_at=utcnow())
        for node in topological_order(plan.spec):
            runner.record_reused(node, decisions[node])
        store.update_run(plan.pipeline_run_id, status=PipelineRunStatus.Finished, ended_at=utcnow())
    finally:
        runner.close()
