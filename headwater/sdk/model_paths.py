"""Where ``Model.get_model_path`` finds a model's files, and which files a run registers.

get_model_path follows SDK v1's rules. The cache is ``azureml-models/<name>/<version>/`` under
``$AML_APP_ROOT`` (default: the current directory), holding one file or folder: the model.

- ``version`` given: the cache first; else the workspace's registry (files copied into the cache).
- no ``version``: the registry's latest version when a workspace is known, else the cache's highest
  version, else ``./<name>``.

The workspace is ``_workspace``, or — inside a step (``HEADWATER_CONTEXT`` set), and so inside a
ParallelRunStep entry script — the step's own workspace. A step never holds the metadata database
open: its lookup opens the store **read-only** for the one query and closes it (the SQLite file
of this host, or PostgreSQL), and copies the version's files from the workspace's content-addressed
model folder. A step whose workspace folder is not reachable (a remote Ray worker of a SQLite
workspace) gets an error saying so; there the model is best given as a step input.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError, NotFoundError
from headwater.layout import WorkspaceLayout
from headwater.runtime.model_lookups import note_lookup

__all__ = ["ModelNotFoundError", "models_dir", "resolve_model_path"]


class ModelNotFoundError(NotFoundError):
    """A registered model (or model version) does not exist (SDK v1: ``ModelNotFoundException``)."""


def models_dir() -> Path:
    """SDK v1's local model cache: ``$AML_APP_ROOT/azureml-models`` (relative to the current directory)."""
    return Path(os.environ.get("AML_APP_ROOT", "")) / "azureml-models"


def _from_cache(name: str, version: int | None) -> Path:
    folder = models_dir() / name
    if folder.is_dir():
        versions = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
        chosen = version if version is not None else (max(versions) if versions else None)
        candidate = folder / str(chosen)
        if chosen is not None and candidate.is_dir():
            entries = [e for e in os.listdir(candidate) if not e.startswith(".")]
            if len(entries) != 1:
                raise HeadwaterError(
                    f"Model cache folder {str(candidate)!r} must hold exactly one file or folder; it holds {entries}.",
                    hint="Remove what does not belong to the model from it.",
                )
            return candidate / entries[0]
    if Path(name).exists():
        return Path(name)
    raise ModelNotFoundError(
        "Model",
        name if version is None else f"{name}:{version}",
        where=f"the model cache {str(models_dir().absolute())!r} or the current directory {os.getcwd()!r}",
        hint="Pass _workspace=ws to fetch it from the workspace's model registry.",
    )


def _step_store() -> tuple[Any, WorkspaceLayout] | None:
    """Inside a step: the step's store opened read-only, and its workspace layout (None outside a step)."""
    from headwater.runtime.context import CONTEXT_ENV, load_context

    if not os.environ.get(CONTEXT_ENV):
        return None
    from headwater.store.metadata import MetadataStore, sqlite_url

    ref = load_context(os.environ[CONTEXT_ENV]).workspace
    layout = WorkspaceLayout(ref.folder)
    url = ref.metadata_url or sqlite_url(layout.metadata_db)
    if not ref.metadata_url and not layout.metadata_db.is_file():
        raise HeadwaterError(
            f"Model.get_model_path: the workspace folder {ref.folder!r} of this step is not reachable here "
            "(a remote worker of a SQLite workspace), so its model registry cannot be read.",
            hint="Give the model to the step as an input (a FileDataset or a step output), or use a PostgreSQL "
            "metadata store and a shared workspace folder.",
        )
    return MetadataStore.open(url, read_only=True), layout


def _from_registry(store: Any, layout: WorkspaceLayout, name: str, version: int | None) -> Path:
    from headwater.store.model_files import materialize

    record = store.get_model(name, version)
    if record is None:
        known = [f"{r.name}/{r.version}" for r in store.list_models()]
        raise ModelNotFoundError(
            "Model", name if version is None else f"{name}:{version}", where="the workspace", candidates=known
        )
    note_lookup({"name": name, "version": version}, record.version, record.digest)  # inside a step: for reuse
    target = models_dir() / name / str(record.version)
    final = target / record.root
    if final.exists():  # a version's files never change: fetched already (by this or another worker)
        return final
    # Copied aside, then renamed into place: a worker that looks meanwhile sees all files or none.
    target.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=".fetching-"))
    try:
        materialize(layout, record.files, aside, exist_ok=True)
        try:
            os.rename(aside / record.root, final)
        except OSError:
            if not final.exists():
                raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    return final


def resolve_model_path(name: str, version: int | None, workspace: Any) -> str:
    """SDK v1's ``Model.get_model_path`` (see the module doc)."""
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise HeadwaterError(f"Model.get_model_path: version should be an int, got {version!r}.")
    if version is not None:
        try:
            return str(_from_cache(name, version))
        except ModelNotFoundError:
            if workspace is None and not os.environ.get("HEADWATER_CONTEXT"):
                raise
    if workspace is not None:
        return str(_from_registry(workspace.metadata_store, WorkspaceLayout(workspace.folder), name, version))
    opened = _step_store()
    if opened is None:
        return str(_from_cache(name, version))
    store, layout = opened
    try:
        return str(_from_registry(store, layout, name, version))
    finally:
        store.close()
