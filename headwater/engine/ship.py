"""The orchestrator side of a Ray step shipped to a cluster without a shared filesystem ("ship" mode).

When ``submit`` decided that a Ray target's workers cannot see this host's files
(:mod:`headwater.ops.ray_targets`), its steps reach the worker only through a *staging*
datastore (Azure Blob or S3) and the Ray task's arguments. Before such a step's task is
submitted, :func:`ship_payload`:

* uploads the step's snapshot once, as one object ``headwater/snapshots/<snapshot id>.tar`` on the
  staging datastore (content-addressed: skipped when it is there). An object upload is atomic —
  the object appears only once complete — so a half-written tar is never read;
* lists the files of each input (nothing is downloaded here): the worker downloads them. A
  mounted input becomes a download there, and the step's log says so;
* names each output's datastore and path: the worker commits them when the step succeeds;
* gives the records of the datastores involved, with their secret *references*; ``env:``
  references are resolved on the worker. Secrets kept in this workspace's secrets file
  (``workspace:``) can only be read here: their values travel in the task's arguments, in memory,
  never logged or recorded.

The worker side is :mod:`headwater.engine.ship_worker`.
"""

from __future__ import annotations

import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from headwater._paths import PACKAGE_DIR
from headwater.engine.inputs import InputResolver
from headwater.engine.launch import ResolvedInput, ResolvedOutput
from headwater.errors import ConfigurationError, DataAccessError
from headwater.graph.spec import StepSpec
from headwater.layout import RunLayout
from headwater.store.datastores import DatastoreBackend
from headwater.store.metadata import MetadataStore
from headwater.store.secrets import WORKSPACE_PREFIX, resolve_secret

__all__ = ["SNAPSHOT_PREFIX", "snapshot_object", "upload_snapshot", "ship_payload"]

#: Where snapshots are kept on a staging datastore.
SNAPSHOT_PREFIX = "headwater/snapshots"


def snapshot_object(snapshot_id: str) -> str:
    """The staging datastore path of a snapshot's tar."""
    return f"{SNAPSHOT_PREFIX}/{snapshot_id}.tar"


def upload_snapshot(snapshot_dir: Path, snapshot_id: str, backend: DatastoreBackend) -> str:
    """Upload the stored snapshot ``snapshot_dir`` as one tar, unless it is there; return its path."""
    path = snapshot_object(snapshot_id)
    if backend.exists(path):
        return path
    if not snapshot_dir.is_dir():
        raise DataAccessError(f"Snapshot {snapshot_dir} does not exist.", path=str(snapshot_dir))
    fd, tmp = tempfile.mkstemp(prefix=f".hw-snapshot-{snapshot_id[:12]}-", suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w") as tar:
            for entry in sorted(os.listdir(snapshot_dir)):
                tar.add(snapshot_dir / entry, arcname=entry)
        backend.put_file(tmp, path, overwrite=True)
    finally:
        os.unlink(tmp)
    return path


def _datastore_entry(store: MetadataStore, name: str, workspace_folder: Path) -> dict[str, Any]:
    """A datastore's record for the worker, with the values of its workspace-file secrets."""
    record = store.get_datastore(name)
    if record is None:
        raise ConfigurationError(f"Datastore {name!r} is not registered in this workspace")
    secrets = {
        key: resolve_secret(ref, workspace_folder, what=f"{key.replace('_', ' ')} of datastore {name!r}")
        for key, ref in (record.config.get("credentials") or {}).items()
        if ref and str(ref).startswith(WORKSPACE_PREFIX)
    }
    return {"name": record.name, "kind": record.kind, "config": record.config, "secrets": secrets}


def _input_items(
    resolver: InputResolver, resolved: list[ResolvedInput], run_dir: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    """What the worker downloads for each input (by datastore), and the notices for the step's log."""
    items: list[dict[str, Any]] = []
    notices: list[str] = []
    inputs_dir = RunLayout(run_dir).inputs
    for r in resolved:
        if r.path is None:
            continue  # direct: the dataset's id, nothing to fetch
        if not r.path.startswith(str(inputs_dir)):
            raise DataAccessError(
                f"input {r.name!r} is read in place from {r.path}, which a Ray worker without a shared "
                "filesystem cannot see",
                hint="Keep the step's data on an Azure Blob or S3 datastore.",
            )
        files = resolver.selected_files(r)  # the listing a local download uses
        urls = [f.path for f in files if f.datastore is None]
        if urls:
            raise DataAccessError(
                f"input {r.name!r} reads {urls[0]!r}, a URL: a step shipped to a Ray cluster reads only datastores",
                hint="Upload the file to an Azure Blob or S3 datastore and read it from there.",
            )
        dest = os.path.relpath(r.materialized_at or r.path, run_dir)
        by_store: dict[str, list[list[str]]] = {}
        for f in files:
            assert f.datastore is not None
            by_store.setdefault(f.datastore, []).append([f.path, f.display.lstrip("/")])
        items += [{"name": r.name, "datastore": ds, "dest": dest, "files": pairs} for ds, pairs in by_store.items()]
        if r.mode == "mount":
            notices.append(
                f"input {r.name!r} (as_mount) is downloaded to the Ray worker instead of mounted: the cluster has "
                f"no shared filesystem. Its {len(files)} file(s) are copied before the step starts."
            )
    return items, notices


def ship_payload(
    *,
    store: MetadataStore,
    resolver: InputResolver,
    step: StepSpec,
    run_dir: Path,
    resolved: list[ResolvedInput],
    outputs: list[ResolvedOutput],
    staging: str,
    snapshot_dir: Path,
    snapshot_id: str,
    workspace_folder: Path,
) -> tuple[dict[str, Any], list[str]]:
    """The payload of a shipped step's task (see the module) and the notices for its log.

    Call it after the step's context file was written (:func:`headwater.engine.launch.build_task`).
    Raises HeadwaterError (or OSError) when the step cannot be shipped.
    """
    staging_backend = resolver.backend(staging)
    if staging_backend.is_local:
        raise ConfigurationError(
            f"the staging datastore {staging!r} is on this host's disk; a Ray cluster without a shared "
            "filesystem reads snapshots from an Azure Blob or S3 datastore"
        )
    snapshot = upload_snapshot(snapshot_dir, snapshot_id, staging_backend)
    items, notices = _input_items(resolver, resolved, run_dir)
    specs = {o.name: o for o in step.outputs}
    names = {staging, *(i["datastore"] for i in items), *(o.datastore for o in outputs)}
    payload = {
        "run_dir": str(run_dir),
        "python": sys.executable,
        "package_dir": str(PACKAGE_DIR),
        "events_file": str(RunLayout(run_dir).events_file),
        "context": RunLayout(run_dir).context_file.read_text(encoding="utf-8"),
        "snapshot": {"datastore": staging, "path": snapshot},
        "datastores": {name: _datastore_entry(store, name, workspace_folder) for name in sorted(names)},
        "inputs": items,
        "outputs": [
            {"name": o.name, "datastore": o.datastore, "path": o.path, "spec": specs[o.name].to_dict()} for o in outputs
        ],
    }
    return payload, notices
