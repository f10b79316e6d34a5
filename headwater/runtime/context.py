"""The contract between the executor and a step process: the context file and the events file.

Stdlib only, like all of :mod:`headwater.runtime` (the executor puts the package on the step's
``PYTHONPATH``; the step may run in any Python environment, without Headwater's dependencies).

The executor's side
-------------------
Before it starts a step process the executor writes a JSON *context file* into the step's run
folder (``context.json``, see :mod:`headwater.layout`) with :meth:`StepContext.write`, the one
writer, and sets ``HEADWATER_CONTEXT`` to its absolute path::

    {
      "run_id": "<step run id>",
      "parent_run_id": "<pipeline run id>" | null,
      "step_name": "train" | null,
      "experiment_name": "exp",
      "experiment_id": "<id>" | null,
      "workspace": {"name": "ws", "folder": "/abs/ws", "metadata_url": null | "postgresql://...",
                    "subscription_id": "", "resource_group": "", "strict_python": false},
      "run_dir": "/abs/ws/runs/<run_id>",
      "events_file": "/abs/ws/runs/<run_id>/events.jsonl",
      "input_datasets": {"<name>": {"mode": "direct" | "download" | "mount",
                                    "path": "/abs/path" | null,      # required unless direct
                                    "dataset": {"id": "...", "kind": "file" | "tabular",
                                                "definition": {...}, "name": null, "version": null}
                                               | null}},             # required when direct
      "output_datasets": {"<name>": {"path": "/abs/staging/path"}},
      "tags": {"<key>": "<value>" | null},        # optional: the run's tags at start
      "properties": {"<key>": "<value>"}          # optional: the run's properties at start
    }

Unknown keys are ignored, so the executor may add more. It also sets SDK v1's variables
(``AZUREML_RUN_ID``, ``AZUREML_ARM_WORKSPACE_NAME``, ``AZUREML_ARM_PROJECT_NAME``,
``AZUREML_ARM_SUBSCRIPTION``, ``AZUREML_ARM_RESOURCEGROUP``, ``AZUREML_EXPERIMENT_ID``,
``AZUREML_DATASET_ENVIRONMENT_VARS``, ``AZUREML_DATASET_FILE_OUTPUTS``, ``<input name>``,
``<output name>``) for scripts that read them directly; ``Run.get_context()`` reads only the
context file. Without ``HEADWATER_CONTEXT`` it returns an offline run (or, with
``allow_offline=False``, raises ``RunEnvironmentException``); with ``HEADWATER_CONTEXT`` set to a
file that is missing or malformed it raises ``RunEnvironmentException`` rather than silently
dropping the run's metrics.

The step's side: events
-----------------------
The step appends one JSON object per line to ``events_file`` (UTF-8, ``\\n``-terminated). Each
line is written with a single ``write()`` on a file opened with ``O_APPEND``, so lines from several
processes never interleave and a reader sees only whole lines, plus at most one trailing partial
line that is still being written. ``t`` is ISO-8601 UTC time with microseconds; ``run`` is
``"self"`` (the step run) or ``"parent"`` (the pipeline run, for ``run.parent.log(...)``)::

    {"type": "metric", "run": "self" | "parent", "name": "acc",
     "kind": "scalar" | "list" | "row" | "table" | "image", "value": <json>,
     "description": "" | null, "t": "...",
     "table_type": "accuracy_table" | "confusion_matrix" | "predictions" | "residuals"}  # optional
    {"type": "tags", "run": ..., "tags": {"<key>": "<value>" | null}, "t": ...}
    {"type": "remove_tags", "run": ..., "keys": ["<key>", ...], "t": ...}
    {"type": "properties", "run": ..., "properties": {"<key>": "<value>"}, "t": ...}
    {"type": "file", "run": "self", "name": "<artifact name>", "path": "artifacts/<artifact name>",
     "t": ...}

Metric values are made JSON-able in the step: tuples become lists, objects with ``tolist()`` or
``item()`` (numpy arrays and scalars, duck-typed) are converted, anything else becomes ``str()``.
NaN and infinities are written as JSON's ``NaN``/``Infinity`` extensions and read back as floats.
An image metric's value is its artifact name: ``images/<metric name>.png`` for a figure (saved
with ``savefig``), ``images/<metric name><suffix>`` for a file, with ``_2``, ``_3`` ... before the
suffix when the same name is logged again; the image is uploaded first, so its ``file`` event
comes before the metric. A ``row`` metric's value is the row as an object.

``upload_file(name, ...)`` copies the file *at call time* to ``<run_dir>/artifacts/<name>``
(``name`` may contain ``/``; absolute names and ``..`` are refused), then appends the ``file``
event; later changes to the source do not matter. The orchestrator ingests the events file with
:func:`headwater.engine.ingest.ingest_events` (metrics, tags and properties go to the metadata
store; ``file`` events are only checked, the artifacts stay files in the run folder).
"""

from __future__ import annotations

import os

from headwater.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "CONTEXT_ENV",
    "DATASET_MODES",
    "InputDatasetRef",
    "StepContext",
    "WorkspaceRef",
    "load_context",
]

#: The environment variable naming the context file.
CONTEXT_ENV = "HEADWATER_CONTEXT"
#: How an input dataset reaches the step (SDK v1's ``DatasetConsumptionConfig`` modes).
DATASET_MODES = ("direct", "download", "mount")


class WorkspaceRef:
    """Where a workspace lives: enough to open its store and datastores from another process.

    The one description of a workspace that crosses a process boundary: the run plan holds it
    (for the orchestrator) and the context file holds it (for the step). ``metadata_url`` is empty
    (``null`` in JSON) where the store is the workspace folder's own SQLite file and the reader
    opens it from there (a step's context, see :meth:`for_step`); a run plan always names it.
    ``strict_python``: an environment asking for a Python version that is not available is an
    error rather than the closest version.
    """

    __slots__ = ("folder", "metadata_url", "name", "resource_group", "strict_python", "subscription_id")

    def __init__(
        self,
        name: str,
        folder: str,
        metadata_url: str | None = "",
        subscription_id: str = "",
        resource_group: str = "",
        strict_python: bool = False,
    ) -> None:
        self.name = name
        self.folder = folder
        self.metadata_url: str = metadata_url or ""
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.strict_python = strict_python

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkspaceRef) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"WorkspaceRef({self.name!r}, {self.folder!r})"

    def for_step(self) -> WorkspaceRef:
        """The reference a step's context file gets: a SQLite store's URL is left out (the step
        opens the workspace from its folder)."""
        url = self.metadata_url
        return WorkspaceRef(
            self.name,
            self.folder,
            "" if url.startswith("sqlite:") else url,
            self.subscription_id,
            self.resource_group,
            self.strict_python,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folder": self.folder,
            "metadata_url": self.metadata_url or None,
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "strict_python": self.strict_python,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkspaceRef:
        """Read :meth:`to_dict`'s form (unknown keys are ignored)."""
        return cls(
            name=data["name"],
            folder=data["folder"],
            metadata_url=data.get("metadata_url"),
            subscription_id=data.get("subscription_id") or "",
            resource_group=data.get("resource_group") or "",
            strict_python=bool(data.get("strict_python", False)),
        )


class InputDatasetRef:
    """One input dataset as the step sees it: a path (download/mount) or a dataset (direct)."""

    __slots__ = ("dataset", "mode", "name", "path")

    def __init__(self, name: str, mode: str, path: str | None, dataset: dict[str, Any] | None) -> None:
        self.name = name
        self.mode = mode
        self.path = path
        self.dataset = dataset

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "path": self.path, "dataset": self.dataset}


class StepContext:
    """The parsed context file (see the module docstring for its JSON form)."""

    __slots__ = (
        "events_file",
        "experiment_id",
        "experiment_name",
        "input_datasets",
        "output_datasets",
        "parent_run_id",
        "properties",
        "run_dir",
        "run_id",
        "step_name",
        "tags",
        "workspace",
    )

    def __init__(
        self,
        *,
        run_id: str,
        experiment_name: str,
        workspace: WorkspaceRef,
        run_dir: str,
        events_file: str,
        parent_run_id: str | None = None,
        step_name: str | None = None,
        experiment_id: str | None = None,
        input_datasets: dict[str, InputDatasetRef] | None = None,
        output_datasets: dict[str, str] | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
    ) -> None:
        self.run_id = run_id
        self.parent_run_id = parent_run_id
        self.step_name = step_name
        self.experiment_name = experiment_name
        self.experiment_id = experiment_id
        self.workspace = workspace
        self.run_dir = run_dir
        self.events_file = events_file
        self.input_datasets = dict(input_datasets or {})
        self.output_datasets = dict(output_datasets or {})
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})

    @classmethod
    def from_dict(cls, data: object, *, source: str | None = None) -> StepContext:
        """Validate and parse a context file's JSON; errors name the file and the key."""

        def fail(key: str, message: str) -> ConfigurationError:
            return ConfigurationError(
                f"The step context file is invalid: {message}",
                path=source,
                key=key,
                hint="The context file is written by Headwater's executor; this is a bug there.",
            )

        if not isinstance(data, dict):
            raise fail("", "it must hold a JSON object")

        def text(key: str, *, required: bool = True, owner: dict[str, Any] = data) -> str | None:
            value = owner.get(key)
            if value is None and not required:
                return None
            if not isinstance(value, str) or (required and not value):
                raise fail(key, f"{key!r} must be a non-empty string, got {value!r}")
            return value

        ws = data.get("workspace")
        if not isinstance(ws, dict):
            raise fail("workspace", "'workspace' must be an object with 'name' and 'folder'")
        workspace = WorkspaceRef(
            name=str(text("name", owner=ws)),
            folder=str(text("folder", owner=ws)),
            metadata_url=text("metadata_url", required=False, owner=ws),
            subscription_id=ws.get("subscription_id") or "",
            resource_group=ws.get("resource_group") or "",
            strict_python=ws.get("strict_python") is True,
        )
        inputs: dict[str, InputDatasetRef] = {}
        for name, spec in _object(data, "input_datasets", fail).items():
            if not isinstance(spec, dict) or spec.get("mode") not in DATASET_MODES:
                raise fail("input_datasets", f"input {name!r} needs a mode in {DATASET_MODES}")
            path, dataset = spec.get("path"), spec.get("dataset")
            if spec["mode"] == "direct" and not isinstance(dataset, dict):
                raise fail("input_datasets", f"direct input {name!r} needs its 'dataset' record")
            if spec["mode"] != "direct" and not isinstance(path, str):
                raise fail("input_datasets", f"{spec['mode']} input {name!r} needs a 'path'")
            inputs[name] = InputDatasetRef(name, spec["mode"], path, dataset)
        outputs: dict[str, str] = {}
        for name, spec in _object(data, "output_datasets", fail).items():
            if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
                raise fail("output_datasets", f"output {name!r} needs a 'path'")
            outputs[name] = spec["path"]
        return cls(
            run_id=str(text("run_id")),
            parent_run_id=text("parent_run_id", required=False),
            step_name=text("step_name", required=False),
            experiment_name=str(text("experiment_name")),
            experiment_id=text("experiment_id", required=False),
            workspace=workspace,
            run_dir=str(text("run_dir")),
            events_file=str(text("events_file")),
            input_datasets=inputs,
            output_datasets=outputs,
            tags={str(k): None if v is None else str(v) for k, v in _object(data, "tags", fail).items()},
            properties={str(k): str(v) for k, v in _object(data, "properties", fail).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as :meth:`from_dict` reads it."""
        return {
            "run_id": self.run_id,
            "parent_run_id": self.parent_run_id,
            "step_name": self.step_name,
            "experiment_name": self.experiment_name,
            "experiment_id": self.experiment_id,
            "workspace": self.workspace.to_dict(),
            "run_dir": self.run_dir,
            "events_file": self.events_file,
            "input_datasets": {k: v.to_dict() for k, v in self.input_datasets.items()},
            "output_datasets": {k: {"path": v} for k, v in self.output_datasets.items()},
            "tags": dict(self.tags),
            "properties": dict(self.properties),
        }

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the context file atomically (a step never sees half of it)."""
        target = os.fspath(path)
        tmp = f"{target}.{os.getpid()}.tmp"
        import json

        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, indent=1, sort_keys=True)
        os.replace(tmp, target)


def _object(data: dict[str, Any], key: str, fail: Callable[[str, str], ConfigurationError]) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(key, f"{key!r} must be an object")
    return value


def load_context(path: str | os.PathLike[str]) -> StepContext:
    """Read the context file at ``path``; a missing or malformed file is a ConfigurationError."""
    import json  # here, not at the top: an offline run never needs it

    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the step context file: {exc.strerror}",
            path=source,
            hint=f"{CONTEXT_ENV} must name the context file the executor wrote; unset it to run offline.",
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"The step context file is not valid JSON: {exc}",
            path=source,
            hint="The context file is written by Headwater's executor; this is a bug there.",
        ) from exc
    return StepContext.from_dict(data, source=source)
