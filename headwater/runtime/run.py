"""``Run``: SDK v1's ``azureml.core.Run`` as a script sees it, and ``Run.get_context()``.

Every logging call builds an event (shapes in :mod:`headwater.runtime.context`) and hands it to
one method, :meth:`Run._emit`, which each kind of run implements:

- ``_SubmittedRun`` (:mod:`headwater.runtime.submitted`), inside a step: appends the event to the
  step's events file, which the orchestrator ingests;
- ``_OfflineRun`` (:mod:`headwater.runtime.offline`), a script run by hand: prints SDK v1's
  ``Attempted to log ...`` lines;
- client-side runs (``headwater.sdk.runs``): apply the event to the metadata store directly with
  :func:`headwater.engine.ingest.apply_event`.

So nothing here assumes files, a database or a terminal. Stdlib only.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator, Mapping

from headwater.errors import (
    AlreadyExistsError,
    ConfigurationError,
    DataAccessError,
    HeadwaterError,
    NotSupportedError,
)
from headwater.runtime import statuses
from headwater.runtime.context import CONTEXT_ENV, load_context
from headwater.runtime.events import ARTIFACTS_DIR, artifact_name, utc_now
from headwater.runtime.run_members import RunMembers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["Run", "RunEnvironmentException"]


class RunEnvironmentException(HeadwaterError):
    """SDK v1's ``RunEnvironmentException``: there is no run to attach to (or its context is bad)."""


class Run(RunMembers):
    """A run: log metrics, tags, properties and files (SDK v1: ``azureml.core.Run``).

    Inside a script, get one with :meth:`get_context`. The logging methods have SDK v1's
    signatures (SDK 1.61's, ``log(..., step=None)`` included).
    """

    # get_context's cache: context file path (one per run id) -> run; read the file only once.
    _context_runs: ClassVar[dict[str, Run]] = {}

    def __init__(self, experiment: Any, run_id: str, outputs: Any = None, **kwargs: Any) -> None:
        self._experiment = experiment
        self._run_id = run_id
        self._outputs = outputs
        self._target = "self"  # or "parent": which run an event is about, from the step's side
        self._run_dir: str | None = None  # where _put_artifact copies files, when it can
        self._tags: dict[str, str | None] = {}
        self._properties: dict[str, str] = {}
        self._image_names: dict[str, int] = {}

    # -- getting one ---------------------------------------------------------------------------

    @staticmethod
    def get_context(allow_offline: bool = True, used_for_context_manager: bool = False, **kwargs: Any) -> Run:
        """The run this process belongs to: the step run, or an offline run outside Headwater.

        Inside a step (``HEADWATER_CONTEXT`` set) the same ``_SubmittedRun`` is returned on every
        call. Elsewhere an ``_OfflineRun`` that prints what it is asked to log (the same one on
        every call), or, with ``allow_offline=False``, :class:`RunEnvironmentException`.
        """
        path = os.environ.get(CONTEXT_ENV)
        if path:
            run = Run._context_runs.get(path)
            if run is None:
                from headwater.runtime.submitted import _SubmittedRun

                try:
                    context = load_context(path)
                except ConfigurationError as exc:
                    raise RunEnvironmentException(exc.message, hint=exc.hint) from exc
                run = Run._context_runs[path] = _SubmittedRun(context)
            return run
        if not allow_offline:
            raise RunEnvironmentException(
                "Run.get_context(allow_offline=False): this process is not a Headwater run "
                f"({CONTEXT_ENV} is not set).",
                hint="Run the script as a pipeline step, or allow an offline run.",
            )
        from headwater.runtime.offline import _OfflineRun

        return _OfflineRun._shared()

    @staticmethod
    def get(workspace: Any, run_id: str) -> Run:
        """The run ``run_id`` of ``workspace`` (a PipelineRun, a StepRun ...), read from its store.

        A client-side call (SDK v1: ``Run.get(workspace, run_id)``): it asks the workspace
        (``workspace.get_run(run_id)``, also SDK v1), so the runtime never loads the SDK itself.
        Raises :class:`~headwater.errors.NotFoundError` for an unknown id.
        """
        run: Run = workspace.get_run(run_id)
        return run

    # -- what the run is -----------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The run id."""
        return self._run_id

    @property
    def experiment(self) -> Any:
        """The run's experiment (``.name``, ``.id``, ``.workspace``)."""
        return self._experiment

    @property
    def parent(self) -> Run | None:
        """The parent run (a step's pipeline run), or None."""
        return None

    @property
    def properties(self) -> dict[str, str]:
        """The run's immutable properties."""
        return dict(self._properties)

    def get_properties(self) -> dict[str, str]:
        """The run's immutable properties."""
        return dict(self._properties)

    @property
    def input_datasets(self) -> Mapping[str, Any]:
        """Input datasets by name: a path (download/mount) or a Dataset (direct)."""
        return {}

    @property
    def output_datasets(self) -> Mapping[str, str]:
        """Output datasets by name: the folder to write each into."""
        return {}

    def get_tags(self) -> dict[str, str | None]:
        """The run's tags."""
        return dict(self._tags)

    def __repr__(self) -> str:
        name = getattr(self._experiment, "name", None)
        return f"Run(Experiment: {name}, Id: {self._run_id})"

    # -- metrics -------------------------------------------------------------------------------

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a scalar metric; calling it again with the same name makes a series (in the order
        logged). ``step`` (SDK v1.61) is kept with the value in the event."""
        self._log_metric(name, "scalar", value, description, step=step)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of values as one metric."""
        self._log_metric(name, "list", value, description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append a row (``column=value`` keyword arguments) to a table metric."""
        self._log_metric(name, "row", dict(kwargs), description)

    def log_table(self, name: str, value: Mapping[str, Any], description: str = "") -> None:
        """Log a table: a dict of column name -> list of values."""
        if not isinstance(value, Mapping):
            raise TypeError(f"log_table({name!r}) needs a dict of column -> values, not {type(value).__name__}")
        self._log_metric(name, "table", dict(value), description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Log an accuracy table (SDK v1's JSON form); stored as a table metric."""
        self._log_metric(name, "table", value, description, table_type="accuracy_table")

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Log a confusion matrix (SDK v1's JSON form); stored as a table metric."""
        self._log_metric(name, "table", value, description, table_type="confusion_matrix")

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Log regression predictions (SDK v1's JSON form); stored as a table metric."""
        self._log_metric(name, "table", value, description, table_type="predictions")

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Log regression residuals (SDK v1's JSON form); stored as a table metric."""
        self._log_metric(name, "table", value, description, table_type="residuals")

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        """Log an image: a file (``path``) or a matplotlib figure (``plot``), kept as an artifact.

        The metric's value is the artifact's name (``images/<name>.png`` for a figure).
        """
        if (path is None) == (plot is None):
            raise ValueError(f"log_image({name!r}) needs exactly one of path= and plot=")
        self._check_name(name)
        self._log_metric(name, "image", self._image_value(name, path, plot), description)

    def _image_value(self, name: str, path: Any, plot: Any) -> Any:
        """Store the image as an artifact and return the metric value (its artifact name)."""
        base = "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")) or "image"
        count = self._image_names[base] = self._image_names.get(base, 0) + 1
        stem = f"images/{base}" if count == 1 else f"images/{base}_{count}"
        if plot is not None:
            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")  # a matplotlib Figure, or pyplot itself
            buffer.seek(0)
            artifact = f"{stem}.png"
            self.upload_file(artifact, buffer)
        else:
            artifact = stem + (os.path.splitext(os.fspath(path))[1] or ".png")
            self.upload_file(artifact, path)
        return artifact

    @staticmethod
    def _check_name(name: object) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"A metric name must be a non-empty string, got {name!r}")

    def _log_metric(
        self,
        name: str,
        kind: str,
        value: Any,
        description: str | None,
        table_type: str | None = None,
        step: int | None = None,
    ) -> None:
        self._check_name(name)
        event: dict[str, Any] = {
            "type": "metric",
            "run": self._target,
            "name": name,
            "kind": kind,
            "value": value,  # made JSON-able where it is written (offline runs print it as given)
            "description": description,
            "t": utc_now(),
        }
        if table_type is not None:
            event["table_type"] = table_type
        if step is not None:
            event["step"] = step
        self._emit(event)

    # -- tags and properties -------------------------------------------------------------------

    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag (``value`` None: a tag that is only a key)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any] | str) -> None:
        """Set several tags at once (a string sets one key-only tag)."""
        if isinstance(tags, str):
            tags = {tags: None}
        if not isinstance(tags, Mapping):
            raise TypeError(f"set_tags needs a dict of tag -> value, got {type(tags).__name__}")
        clean = {str(k): None if v is None else str(v) for k, v in tags.items()}
        self._tags.update(clean)
        self._emit({"type": "tags", "run": self._target, "tags": clean, "t": utc_now()})

    def remove_tags(self, tags: Iterable[str] | str) -> None:
        """Remove tags by key."""
        keys = [tags] if isinstance(tags, str) else [str(k) for k in tags]
        for key in keys:
            self._tags.pop(key, None)
        self._emit({"type": "remove_tags", "run": self._target, "keys": keys, "t": utc_now()})

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add immutable properties; giving a known key another value raises AlreadyExistsError."""
        if not isinstance(properties, Mapping):
            raise TypeError(f"add_properties needs a dict, got {type(properties).__name__}")
        clean = {str(k): str(v) for k, v in properties.items()}
        for key, value in clean.items():
            if self._properties.get(key, value) != value:
                raise AlreadyExistsError(
                    "Run property", key, hint="Properties are immutable; use tags for values that change."
                )
        self._properties.update(clean)
        self._emit({"type": "properties", "run": self._target, "properties": clean, "t": utc_now()})

    # -- files ---------------------------------------------------------------------------------

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> None:
        """Keep a file (a path, or a stream with ``read()``) as the artifact ``name``.

        The file is copied now: changing it later changes nothing. ``name`` may contain ``/``;
        absolute names and ``..`` raise PathEscapeError. ``datastore_name`` is accepted and ignored
        (artifacts live in the run folder).
        """
        artifact = artifact_name(name)
        stored = self._put_artifact(artifact, path_or_stream)
        self._emit({"type": "file", "run": self._target, "name": artifact, "path": stored, "t": utc_now()})

    def upload_files(
        self,
        names: list[str],
        paths: list[Any],
        return_artifacts: bool = False,
        timeout_seconds: float | None = None,
        datastore_name: str | None = None,
    ) -> None:
        """Upload several files: ``names[i]`` gets ``paths[i]``."""
        names, paths = list(names), list(paths)
        if len(names) != len(paths):
            raise ValueError(f"upload_files got {len(names)} names for {len(paths)} paths")
        for name, path in zip(names, paths):  # same length, checked above
            self.upload_file(name, path)

    def upload_folder(self, name: str, path: str | os.PathLike[str], datastore_name: str | None = None) -> None:
        """Upload every file under the folder ``path`` as ``<name>/<relative path>``."""
        prefix = artifact_name(name)
        root = os.fspath(path)
        if not os.path.isdir(root):
            raise DataAccessError(f"upload_folder({name!r}): {root!r} is not a folder.", path=root)
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for file in sorted(files):
                full = os.path.join(folder, file)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                self.upload_file(f"{prefix}/{rel}", full)

    def _put_artifact(self, artifact: str, source: Any) -> str:
        """Copy ``source`` to ``<run_dir>/artifacts/<artifact>``; return that path relative to run_dir."""
        if self._run_dir is None:
            raise NotSupportedError(
                f"Run {self._run_id} cannot keep files from this process.",
                hint="Upload files to the run of this process (Run.get_context().upload_file).",
            )
        dest = os.path.join(self._run_dir, ARTIFACTS_DIR, *artifact.split("/"))
        tmp = f"{dest}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            read = getattr(source, "read", None)
            if callable(read):  # a binary or text stream, copied in chunks
                with open(tmp, "wb") as fh:
                    while chunk := read(1 << 20):
                        fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
            else:
                import shutil

                shutil.copyfile(os.fspath(source), tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise DataAccessError(
                f"Cannot upload {source!r} as {artifact!r}: {exc.strerror or exc}.",
                path=getattr(exc, "filename", None),
                hint="Check that the file exists and is a file (use upload_folder for folders).",
            ) from exc
        return f"{ARTIFACTS_DIR}/{artifact}"

    def get_file_names(self) -> list[str]:
        """The run's files: uploaded ones by their names, ``outputs/...``, ``logs/...`` and its logs."""
        from headwater.runtime.run_files import file_names

        return file_names(self._files_dir("get_file_names"))

    def download_file(
        self, name: str, output_file_path: str | os.PathLike[str] | None = None, _validate_checksum: bool = False
    ) -> None:
        """Copy the run's file ``name`` to ``output_file_path`` (a folder: into it; default: its base name here)."""
        from headwater.runtime.run_files import download_file

        download_file(self._files_dir("download_file"), name, output_file_path, where=f"run {self._run_id}")

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        output_paths: list[str] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: float | None = None,
    ) -> None:
        """Copy the run's files whose names start with ``prefix`` into ``output_directory`` (default:
        here), keeping their relative paths (without ``prefix`` when ``append_prefix`` is False)."""
        from headwater.runtime.run_files import download_files

        folder, where = self._files_dir("download_files"), f"run {self._run_id}"
        download_files(
            folder, self.get_file_names(), prefix, output_directory, output_paths, append_prefix, where=where
        )

    def _files_dir(self, member: str) -> str:
        if self._run_dir is None:
            raise NotSupportedError(
                f"Run.{member}(): run {self._run_id} keeps no files in this process.",
                hint="Read the files of a run from a client: Run.get(workspace, run_id)."
                f"{member}(...) (inside a step, use Run.get_context() for the step's own files).",
            )
        return self._run_dir

    def get_details(self) -> dict[str, Any]:
        """SDK v1's run details as this process knows them (a client-side run reads them from the store)."""
        return {
            "runId": self._run_id,
            "target": "local",
            "status": statuses.RUNNING,
            "properties": self.get_properties(),
            "tags": self.get_tags(),
        }

    def get_children(
        self,
        recursive: bool = False,
        tags: Any = None,
        properties: Any = None,
        type: str | None = None,
        status: str | None = None,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Any]:
        """The run's child runs: none for a run seen from inside a step or offline (its children, if
        any, are read from a client with ``Run.get(workspace, run_id).get_children()``)."""
        return iter(())

    # -- child runs ------------------------------------------------------------------------------

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: Any = None) -> Run:
        """SDK v1 creates a child run. Here only interactive runs (``Experiment.start_logging()``) have
        child runs: a submitted run's children are its steps, and a step never writes to the store."""
        raise NotSupportedError(
            f"Run.child_run(): run {self._run_id} cannot have child runs created; only interactive runs can.",
            hint="Log to the run itself (series with run.log, tables with run.log_row), or, in a step, to "
            "its pipeline run with run.parent.log(...); for child runs start an interactive run: "
            "Experiment(ws, name).start_logging().child_run().",
        )

    def create_children(self, count: int | None = None, tag_key: str | None = None, tag_values: Any = None) -> Any:
        """SDK v1 creates several child runs; see :meth:`child_run` for why a step cannot."""
        self.child_run()

    def submit_child(self, config: Any, tags: Any = None, **kwargs: Any) -> Any:
        """SDK v1 submits a ScriptRunConfig as a child run; Headwater's submitted runs have no parent run."""
        raise NotSupportedError(
            f"Run.submit_child(): Headwater cannot submit a run as a child of run {self._run_id}.",
            hint="Submit it on its own with Experiment(ws, name).submit(config, tags=...), tagging it "
            "with the parent's id if you want to find it again (get_runs(tags={'parent': run.id})); "
            "or put the work in a step of a Pipeline.",
        )

    # -- lifecycle (the orchestrator owns a step run's status) ---------------------------------

    def start(self) -> None:
        """Nothing to do: a run is Running while its script runs."""

    def complete(self, _set_status: bool = True) -> None:
        """Nothing to do: the orchestrator marks the run finished when the script exits."""

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """Nothing to record for a run that is not attached to anything."""

    def cancel(self) -> None:
        """Nothing to record for a run that is not attached to anything."""

    def flush(self, timeout_seconds: int = 300) -> None:
        """Nothing to do: every event is written when it is logged."""

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # -- the one place events leave ------------------------------------------------------------

    def _emit(self, event: dict[str, Any]) -> None:
        """Deliver one event (shapes in :mod:`headwater.runtime.context`); each kind of run does this
        its own way. A bare ``Run(experiment, run_id)`` is not attached to anything."""
        raise NotSupportedError(
            f"This {type(self).__name__} is not attached to a run that can record {event.get('type', 'events')}.",
            hint="Use Run.get_context() inside a script, or Run.get(workspace, run_id) for an existing run.",
        )


def __getattr__(name: str) -> Any:
    # SDK v1 keeps both in azureml.core.run; they live in their own modules here, loaded on use.
    if name == "_SubmittedRun":
        from headwater.runtime.submitted import _SubmittedRun

        return _SubmittedRun
    if name == "_OfflineRun":
        from headwater.runtime.offline import _OfflineRun

        return _OfflineRun
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
