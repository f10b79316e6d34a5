"""Deciding whether a step reuses an earlier run, and recording a reused step: the part of a
step's life that the all-reused fast path (:mod:`headwater.engine.reused`) shares with the
orchestrator's :class:`~headwater.engine.step_runner.StepRunner`.

Apart from the step runner so that a re-run whose every step is reused imports nothing that only
running a step needs (its launch, outputs, events, executors).
"""

from __future__ import annotations

from pathlib import Path

from headwater.engine.inputs import InputResolver
from headwater.engine.model_check import models_unchanged
from headwater.engine.output_check import outputs_intact
from headwater.layout import WorkspaceLayout
from headwater.plan.digests import open_digest_cache, workspace_cache_path
from headwater.plan.reuse import StepDecision, decide, fingerprint_parts
from headwater.plan.run_plan import RunPlan
from headwater.plan.snapshots import load_manifest
from headwater.status import ReuseBlocker, StepRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunOutputRecord, RunRecord, utcnow

__all__ = ["ReuseDecider"]


class ReuseDecider:
    """Reuse decisions for the steps of one pipeline run, and the records of a reused step."""

    def __init__(self, plan: RunPlan, store: MetadataStore) -> None:
        self.plan = plan
        self.store = store
        self.ws_folder = Path(plan.workspace.folder)
        self.cache = open_digest_cache(workspace_cache_path(self.ws_folder))
        self.inputs = InputResolver(plan, store, self.ws_folder, self.cache)
        self.snapshots_root = WorkspaceLayout(self.ws_folder).snapshots

    def close(self) -> None:
        self.inputs.close()
        self.cache.close()

    def run_dir(self, node: str) -> Path:
        return WorkspaceLayout(self.ws_folder).run(self.plan.steps[node].run_id).folder

    def _outputs_exist(self, run: RunRecord) -> ReuseBlocker | None:
        """Why ``run``'s outputs may not be reused, or None (:mod:`headwater.engine.output_check`);
        also when a model it looked up resolves differently now (:mod:`headwater.engine.model_check`)."""
        return outputs_intact(self.store, self.inputs.backend, run.id, self.cache) or models_unchanged(
            self.store, run.id
        )

    def _snapshot_files(self, snapshot_id: str) -> dict[str, str] | None:
        return load_manifest(self.snapshots_root, snapshot_id)

    def reuse_decision(self, node: str, input_digests: dict[str, str]) -> StepDecision:
        """The planner's decision for ``node`` given its inputs' digests (nothing is written)."""
        step = self.plan.spec.step(node)
        sp = self.plan.steps[node]
        parts = fingerprint_parts(
            step,
            parameters=self.plan.parameters,
            snapshot_id=sp.snapshot_id,
            input_digests=input_digests,
            environment_digest=sp.environment_digest,
            default_datastore=self.plan.default_datastore,
        )
        return decide(
            step,
            parts,
            self.store,
            experiment_id=self.plan.experiment_id,
            regenerate_outputs=self.plan.regenerate_outputs,
            outputs_exist=self._outputs_exist,
            snapshot_files=self._snapshot_files,
        )

    def record_reused(self, node: str, decision: StepDecision) -> None:
        """Finish a step as reused: the earlier run's outputs, metrics and SDK v1's properties."""
        assert decision.reuse_run is not None
        earlier = decision.reuse_run
        run_id = self.plan.steps[node].run_id
        now = utcnow()
        self.store.update_run(
            run_id,
            status=StepRunStatus.Finished,
            started_at=now,
            ended_at=now,
            fingerprint=decision.fingerprint,
            reused_run_id=earlier.id,
            reason=decision.reason,
            definition={"fingerprint_parts": decision.parts, "reused": True},
        )
        for out in self.store.get_run_outputs(earlier.id):
            self.store.put_run_output(RunOutputRecord(run_id, out.name, out.datastore, out.path, out.digest))
        self.store.add_properties(
            run_id,
            {
                "azureml.reusedrunid": earlier.id,
                "azureml.reusednodeid": self.store.get_tags(earlier.id).get("azureml.nodeid") or earlier.name or "",
                "azureml.reusedpipeline": earlier.parent_id or "",
                "azureml.runsource": "azureml.ReusedStepRun",
            },
        )
        metrics = self.store.get_metrics(earlier.id)
        if metrics:
            from dataclasses import replace

            self.store.add_metrics([replace(m, run_id=run_id) for m in metrics])
