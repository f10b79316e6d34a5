"""Reuse decisions: a step's fingerprint, the one predicate that says whether it may be reused,
and a human reason for every decision.

The fingerprint is sha256 over canonical JSON of *named* parts (see :func:`fingerprint_parts`).
The parts are kept with every step run, so "why did this run again" is a diff of two dicts.
Inputs enter by *content* digest, so a step whose upstream re-ran but produced byte-identical
output is still reused (early cut-off).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from headwater.graph.spec import StepSpec
from headwater.plan.hashing import SnapshotFiles, dict_hash, explain_difference
from headwater.status import ReuseBlocker
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["ReuseBlocker", "StepDecision", "fingerprint_parts", "reuse_blocker", "decide"]

FINGERPRINT_SCHEMA = 1


@dataclass(frozen=True)
class StepDecision:
    """What the planner decided for one step, and why."""

    node_id: str
    fingerprint: str
    parts: dict[str, Any]
    reuse_run: RunRecord | None  # the earlier run whose outputs are reused; None: the step runs
    reason: str
    blocker: ReuseBlocker | None = None  # why it is not reused (None: it is); ``reason`` is its message

    @property
    def reused(self) -> bool:
        return self.reuse_run is not None


def fingerprint_parts(
    step: StepSpec,
    *,
    parameters: dict[str, Any],
    snapshot_id: str,
    input_digests: dict[str, str],
    environment_digest: str,
    default_datastore: str,
) -> dict[str, Any]:
    """The named ingredients of a step's fingerprint.

    Arguments enter by logical name (``{"input": "raw"}``), parameters by resolved value, inputs
    by content digest, outputs by name/datastore/path template/mode, the source directory by its
    snapshot digest.
    """
    used = {t["parameter"] for t in step.arguments if "parameter" in t}
    used.update(t["parameter"] for t in step.params.values() if "parameter" in t)
    return {
        "schema": FINGERPRINT_SCHEMA,
        "kind": step.kind,
        "name": step.name,
        "script": step.script,
        "version": step.version,
        "arguments": [dict(t) for t in step.arguments],  # parameters by name here, by value below
        "params": {k: dict(v) for k, v in sorted(step.params.items())},
        "parameters": {p: parameters.get(p) for p in sorted(used)},
        "outputs": {
            o.name: {
                "datastore": o.datastore or default_datastore,
                "path": o.path_template,
                "mode": o.mode,
                "legacy": o.legacy,
                **({"upload": o.upload} if o.upload is not None else {}),  # what is uploaded, and how
            }
            for o in step.outputs
        },
        "inputs": {i.name: {"digest": input_digests.get(i.name), "mode": i.mode} for i in step.inputs},
        "snapshot": snapshot_id,
        "environment": environment_digest,
        "environment_variables": dict(sorted(step.environment_variables.items())),
    }


def reuse_blocker(
    step: StepSpec,
    *,
    regenerate_outputs: bool,
    candidate: RunRecord | None,
    outputs_exist: Callable[[RunRecord], ReuseBlocker | None],
) -> ReuseBlocker | None:
    """The one predicate: why ``step`` may not reuse ``candidate``, or None when it may.

    ``outputs_exist`` says why a candidate's outputs can't be reused (None: they can). Without a
    candidate there is nothing to reuse (code ``no-match``); :func:`decide` explains what changed.
    """
    if not step.allow_reuse:
        return ReuseBlocker("allow_reuse", "allow_reuse=False")
    if regenerate_outputs:
        return ReuseBlocker("regenerate_outputs", "regenerate_outputs=True")
    if candidate is None:
        return ReuseBlocker("no-match", "no earlier run matches")
    return outputs_exist(candidate)


def decide(
    step: StepSpec,
    parts: dict[str, Any],
    store: MetadataStore,
    *,
    experiment_id: str,
    regenerate_outputs: bool,
    outputs_exist: Callable[[RunRecord], ReuseBlocker | None],
    snapshot_files: SnapshotFiles | None = None,
) -> StepDecision:
    """Reuse an earlier run with the same fingerprint anywhere in the workspace, or say why not."""
    fingerprint = dict_hash(parts)
    candidate = None
    if step.allow_reuse and not regenerate_outputs:
        candidate = store.find_reusable_run(fingerprint)
    blocker = reuse_blocker(
        step, regenerate_outputs=regenerate_outputs, candidate=candidate, outputs_exist=outputs_exist
    )
    if blocker is None:
        assert candidate is not None
        return StepDecision(step.node_id, fingerprint, parts, candidate, f"reused run {candidate.id}: unchanged")
    if blocker.code == "no-match":
        blocker = _what_changed(step, parts, store, experiment_id, snapshot_files)
    return StepDecision(step.node_id, fingerprint, parts, None, blocker.message, blocker)


def _what_changed(
    step: StepSpec,
    parts: dict[str, Any],
    store: MetadataStore,
    experiment_id: str,
    snapshot_files: SnapshotFiles | None,
) -> ReuseBlocker:
    """No earlier run has this fingerprint: what differs from the step's latest run in the experiment."""
    previous = store.find_latest_step_run(step.name, experiment_id=experiment_id)
    old_parts = None if previous is None else previous.definition.get("fingerprint_parts")
    if not old_parts:
        return ReuseBlocker("never-ran", "never ran before")
    reasons = explain_difference(old_parts, parts, script=step.script, snapshot_files=snapshot_files)
    if not reasons:
        return ReuseBlocker("no-match", "no earlier successful run matches")
    return ReuseBlocker("changed", "; ".join(reasons))
