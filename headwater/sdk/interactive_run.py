"""Interactive runs (SDK v1: ``Experiment.start_logging()``, ``run.child_run()``, ``create_children``).

An interactive run is logged from a notebook or a script without submitting anything: it is a run
record of kind ``interactive`` (``headwater run list`` shows it), Running from the moment it is
created, with a run folder for its files (``artifacts/``). Its statuses are the script-run words
(:class:`~headwater.status.ScriptRunStatus`): Running, then Completed, Failed or Canceled — set by
``complete()``, ``fail()``, ``cancel()``, or by leaving a ``with`` block (Failed when an exception
leaves it). As in SDK v1, ``complete()`` also keeps the files of the ``outputs`` folder (relative to
the directory the run was started in) as ``outputs/<path>``. A final status is never rewritten: the
store refuses to.

Its children (``child_run``, ``create_children``) are interactive runs too, with this run as parent.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import NotSupportedError
from headwater.layout import RunLayout
from headwater.sdk.run_lifecycle import error_record
from headwater.sdk.runs import _StoreRun
from headwater.status import TERMINAL, ScriptRunStatus
from headwater.store.records import RunRecord, utcnow

if TYPE_CHECKING:
    from headwater.sdk.experiment import Experiment

__all__ = ["INTERACTIVE_RUN", "InteractiveRun", "start_logging"]

#: The run kind of an interactive run in the metadata store.
INTERACTIVE_RUN = "interactive"


def _new_run_id(experiment_name: str) -> str:
    """SDK v1's form for runs started from a client: ``<experiment>_<unix seconds>_<8 hex>``."""
    return f"{experiment_name}_{int(time.time())}_{uuid.uuid4().hex[:8]}"


def _create(
    experiment: Experiment,
    *,
    run_id: str | None,
    name: str | None,
    parent_id: str | None,
    outputs: str | os.PathLike[str] | None,
) -> InteractiveRun:
    ws = experiment.workspace
    outputs_dir = None if outputs is None else str(Path(outputs).absolute())
    record = RunRecord(
        id=run_id or _new_run_id(experiment.name),
        experiment_id=experiment.id,
        kind=INTERACTIVE_RUN,
        status=ScriptRunStatus.Running,
        name=name,
        parent_id=parent_id,
        started_at=utcnow(),
        compute_target="local",
        definition={"outputs_dir": outputs_dir},
    )
    ws.metadata_store.create_run(record)
    ws.metadata_store.add_properties(record.id, {"azureml.runsource": "experiment"})
    RunLayout.of(ws.folder, record.id).folder.mkdir(parents=True, exist_ok=True)
    return InteractiveRun(ws, record, experiment)


def start_logging(
    experiment: Experiment,
    name: str | None = None,
    run_id: str | None = None,
    outputs: str | os.PathLike[str] | bool | None = None,
    snapshot_directory: str | os.PathLike[str] | None = ".",
    display_name: str | None = None,
    **kwargs: Any,
) -> InteractiveRun:
    """SDK v1's ``Experiment.start_logging(name=None, run_id=None, outputs=None, snapshot_directory='.',
    display_name=None, ...)``: a new interactive run, Running.

    ``outputs``: the folder whose files ``complete()`` keeps (default ``./outputs``; False: none).
    ``snapshot_directory`` is accepted, but no snapshot is taken of an interactive run here (SDK v1
    takes one of the current folder): keep files with ``run.upload_folder``, or submit a
    ScriptRunConfig, whose source folder is snapshotted.
    """
    if outputs is False:
        folder: str | os.PathLike[str] | None = None
    elif outputs is True or outputs is None:
        folder = "outputs"
    else:
        folder = outputs
    for key in ("tags", "properties"):
        if key in kwargs and not isinstance(kwargs[key], dict | type(None)):
            raise TypeError(f"start_logging({key}=...) needs a dict, got {type(kwargs[key]).__name__}")
    run = _create(experiment, run_id=run_id, name=display_name or name, parent_id=None, outputs=folder)
    if kwargs.get("tags"):
        run.set_tags(kwargs["tags"])
    if kwargs.get("properties"):
        run.add_properties(kwargs["properties"])
    return run


class InteractiveRun(_StoreRun):
    """A run logged from this process (SDK v1: the ``Run`` that ``start_logging`` returns)."""

    _type = "azureml.scriptrun"  # as SDK v1 reports a run started with start_logging

    @property
    def display_name(self) -> str | None:
        """The run's display name (``start_logging(display_name=...)``, or a child run's name)."""
        return self._refresh().name

    @display_name.setter
    def display_name(self, value: str) -> None:
        self._store.update_run(self.id, name=value)

    @property
    def parent(self) -> Any:
        """The parent run (for a child run), else None."""
        if self._record.parent_id is None:
            return None
        return self._workspace.get_run(self._record.parent_id)

    # -- lifecycle -----------------------------------------------------------------------------

    def _end(self, status: ScriptRunStatus, error: dict[str, Any] | None = None) -> None:
        fields: dict[str, Any] = {"status": status, "ended_at": utcnow()}
        if error is not None:
            fields["error"] = error
        self._store.update_run(self.id, **fields)  # refused by the store when the run already ended
        self._refresh()

    def start(self) -> None:
        """Mark the run Running (it is from the start: nothing to do for one that is under way)."""

    def complete(self, _set_status: bool = True) -> None:
        """End the run as Completed, keeping the files of its ``outputs`` folder first (as SDK v1)."""
        if self._refresh().status in TERMINAL:
            return
        outputs = self._record.definition.get("outputs_dir")
        if outputs and Path(outputs).is_dir():
            self.upload_folder("outputs", outputs)
        if _set_status:
            self._end(ScriptRunStatus.Completed)

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """End the run as Failed; ``error_details`` (a message or an exception) and ``error_code``
        are kept as its error (``get_details()['error']``)."""
        if not _set_status:
            return
        error = error_record(error_details, error_code, "The run failed.")
        self._end(ScriptRunStatus.Failed, error)

    def cancel(self) -> None:
        """End the run as Canceled (nothing runs on its behalf to stop)."""
        self._end(ScriptRunStatus.Canceled)

    def __enter__(self) -> InteractiveRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if len(exc) < 2 or exc[1] is None:
            self.complete()
        else:
            self.fail(error_details=exc[1])

    # -- children ------------------------------------------------------------------------------

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: Any = None) -> InteractiveRun:
        """A new interactive run whose parent is this run (Running until it is completed)."""
        folder = "outputs" if outputs is True else (outputs or None)  # a child keeps no folder unless asked
        return _create(self._experiment, run_id=run_id, name=name, parent_id=self.id, outputs=folder)

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[str] | None = None
    ) -> list[InteractiveRun]:
        """``count`` child runs (or one per ``tag_values`` entry, tagged ``tag_key=value``)."""
        values = list(tag_values) if tag_values is not None else None
        if values is not None and count is not None and count != len(values):
            raise ValueError(f"create_children(count={count}) got {len(values)} tag_values: give as many as count.")
        if values is not None and tag_key is None:
            raise ValueError("create_children(tag_values=...) needs tag_key to name the tag.")
        n = len(values) if values is not None else count
        if n is None:
            raise ValueError("create_children() needs count or tag_values.")
        children = [self.child_run() for _ in range(n)]
        if values is not None:
            for child, value in zip(children, values, strict=True):
                child.tag(str(tag_key), value)
        return children

    def submit_child(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """Submit a ScriptRunConfig as a script run whose parent is this run; returns its ScriptRun at once."""
        from headwater.sdk.script_run_config import ScriptRunConfig

        if not isinstance(config, ScriptRunConfig):
            raise NotSupportedError(
                f"Run.submit_child() of a {type(config).__name__}: only a ScriptRunConfig can be a child run here.",
                hint="Submit a Pipeline on its own with Experiment(ws, name).submit(pipeline).",
            )
        if kwargs:
            raise TypeError(f"Run.submit_child() got unexpected keyword arguments: {sorted(kwargs)}")
        return config._submit(self._workspace, self._experiment.name, tags=tags, parent_run_id=self.id)
