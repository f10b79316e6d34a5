"""The studio's dataset queries: registered datasets, their versions and files, whether the data
changed since a version was registered, and lineage (the runs that produced and consumed it).

Lineage comes from what runs record, nothing new is written:

- a version registered by a step's output (``OutputFileDatasetConfig.register_on_complete``)
  carries the producing run's id in its ``headwater.run_id`` tag
  (:meth:`headwater.engine.inputs.InputResolver.register_output`);
- a step that ran records each input in its run's definition,
  ``{"inputs": {name: {"mode", "path", "dataset_id"}}}``
  (:meth:`headwater.engine.step_runner.StepRunner.launch`): the consumers of a version are the runs
  whose inputs name its id (a step that was reused did not read the data itself; the run it reused
  did, and is listed).

:func:`data_changed` is ``Dataset.data_changed()`` for a stored version: the files it selects
now, compared with the digests recorded at registration; local files go through the workspace's
digest cache, so an unchanged file costs one ``stat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.store.metadata import MetadataStore
from headwater.store.records import DatasetRecord, RunRecord

__all__ = [
    "PRODUCER_TAG",
    "Consumer",
    "DatasetSummary",
    "consumers",
    "data_changed",
    "dataset_summaries",
    "producer",
    "run_datasets",
]

#: The tag a version registered by a step's output carries: the producing run's id.
PRODUCER_TAG = "headwater.run_id"


@dataclass(frozen=True)
class DatasetSummary:
    """One registered dataset on the datasets list: its latest version and how many there are."""

    latest: DatasetRecord
    versions: int


@dataclass(frozen=True)
class Consumer:
    """A run that read a dataset version, as its input ``input_name``."""

    run: RunRecord
    input_name: str
    mode: str | None


def dataset_summaries(store: MetadataStore) -> list[DatasetSummary]:
    """Every registered dataset (latest version), by name."""
    counts: dict[str, int] = {}
    latest = store.list_datasets()
    for record in latest:
        counts[record.name or ""] = int(record.version or 0)
    return [DatasetSummary(r, counts[r.name or ""]) for r in latest]


def producer(store: MetadataStore, record: DatasetRecord) -> RunRecord | None:
    """The run whose output this version is (registered on completion), or None."""
    run_id = (record.tags or {}).get(PRODUCER_TAG)
    return None if not run_id else store.get_run(str(run_id))


def consumers(store: MetadataStore, record: DatasetRecord, *, limit: int = 200) -> list[Consumer]:
    """The runs that took this version as an input, newest first (at most ``limit``)."""
    found: list[Consumer] = []
    for run in store.list_runs_definition_mentions(record.id, limit=limit):
        inputs = (run.definition or {}).get("inputs") or {}
        for name, spec in sorted(inputs.items()):
            if isinstance(spec, dict) and spec.get("dataset_id") == record.id:
                found.append(Consumer(run, name, spec.get("mode")))
    return found


def run_datasets(
    store: MetadataStore, run: RunRecord
) -> tuple[list[tuple[RunRecord, DatasetRecord]], list[tuple[RunRecord, str, DatasetRecord]]]:
    """The registered dataset versions ``run`` (or, for a pipeline run, its steps) produced, as
    ``(run, version)``, and consumed, as ``(run, input name, version)``."""
    runs = [run, *(reversed(store.list_runs(parent_id=run.id)) if run.kind == "pipeline" else [])]
    by_id = {r.id: r for r in runs}
    produced = [
        (by_id[str(v.tags[PRODUCER_TAG])], v)
        for name in store.dataset_names()
        for v in store.list_dataset_versions(name)
        if str((v.tags or {}).get(PRODUCER_TAG)) in by_id
    ]
    consumed: list[tuple[RunRecord, str, DatasetRecord]] = []
    for r in runs:
        for input_name, spec in sorted(((r.definition or {}).get("inputs") or {}).items()):
            dataset_id = spec.get("dataset_id") if isinstance(spec, dict) else None
            record = store.get_dataset_by_id(dataset_id) if dataset_id else None
            if record is not None and record.name is not None:
                consumed.append((r, input_name, record))
    return produced, consumed


def data_changed(store: MetadataStore, ws_folder: Path, ws_name: str, record: DatasetRecord) -> dict[str, list[str]]:
    """``{'added': [...], 'removed': [...], 'modified': [...]}``: the files of ``record`` that differ
    now from what it recorded at registration (all empty: unchanged).

    Raises :class:`~headwater.errors.HeadwaterError` when the data cannot be read (a datastore gone ...).
    """
    from headwater.data.files import DataAccess, apply_file_transformations, compare_digests, resolve
    from headwater.engine.inputs import WorkspaceHandle

    definition: dict[str, Any] = record.definition
    with DataAccess(WorkspaceHandle(store, ws_folder, ws_name)) as access:
        files = resolve(definition.get("sources", []), access).files
        if record.kind == "file":
            files = apply_file_transformations(files, definition.get("transformations", []), access)
        return compare_digests(record.file_digests or {}, access.digests(files))
