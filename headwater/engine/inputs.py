"""Resolve a step's inputs to what its process receives, with each input's *content* digest.

Sources: an upstream output (the producing run's recorded digest: early cut-off), a dataset
(per-file BLAKE3 digests through the stat cache; remote files fingerprinted from the store's
metadata), a datastore path (DataPath / DataReference), or a pipeline parameter holding one of
those. Modes: ``mount`` is a local path read in place (no copy) - for files on a remote datastore a
read-only FUSE view that reads lazily (:mod:`headwater.engine.remote_mount`), or a download with a
notice where FUSE is not available; ``download`` a private copy in the run folder (parallel
transfers); ``direct`` the dataset id (the script reads ``run.input_datasets[name]``).

Resolution happens before the reuse decision and never copies data; :meth:`InputResolver.materialize`
copies (download) or mounts only once the step is known to run, and :meth:`InputResolver.release`
unmounts when the step ends.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from headwater.data.definition import DEFINITION_FORMAT, definition_id, has_glob
from headwater.data.files import DataAccess, DatasetFile, apply_file_transformations, check_listed_names, resolve
from headwater.data.partitions import needed_files
from headwater.engine.resolved import ResolvedInput
from headwater.errors import DataAccessError, NotFoundError
from headwater.graph.analysis import producers
from headwater.graph.spec import InputSpec, OutputSpec
from headwater.layout import RunLayout
from headwater.plan.digests import DigestCacheLike, digest_files, tree_digest
from headwater.plan.hashing import dict_hash
from headwater.plan.run_plan import RunPlan
from headwater.store.datastores import DatastoreBackend
from headwater.store.metadata import MetadataStore

if TYPE_CHECKING:
    from headwater.engine.remote_mount import RemoteMount

__all__ = ["InputResolver", "WorkspaceHandle", "dataset_digest", "tabular_definition"]


def tabular_definition(datastore: str, path: str, options: dict[str, Any]) -> dict[str, Any]:
    """The definition of a TabularDataset over a committed output folder (``read_delimited_files``).

    ``options`` are the reader options, plus ``path_glob`` (files inside the folder) and
    ``transformations`` (``keep_columns`` / ``drop_columns``).
    """
    reader = {k: v for k, v in options.items() if k not in ("path_glob", "transformations")}
    glob = (options.get("path_glob") or "").strip("/")
    return {
        "format": DEFINITION_FORMAT,
        "sources": [{"datastore": datastore, "path": f"{path}/{glob}" if glob else path}],
        "reader": reader,
        "partition_format": None,
        "transformations": list(options.get("transformations") or []),
    }


class WorkspaceHandle:
    """The little of a workspace that data access needs: its store, folder and name."""

    def __init__(self, store: MetadataStore, folder: Path, name: str) -> None:
        self.metadata_store = store
        self.folder = folder
        self.name = name


def dataset_digest(record: dict[str, Any], access: DataAccess) -> str:
    """Content digest of a dataset: its definition plus the digests of the files it selects."""
    definition = record["definition"]
    files = resolve(definition.get("sources", []), access).files
    if record.get("kind") == "file":
        files = apply_file_transformations(files, definition.get("transformations", []), access)
    else:  # tabular: only the files its partition filters can keep rows from
        files = needed_files(definition, files, lambda f: f.path)
    return dict_hash({"kind": record.get("kind"), "definition": definition, "files": access.digests(files)})


class InputResolver:
    """Input resolution for the steps of one pipeline run."""

    def __init__(self, plan: RunPlan, store: MetadataStore, ws_folder: Path, cache: DigestCacheLike) -> None:
        self.plan = plan
        self.store = store
        self.cache = cache
        self.workspace = WorkspaceHandle(store, ws_folder, plan.workspace.name)
        self.access = DataAccess(self.workspace)
        self.made_by = producers(plan.spec)
        self._sources: dict[str, tuple[str, str]] = {}  # step-local path -> (datastore, path) it delivers
        self._mounts: dict[Path, list[RemoteMount]] = {}  # run folder -> its live FUSE views

    def backend(self, name: str) -> DatastoreBackend:
        return self.access.backend(name)

    # -- resolve -------------------------------------------------------------------------------

    def resolve(self, node: str, run_dir: Path) -> list[ResolvedInput]:
        step = self.plan.spec.step(node)
        return [self.resolve_one(node, i, run_dir) for i in step.inputs]

    def _download_path(self, run_dir: Path, i: InputSpec) -> str:
        return str(RunLayout(run_dir).inputs / i.name)

    def resolve_one(self, node: str, i: InputSpec, run_dir: Path) -> ResolvedInput:
        """Resolve one input without copying anything."""
        src = i.source
        if "output" in src:
            return self._from_output(i, src["output"], run_dir)
        if "parameter" in src:
            value = self.plan.parameters.get(src["parameter"])
            if isinstance(value, dict) and "datastore" in value:
                return self._from_datapath(i, value, run_dir)
            if isinstance(value, dict) and "definition" in value:
                return self._from_dataset(node, i, value, run_dir)
            raise DataAccessError(
                f"Input {i.name!r} takes pipeline parameter {src['parameter']!r}, whose value {value!r} "
                "is not a dataset or a DataPath."
            )
        if "datapath" in src:
            return self._from_datapath(i, src["datapath"], run_dir)
        if "dataset" in src:
            record = self.plan.steps[node].input_records.get(i.name) or src["dataset"]
            return self._from_dataset(node, i, record, run_dir)
        raise DataAccessError(f"Input {i.name!r} has an unknown source {src!r}.")

    def _from_output(self, i: InputSpec, output: str, run_dir: Path) -> ResolvedInput:
        producer = self.made_by[output][0]
        producer_run = self.plan.steps[producer].run_id
        record = next((o for o in self.store.get_run_outputs(producer_run) if o.name == output), None)
        if record is None or record.digest is None:
            raise NotFoundError("Output", output, where=f"run {producer_run}")
        if i.tabular is not None:
            definition = tabular_definition(record.datastore, record.path, i.tabular)
            ds_id = definition_id("tabular", definition)
            ds = {"id": ds_id, "kind": "tabular", "definition": definition, "name": None, "version": None}
            return ResolvedInput(i.name, "direct", ds_id, record.digest, None, i.legacy, ds)
        return self._path_input(i, record.datastore, record.path, record.digest, run_dir)

    def _path_input(self, i: InputSpec, datastore: str, path: str, digest: str, run_dir: Path) -> ResolvedInput:
        backend = self.backend(datastore)
        local = backend.local_path(path)
        value = str(local) if i.mode == "mount" and local is not None else self._download_path(run_dir, i)
        if i.path_on_compute and i.mode == "download":
            value = str(RunLayout(run_dir).inputs / i.path_on_compute.strip("/"))
        self._sources[value] = (datastore, path)
        return ResolvedInput(i.name, "mount" if i.mode == "direct" else i.mode, value, digest, value, i.legacy)

    def _from_datapath(self, i: InputSpec, datapath: dict[str, str], run_dir: Path) -> ResolvedInput:
        backend = self.backend(datapath["datastore"])
        path = datapath.get("path") or ""
        if not backend.exists(path):
            raise DataAccessError(
                f"Input {i.name!r}: {path!r} does not exist on datastore {datapath['datastore']!r}.", path=path
            )
        files = check_listed_names(datapath["datastore"], backend.list_files(path))
        digest = tree_digest(digest_files(backend, files, self.cache))
        return self._path_input(i, datapath["datastore"], path, digest, run_dir)

    def _from_dataset(self, node: str, i: InputSpec, record: dict[str, Any], run_dir: Path) -> ResolvedInput:
        digest = self.plan.steps[node].input_digests.get(i.name) or dataset_digest(record, self.access)
        # a TabularDataset is handed over directly, except to a ParallelRunStep's driver (mode 'mount')
        if i.mode == "direct" or (record.get("kind") == "tabular" and i.mode != "mount"):
            return ResolvedInput(i.name, "direct", record["id"], digest, None, i.legacy, record)
        if i.mode == "mount":
            whole = self._whole_local_folder(record)
            if whole is not None:  # the dataset is one folder as it is: mount it in place, no link farm
                return ResolvedInput(i.name, "mount", str(whole), digest, str(whole), i.legacy, record)
        folder = self._download_path(run_dir, i)
        single = self._single_file(record)
        if single is None:
            return ResolvedInput(i.name, i.mode, folder, digest, folder, i.legacy, record)
        value = folder + single  # SDK v1 hands a one-file dataset to the step as that file's path
        return ResolvedInput(i.name, i.mode, value, digest, value, i.legacy, record, folder)

    def _single_file(self, record: dict[str, Any]) -> str | None:
        """``'/<name>'`` when a FileDataset is one file named by its only source, else None.

        As SDK v1 decides it: one source without glob characters and no transformation, naming a
        file (a stat locally, a listing on a remote datastore). A folder holding one file, or a glob
        matching one, stays a folder.
        """
        definition = record["definition"]
        sources = definition.get("sources", [])
        if record.get("kind") != "file" or len(sources) != 1 or definition.get("transformations"):
            return None
        source = sources[0]
        if "url" in source:
            name = posixpath.basename(urlsplit(source["url"]).path)
            return f"/{name}" if name and not has_glob(source["url"]) else None
        path = source.get("path") or ""
        if not path or has_glob(path):
            return None
        backend = self.backend(source["datastore"])
        local = backend.local_path(path)
        is_file = local.is_file() if local is not None else backend.list_files(path) == [path]
        return "/" + posixpath.basename(path) if is_file else None

    def _whole_local_folder(self, record: dict[str, Any]) -> Path | None:
        """The local folder a FileDataset is exactly (one folder source, no glob, no transformation)."""
        definition = record["definition"]
        sources = definition.get("sources", [])
        if len(sources) != 1 or "datastore" not in sources[0] or definition.get("transformations"):
            return None
        path = sources[0]["path"]
        if any(c in path for c in "*?["):
            return None
        local = self.backend(sources[0]["datastore"]).local_path(path)
        return local if local is not None and local.is_dir() else None

    # -- materialize ---------------------------------------------------------------------------

    def materialize(self, resolved: list[ResolvedInput], run_dir: Path) -> list[str]:
        """Create what the step reads: copies for download inputs, views for mounted ones.

        Returns notices for the step's log (a mount that had to become a download, and why).
        """
        step_inputs = RunLayout(run_dir).inputs
        notices: list[str] = []
        for r in resolved:
            at = r.materialized_at
            if at is None or not at.startswith(str(step_inputs)):
                continue  # direct, or mounted in place
            dest = Path(at)
            files = self.selected_files(r)
            if r.mode == "mount":
                notice = self._mount(r, files, dest, run_dir)
                if notice is None:
                    continue
                notices.append(notice)
            self._download(files, dest)
        return notices

    def selected_files(self, r: ResolvedInput) -> list[DatasetFile]:
        """The files a resolved input selects (a dataset's, or those at a datastore path), each with the
        path it appears under in the step's folder for the input (``display``)."""
        return self._dataset_files(r) if r.dataset is not None else self._datastore_files(r)

    def _datastore_files(self, r: ResolvedInput) -> list[DatasetFile]:
        """The files of a datastore path (an upstream output, a DataPath), by their path below it."""
        if r.path not in self._sources:
            raise DataAccessError(f"Cannot find where input {r.name!r} lives.")
        datastore, path = self._sources[r.path]
        files = check_listed_names(datastore, self.backend(datastore).list_files(path))
        if files == [path]:  # a single file: it appears by its name
            return [DatasetFile(datastore, path, path, "/" + path.rpartition("/")[2])]
        below = [rel[len(path) :].lstrip("/") if path else rel for rel in files]
        return [DatasetFile(datastore, rel, rel, "/" + sub) for rel, sub in zip(files, below, strict=True)]

    def _dataset_files(self, r: ResolvedInput) -> list[DatasetFile]:
        assert r.dataset is not None
        definition = r.dataset["definition"]
        files = resolve(definition.get("sources", []), self.access).files
        return apply_file_transformations(files, definition.get("transformations", []), self.access)

    def _download(self, files: list[DatasetFile], dest: Path) -> None:
        """Copy the files under ``dest`` by their display paths, each datastore's in parallel."""
        by_store: dict[str, list[tuple[str, Path]]] = {}
        for f in files:
            target = dest / f.display.lstrip("/")
            if f.datastore is None:
                self.access.fetch(f, target)
            else:
                by_store.setdefault(f.datastore, []).append((f.path, target))
        for name, pairs in by_store.items():
            try:
                self.backend(name).get_files(pairs, overwrite=True)
            except FileNotFoundError as exc:
                raise DataAccessError(
                    f"A file of datastore {name!r} disappeared before the step could read it: {exc}.",
                    hint="Retry once the data stops changing.",
                ) from exc

    def _mount(self, r: ResolvedInput, files: list[DatasetFile], dest: Path, run_dir: Path) -> str | None:
        """Mount ``files`` at ``dest``: links to local files, a FUSE view of remote ones.

        Returns None when mounted, else the notice saying why the files are downloaded instead.
        """
        local = [self.access.local_path(f) for f in files]
        if all(p is not None for p in local):
            for f, p in zip(files, local, strict=True):
                assert p is not None
                target = dest / f.display.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(p, target)
            return None
        stores = {f.datastore for f in files}
        if len(stores) != 1 or None in stores:
            reason = "its files are not all on one remote datastore (URLs, or several datastores)"
        else:
            name = stores.pop()
            assert name is not None
            record = self.store.get_datastore(name)
            assert record is not None  # its backend was opened from it
            from headwater.engine.remote_mount import MountUnavailable, mount_remote  # FUSE: remote mounts only

            try:
                mount = mount_remote(
                    {"name": record.name, "kind": record.kind, "config": record.config},
                    self.workspace.folder,
                    {f.display.lstrip("/"): f.path for f in files},
                    dest,
                    RunLayout(run_dir).system_log(f"mount_{r.name}.txt"),
                )
            except MountUnavailable as exc:
                reason = f"a FUSE mount is not available here: {exc}"
            else:
                self._mounts.setdefault(run_dir, []).append(mount)
                return None
        return (
            f"input {r.name!r} (as_mount) was downloaded to {dest} instead of mounted: {reason}. "
            f"Its {len(files)} file(s) were copied before the step started."
        )

    def release(self, run_dir: Path) -> None:
        """Unmount the FUSE views of the step whose run folder is ``run_dir`` (it has ended)."""
        for mount in self._mounts.pop(run_dir, []):
            mount.stop()

    # -- registration --------------------------------------------------------------------------

    def register_output(self, o: OutputSpec, datastore: str, path: str, run_id: str) -> None:
        """``register_on_complete``: a new version of a dataset pointing at the committed output."""
        assert o.register is not None
        reg = o.register
        tabular = reg.get("tabular")
        kind = "tabular" if tabular else "file"
        if tabular:
            definition = tabular_definition(datastore, path, tabular)
        else:
            definition = {
                "format": DEFINITION_FORMAT,
                "sources": [{"datastore": datastore, "path": path}],
                "reader": None,
                "partition_format": None,
                "transformations": [],
            }
        files = resolve(definition["sources"], self.access).files
        digests = self.access.digests(files)
        self.store.register_dataset_version(
            reg["name"],
            kind=kind,
            definition=definition,
            digest=tree_digest(digests),
            file_digests=digests,
            description=reg.get("description"),
            tags={**(reg.get("tags") or {}), "headwater.run_id": run_id},
            create_new_version=True,
        )

    def close(self) -> None:
        for run_dir in list(self._mounts):
            self.release(run_dir)
        self.access.close()
