"""``run.register_model(...)`` inside a step: a request the step runner carries out on success.

A step never opens the metadata database, and a model must not be registered from a step that
then fails. So ``register_model`` checks its arguments and that the file or folder exists among
the run's files (``outputs/...`` of its working directory, uploaded artifacts, its run folder),
then appends one JSON line to :data:`MODEL_REQUESTS_FILE` in the run folder. When the step
succeeds and its outputs are committed, the step runner registers each requested model from the
run's files (:mod:`headwater.engine.step_models`); when it fails, nothing is registered.

Stdlib only and Python-3.8-safe, like all of :mod:`headwater.runtime`.
"""

from __future__ import annotations

import json
import os
import re

from headwater.errors import ConfigurationError, DataAccessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "MODEL_REQUESTS_FILE",
    "PendingModel",
    "build_request",
    "check_model_name",
    "find_run_path",
    "read_model_requests",
    "request_model",
]

#: In a step's run folder: the models the script asked to register (JSON lines).
MODEL_REQUESTS_FILE = "models.requested"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
_WORKDIR = "wd"
_ARTIFACTS = "artifacts"


def check_model_name(name: object) -> None:
    """SDK v1's rule: 1-255 letters, digits, ``-``, ``_`` or ``.``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"Invalid model name {name!r}",
            key="model_name",
            hint="Use 1-255 letters, digits, '-', '_' or '.', starting with a letter or digit.",
        )


def find_run_path(run_dir: str, path: str) -> str | None:
    """The file or folder the run's file name ``path`` (``outputs/model.pkl``) stands for, or None.

    Looked for in the working directory (``outputs/...``, ``logs/...``), the run folder and the
    uploaded artifacts; nothing outside the run folder is ever returned.
    """
    clean = path.replace("\\", "/").strip("/")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or os.path.isabs(path):
        return None
    root = os.path.realpath(run_dir)
    for base in (os.path.join(run_dir, _WORKDIR), run_dir, os.path.join(run_dir, _ARTIFACTS)):
        candidate = os.path.join(base, *parts)
        found = os.path.isfile(candidate) or os.path.isdir(candidate)
        if found and os.path.realpath(candidate).startswith(root + os.sep):
            return candidate
    return None


def _dataset_id(dataset: Any, what: str) -> str:
    dataset_id = dataset if isinstance(dataset, str) else getattr(dataset, "id", None)
    if not dataset_id:
        raise ConfigurationError(f"The {what} has no id: {dataset!r}", key=what, hint="Pass a Dataset or its id.")
    return str(dataset_id)


def build_request(
    model_name: str,
    model_path: str | None,
    *,
    tags: Any = None,
    properties: Any = None,
    model_framework: str | None = None,
    model_framework_version: str | None = None,
    description: str | None = None,
    datasets: Any = None,
    sample_input_dataset: Any = None,
    sample_output_dataset: Any = None,
    resource_configuration: Any = None,
) -> dict[str, Any]:
    """``Run.register_model``'s arguments, checked, as a JSON-able request (``model_path`` None: the name)."""
    check_model_name(model_name)
    if model_framework is None and model_framework_version is not None:
        raise ConfigurationError(
            "Model framework version cannot be provided without a valid framework",
            key="model_framework_version",
            hint="Pass model_framework too (e.g. Model.Framework.SCIKITLEARN).",
        )
    for what, value in (("tags", tags), ("properties", properties)):
        if value is not None and not isinstance(value, dict):
            raise ConfigurationError(f"Model {what} must be a dict, got {type(value).__name__}", key=what)
    refs = []
    for pair in datasets or []:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ConfigurationError(
                f"datasets must be (scenario, dataset) pairs, got {pair!r}",
                key="datasets",
                hint="For example datasets=[('training', train_ds)].",
            )
        refs.append({"name": str(pair[0]), "id": _dataset_id(pair[1], "dataset")})
    extra: dict[str, Any] = {}
    if sample_input_dataset is not None:
        extra["sample_input_dataset_id"] = _dataset_id(sample_input_dataset, "sample_input_dataset")
    if sample_output_dataset is not None:
        extra["sample_output_dataset_id"] = _dataset_id(sample_output_dataset, "sample_output_dataset")
    if resource_configuration is not None:
        serialize = getattr(resource_configuration, "serialize", None)
        extra["resource_configuration"] = serialize() if callable(serialize) else dict(resource_configuration)
    return {
        "name": model_name,
        "path": model_name if model_path is None else str(model_path),
        "tags": dict(tags or {}),
        "properties": dict(properties or {}),
        "framework": model_framework,
        "framework_version": model_framework_version,
        "description": description,
        "datasets": refs,
        "extra": extra,
    }


def request_model(run_dir: str, request: dict[str, Any]) -> None:
    """Append one registration request (one ``write`` on an ``O_APPEND`` file: lines never interleave)."""
    line = (json.dumps(request, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(os.path.join(run_dir, MODEL_REQUESTS_FILE), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_model_requests(run_dir: str) -> list[dict[str, Any]]:
    """The requests a step made, in order (none: an empty list); a malformed line is a DataAccessError."""
    path = os.path.join(run_dir, MODEL_REQUESTS_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            raise DataAccessError(f"Line {number} of the model requests is not JSON: {exc}", path=path) from exc
        if not isinstance(request, dict) or not isinstance(request.get("name"), str):
            raise DataAccessError(f"Line {number} of the model requests names no model", path=path)
        out.append(request)
    return out


class PendingModel:
    """What ``run.register_model`` returns inside a step: the model it will register when the step
    succeeds (its ``version`` and ``id`` are known only then; read them back with
    ``Model(ws, name)`` after the run)."""

    def __init__(self, request: dict[str, Any], run_id: str) -> None:
        self.name: str = request["name"]
        self.version = None
        self.id = None
        self.run_id = run_id
        self.tags: dict[str, Any] = dict(request.get("tags") or {})
        self.properties: dict[str, Any] = dict(request.get("properties") or {})
        self.description = request.get("description")
        self.model_framework = request.get("framework")
        self.model_framework_version = request.get("framework_version")
        self.path: str = request["path"]

    def __repr__(self) -> str:
        return f"Model(name={self.name}, run_id={self.run_id}, path={self.path}; registered when the step succeeds)"
