"""The status vocabulary: every word a run, a step or a reuse decision is described with.

Run statuses are SDK v1's three vocabularies (``reference/azureml-sdk-v1-api.md`` §3.1), one
:class:`~enum.StrEnum` each:

========================  =========================================================================
:class:`PipelineRunStatus`  NotStarted, Running, Finished, Failed, Canceled
:class:`StepRunStatus`      NotStarted, Queued, Running, Finished, Failed, Canceled
:class:`ScriptRunStatus`    NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed,
                            Canceled (a ScriptRunConfig submitted by ``Experiment.submit``)
========================  =========================================================================

A member *is* its text: it compares equal to the plain string, hashes like it, prints and
JSON-encodes as it and is stored as it, so records read back from the store (plain strings) and
the SDK's return values (``run.get_status() == "Finished"``) need no conversion. Each member is
named exactly like its text, so whatever writes a member by its name writes the same word. Code
writes members, never literals: a misspelt member is an error mypy reports.

:data:`TERMINAL` (how runs end: the store refuses to move a run out of one) and :data:`ACTIVE`
(still under way) are sets over all three vocabularies.

The orchestrator's own words are :class:`typing.Literal` types: :data:`StepState` (where a step is
in the orchestrator's loop), :data:`StepOutcome` (how the step runner says a step ended) and
:data:`Verdict` (what deciding a step found). Why a step is not reused is a :class:`ReuseBlocker`,
a code to compare and a message for people.

Nothing here imports anything of Headwater: every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeAlias

__all__ = [
    "ACTIVE",
    "SUCCEEDED",
    "TERMINAL",
    "BlockerCode",
    "DetectorState",
    "PipelineRunStatus",
    "ReuseBlocker",
    "RunStatus",
    "ScriptRunStatus",
    "StepOutcome",
    "StepRunStatus",
    "StepState",
    "Verdict",
    "WebhookState",
]


class PipelineRunStatus(StrEnum):
    """``PipelineRun.get_status()``: a pipeline run's statuses (SDK v1)."""

    NotStarted = "NotStarted"
    Running = "Running"
    Finished = "Finished"
    Failed = "Failed"
    Canceled = "Canceled"


class StepRunStatus(StrEnum):
    """``StepRun.get_status()``: a pipeline step run's statuses (SDK v1). Queued: waiting for a
    free slot, for another run's lease on an output destination, or for its environment's build."""

    NotStarted = "NotStarted"
    Queued = "Queued"
    Running = "Running"
    Finished = "Finished"
    Failed = "Failed"
    Canceled = "Canceled"


class ScriptRunStatus(StrEnum):
    """``Run.get_status()`` of a script run (ScriptRunConfig): SDK v1's run-history words.
    Preparing: its inputs and working copy are made ready; Finalizing: its outputs are saved."""

    NotStarted = "NotStarted"
    Queued = "Queued"
    Preparing = "Preparing"
    Running = "Running"
    Finalizing = "Finalizing"
    Completed = "Completed"
    Failed = "Failed"
    Canceled = "Canceled"


class FireStatus(StrEnum):
    """A schedule fire's status (``schedule_fires.status``): recorded before its submit (Pending),
    then Submitted (it has a run) or Failed (the submit raised; the error is recorded)."""

    Pending = "Pending"
    Submitted = "Submitted"
    Failed = "Failed"


class DetectorState(StrEnum):
    """A data drift detector's state (SDK v1's ``DataDriftDetector.state``): its schedule is
    Enabled or Disabled; a Deleted detector keeps its row and runs but is no longer listed."""

    Enabled = "Enabled"
    Disabled = "Disabled"
    Deleted = "Deleted"


class WebhookState(StrEnum):
    """Where a drift alert's webhook delivery is (``drift_alerts.webhook_state``): ``none`` (no
    webhook configured), ``pending`` (to be tried, again after a failure), ``delivered``, ``failed``
    (gave up)."""

    none = "none"
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


#: Any run's status.
RunStatus: TypeAlias = PipelineRunStatus | StepRunStatus | ScriptRunStatus

#: How runs end. The store refuses to move a run out of one unless it is reopened on purpose.
TERMINAL: frozenset[str] = frozenset(
    {PipelineRunStatus.Finished, ScriptRunStatus.Completed, PipelineRunStatus.Failed, PipelineRunStatus.Canceled}
)
#: How runs end well: a pipeline or step run Finished, a script run Completed.
SUCCEEDED: frozenset[str] = frozenset({PipelineRunStatus.Finished, ScriptRunStatus.Completed})
#: Statuses of a run that is still under way (not started yet, waiting, or running).
ACTIVE: frozenset[str] = frozenset(
    {
        ScriptRunStatus.NotStarted,
        ScriptRunStatus.Queued,
        ScriptRunStatus.Preparing,
        ScriptRunStatus.Running,
        ScriptRunStatus.Finalizing,
    }
)

#: Where a step is in the orchestrator's loop: waiting for its dependencies (or a slot), its
#: environment being built, running, or ended (done: finished or reused).
StepState: TypeAlias = Literal["waiting", "building", "running", "done", "failed", "canceled"]
#: How a step ended, as the step runner reports it. ``timeout``: Canceled because it exceeded its
#: max_run_duration_seconds, which stops its downstream steps as a failure does.
StepOutcome: TypeAlias = Literal["done", "failed", "canceled", "timeout"]
#: What deciding a step found: reused (``done``), could not start (``failed``), or it must run.
Verdict: TypeAlias = Literal["done", "failed", "must-run"]

#: Why a step is not reused. ``allow_reuse`` / ``regenerate_outputs``: reuse was turned off;
#: ``never-ran``: no earlier run of a step of this name in the experiment; ``changed``: the earlier
#: run's fingerprint differs (the message says what changed); ``no-match``: no earlier successful
#: run with this fingerprint, and nothing to compare with; ``outputs-missing``,
#: ``outputs-removed-by-gc``, ``outputs-changed``, ``outputs-unreadable``: a matching run's outputs
#: can no longer be reused.
BlockerCode: TypeAlias = Literal[
    "allow_reuse",
    "regenerate_outputs",
    "never-ran",
    "changed",
    "no-match",
    "outputs-missing",
    "outputs-removed-by-gc",
    "outputs-changed",
    "outputs-unreadable",
]


@dataclass(frozen=True)
class ReuseBlocker:
    """Why a step may not reuse an earlier run: ``code`` for code to compare, ``message`` for people
    (recorded as the step run's reason)."""

    code: BlockerCode
    message: str

    def __str__(self) -> str:
        return self.message
