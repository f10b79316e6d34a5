"""``ScriptRun`` (SDK v1: ``azureml.core.script_run.ScriptRun``): the run of a submitted ScriptRunConfig.

It is a run of kind ``script`` in the metadata store: one record, one run folder
(``user_logs/std_log.txt``, ``outputs/``, ``logs/`` ...), no children. Its statuses are SDK v1's
script-run words — NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed,
Canceled — written by the engine as the run moves on (see :mod:`headwater.sdk.script_run_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import ActivityFailedException, NotFoundError
from headwater.layout import RunLayout
from headwater.ops.runs import cancel_run, refresh_status
from headwater.sdk.runs import _StoreRun, read_log, run_from_record
from headwater.status import ScriptRunStatus
from headwater.store.records import RunRecord

if TYPE_CHECKING:
    from headwater.sdk.experiment import Experiment
    from headwater.sdk.workspace import Workspace

__all__ = ["ScriptRun"]


class ScriptRun(_StoreRun):
    """A single script run (SDK v1: ``ScriptRun``), returned by ``Experiment.submit(ScriptRunConfig(...))``.

    ``Run.get_context()`` inside the script is this run: its ``run.log(...)`` metrics, tags and
    uploaded files are this run's, and ``run.parent`` is None.
    """

    _type = "azureml.scriptrun"
    #: SDK v1's run type of script runs.
    RUN_TYPE = _type

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        directory: Any = None,
        _run_config: Any = None,
        _record: RunRecord | None = None,
        **kwargs: Any,
    ) -> None:
        ws = experiment.workspace
        record = _record or ws.metadata_store.get_run(run_id)
        if record is None or record.kind != "script":
            raise NotFoundError("Script run", run_id, where=f"workspace {ws.name!r}")
        super().__init__(ws, record, experiment)

    @staticmethod
    def _get(workspace: Workspace, run_id: str) -> ScriptRun:
        record = workspace.metadata_store.get_run(run_id)
        if record is None or record.kind != "script":
            raise NotFoundError("Script run", run_id, where=f"workspace {workspace.name!r}")
        run = run_from_record(workspace, record)
        assert isinstance(run, ScriptRun)
        return run

    @property
    def parent(self) -> Any:
        """The run it was submitted under (``Run.submit_child``), else None."""
        parent_id = self._record.parent_id
        return None if parent_id is None else self._workspace.get_run(parent_id)

    def get_status(self) -> str:
        """NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed or Canceled.

        A run whose orchestrator died is noticed here: it becomes Failed.
        """
        record = refresh_status(self._store, self.id)
        if record is not None:
            self._record = record
        return self._record.status

    def get_details(self) -> dict[str, Any]:
        """SDK v1's run details (``runId``, ``status``, times, ``properties``, ``logFiles`` ...);
        ``runDefinition`` also names the ``script``."""
        details = super().get_details()
        details["runDefinition"]["script"] = self._record.name
        return details

    def cancel(self) -> None:
        """Stop the run: the script's process gets SIGTERM, then SIGKILL."""
        cancel_run(self._store, self._workspace.folder, self.id)

    def resume(self) -> ScriptRun:
        """Run the script again under this run's id after its orchestrator stopped (it died, the script
        failed, or the run was canceled). Returns this run.

        A Headwater addition (SDK v1 has no such method); see :mod:`headwater.ops.resume`.
        """
        from headwater.ops.resume import resume_run

        self._record = resume_run(self._store, self._workspace.folder, self.id).record
        return self

    def _log_path(self) -> Path:
        return RunLayout(self._folder).std_log

    def get_stdout_log(self) -> str:
        """The script's stdout and stderr (``user_logs/std_log.txt``)."""
        return read_log(self._log_path())

    def wait_for_completion(
        self, show_output: bool = False, wait_post_processing: bool = False, raise_on_error: bool = True
    ) -> dict[str, Any]:
        """Wait until the run has ended; return its details (SDK v1 returns ``get_details()``).

        ``show_output=True`` prints SDK v1's ``RunId:`` header, streams the script's log as it is
        written and ends with the execution summary. A Failed run raises ActivityFailedException
        (with ``raise_on_error``) naming the exit code and the log's last lines. The wait always
        lasts until the run has ended (Completed, Failed or Canceled): saving the outputs is part
        of the run here, so ``wait_post_processing`` changes nothing.
        """
        from headwater.sdk.run_wait import wait_for_script

        status = wait_for_script(self, show_output=show_output)
        details = self.get_details()
        if status == ScriptRunStatus.Failed and raise_on_error:
            raise self._failure()
        return details

    def _failure(self) -> ActivityFailedException:
        error = self._refresh().error or {}
        message = error.get("message", "The script run failed.")
        tail = error.get("log_tail")
        text = f"ScriptRun {self.id} failed: {message}"
        if tail:
            text += "\n--- last lines of its log ---\n" + tail
        return ActivityFailedException(text)
