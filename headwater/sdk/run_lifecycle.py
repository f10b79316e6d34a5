"""``complete()``, ``fail()`` and ``cancel()`` on client-side runs read from the store.

A pipeline or script run is ended by its orchestrator: ``cancel()`` asks it to stop; ``fail()``
records the run as Failed at once (with ``error_details``/``error_code``) and asks the
orchestrator to stop its steps; ``complete()`` cannot end a run whose steps are still to run. A step
run of a pipeline is ended with its pipeline run. A run that has ended keeps its final status: the
store refuses to rewrite it, so these calls change nothing on it. (Interactive runs, which nothing
else ends, have their own: :mod:`headwater.sdk.interactive_run`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.errors import NotSupportedError
from headwater.ops.runs import cancel_run
from headwater.status import TERMINAL, PipelineRunStatus
from headwater.store.records import utcnow

if TYPE_CHECKING:
    from headwater.sdk.runs import _StoreRun

__all__ = ["error_record", "fail_run", "refuse_step", "require_ended"]


def error_record(error_details: Any, error_code: Any, default: str) -> dict[str, Any]:
    """SDK v1's ``fail(error_details, error_code)`` as a run's error: a message and, if given, a code."""
    if isinstance(error_details, BaseException):
        message = f"{type(error_details).__name__}: {error_details}"
    else:
        message = default if error_details is None else str(error_details)
    error: dict[str, Any] = {"message": message}
    if error_code is not None:
        error["code"] = str(error_code)
    return error


def fail_run(run: _StoreRun, error_details: Any, error_code: Any) -> None:
    """Record a pipeline or script run as Failed now and ask its orchestrator to stop its steps."""
    record = run._refresh()
    if record.status in TERMINAL:
        return
    cancel_run(run._store, run._workspace.folder, run.id)  # running steps stop; none starts
    error = error_record(error_details, error_code, "The run was failed by run.fail().")
    run._store.update_run(run.id, status=PipelineRunStatus.Failed, ended_at=utcnow(), error=error)
    run._refresh()


def require_ended(run: _StoreRun, member: str) -> None:
    """``complete()`` on a submitted run: fine once it has ended; while it runs, its orchestrator ends it."""
    if run._refresh().status in TERMINAL:
        return
    raise NotSupportedError(
        f"{type(run).__name__}.{member}(): run {run.id} is {run._record.status}; its orchestrator "
        "marks it Finished (or Completed) when its work ends.",
        hint="Wait for it with run.wait_for_completion(), or stop it with run.cancel() or run.fail().",
    )


def refuse_step(run: _StoreRun, member: str) -> None:
    """``cancel()``/``fail()``/``complete()`` on a step run that has not ended: it ends with its pipeline run."""
    if run._refresh().status in TERMINAL:
        return
    raise NotSupportedError(
        f"StepRun.{member}(): step run {run.id} ({run.name!r}) is {run._record.status}; its pipeline "
        "run's orchestrator decides how a step ends.",
        hint="Cancel or fail the whole pipeline run (step_run.parent.cancel() / .fail()); inside the "
        "step's script, Run.get_context().fail() or .cancel() ends the step itself.",
    )
