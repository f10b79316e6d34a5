"""``headwater gc``: remove what old runs left behind, and say how much it freed.

What goes:

* **outputs** of old runs' steps on their datastores (local, Azure Blob, S3: through the
  datastore's backend). A run is old when it ended before ``older_than`` ago, or — with
  ``keep_last`` — when it is not among the newest N top-level runs of its experiment (both
  given: both must hold). The output records of a removed output stop vouching for reuse (their
  digest is forgotten) and the run gets the :data:`~headwater.engine.output_check.GC_PROPERTY`
  property, so a later submit re-runs the step and says "the outputs of run X were removed by
  headwater gc".
* **staging leftovers**: ``runs/<id>/staging`` of old step runs that ended (a killed or failed step's
  half-written outputs; nothing reads them), and the ring file of a capped log
  (``user_logs/.std_log.txt.tail``) that a dead orchestrator could not finish.
* **snapshots** (``<ws>/snapshots/<digest>/``) that no kept run uses; their small manifest
  (``<digest>.json``, for "train.py changed") stays, and a submit stores the folder again when
  needed. A snapshot a submit touched in the last hour is kept (its run may not be recorded yet).
* **model files** (``<ws>/models/``) that no registered model version lists any more (after
  ``Model.delete``); a registered version's files always stay. A file written or reused by a
  registration in the last hour is kept (its version may not be recorded yet).
* **progress folders** of ParallelRunSteps (``<ws>/parallel/progress/<fingerprint>/``) unchanged
  for ``older_than`` that no running driver holds (:mod:`headwater.ops.gc_progress`).
* **built environments** that :func:`headwater.engine.environments.prune` would remove for the
  ``keep`` set the caller gives (registered and curated environments).

What stays, whatever its age: anything a live run (not ended) uses; what the newest runs use;
every location that a :data:`HOLDERS` function names. Today that is every version of every
registered dataset and the snapshots of every published pipeline; models add a holder when they exist. An output is
removed only when no kept run has an output record at, above or below its path.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from headwater.engine.output_check import GC_PROPERTY
from headwater.layout import RunLayout, WorkspaceLayout
from headwater.status import TERMINAL, StepRunStatus
from headwater.store.datastores import DatastoreBackend, backend_for
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunOutputRecord, RunRecord, utcnow

__all__ = ["ENDED", "GcItem", "GcReport", "HOLDERS", "Hold", "collect_garbage", "parse_age"]

#: Statuses after which a run (any of SDK v1's three vocabularies) changes no more.
ENDED = TERMINAL  # how runs end (headwater.status)
#: A snapshot whose manifest a submit wrote this recently is kept: its run may not be recorded yet.
RECENT_SNAPSHOT_SECONDS = 3600
KINDS = ("outputs", "staging", "snapshots", "environments", "models", "progress")


@dataclass(frozen=True)
class Hold:
    """Something that must outlive gc, and who needs it (``what``: "dataset 'x' version 2").

    A hold names a location on a datastore (``datastore`` and ``path``: everything at, above or
    below it stays), every output of a run (``run_id``), or a snapshot (``snapshot_id``).
    """

    what: str
    datastore: str | None = None
    path: str | None = None
    run_id: str | None = None
    snapshot_id: str | None = None


#: A function that names what must be kept, given the workspace's metadata store.
Holder = Callable[[MetadataStore], Iterable[Hold]]


def _literal_prefix(path: str) -> str:
    """The folder part of ``path`` before its first glob character ('' is the whole datastore)."""
    cut = min((i for i, c in enumerate(path) if c in "*?["), default=None)
    if cut is None:
        return path.strip("/")
    return path[:cut].rsplit("/", 1)[0].strip("/") if "/" in path[:cut] else ""


def registered_datasets(store: MetadataStore) -> Iterator[Hold]:
    """Every version of every registered dataset holds the datastore locations it reads."""
    for name in store.dataset_names():
        for record in store.list_dataset_versions(name):
            for source in record.definition.get("sources") or []:
                if isinstance(source, dict) and source.get("datastore") is not None:
                    yield Hold(
                        f"dataset {name!r} version {record.version}",
                        datastore=str(source["datastore"]),
                        path=_literal_prefix(str(source.get("path") or "")),
                    )


def published_pipelines(store: MetadataStore) -> Iterator[Hold]:
    """Every published pipeline (Disabled ones too: they can be enabled) holds the snapshots it runs."""
    for record in store.list_published_pipelines(active_only=False):
        for snapshot_id in record.properties.get("snapshot_ids") or []:
            yield Hold(f"published pipeline {record.name or record.id!r}", snapshot_id=str(snapshot_id))


def drafts_and_modules(store: MetadataStore) -> Iterator[Hold]:
    """Pipeline drafts and module versions run frozen copies of their sources: each holds its snapshots."""
    for draft in store.list_drafts():
        for step in draft.graph.get("steps") or []:
            yield Hold(f"pipeline draft {draft.name!r}", snapshot_id=Path(step["source_directory"]).name)
    for version in store.list_all_module_versions():
        if version.definition.get("snapshot_id"):
            yield Hold(f"module version {version.version}", snapshot_id=str(version.definition["snapshot_id"]))


#: What gc asks before removing anything. Models plug in here too.
HOLDERS: list[Holder] = [registered_datasets, published_pipelines, drafts_and_modules]


@dataclass(frozen=True)
class GcItem:
    kind: str  # 'outputs' | 'staging' | 'snapshots' | 'environments' | 'models' | 'progress'
    what: str  # "workspaceblobstore:azureml/<id>/out", a folder, a digest
    bytes: int
    runs: tuple[str, ...] = ()


@dataclass
class GcReport:
    """What gc removed (or, with ``dry_run``, would remove) and what it kept on purpose."""

    dry_run: bool
    removed: list[GcItem] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (output location, why)
    errors: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return sum(item.bytes for item in self.removed)

    def totals(self) -> dict[str, dict[str, int]]:
        out = {kind: {"count": 0, "bytes": 0} for kind in KINDS}
        for item in self.removed:
            out[item.kind]["count"] += 1
            out[item.kind]["bytes"] += item.bytes
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "freed_bytes": self.freed_bytes,
            "removed": self.totals(),
            "items": [{"kind": i.kind, "what": i.what, "bytes": i.bytes, "runs": list(i.runs)} for i in self.removed],
            "kept": [{"what": what, "why": why} for what, why in self.kept],
            "errors": self.errors,
        }


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` or a number of days, as a timedelta; ValueError otherwise."""
    units = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
    raw = text.strip().lower()
    unit = raw[-1:] if raw[-1:] in units else "d"
    number = raw[:-1] if raw[-1:] in units else raw
    value = float(number)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return timedelta(seconds=value * units[unit])


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _overlaps(a: str, b: str) -> bool:
    """Whether datastore paths ``a`` and ``b`` are the same, or one is inside the other."""
    a, b = a.strip("/"), b.strip("/")
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _folder_size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


def _output_size(backend: DatastoreBackend, path: str) -> int:
    local = backend.local_path(path)
    if local is not None:
        return _folder_size(local) if local.is_dir() else (local.lstat().st_size if local.exists() else 0)
    total = 0
    for rel in backend.list_files(path):
        try:
            total += int(backend.info(rel).get("size") or 0)
        except (OSError, ValueError):
            pass
    return total


class _Selection:
    """Which runs are collected and which are kept, by their top-level run."""

    def __init__(self, runs: list[RunRecord], *, cutoff: datetime | None, keep_last: int | None) -> None:
        by_id = {r.id: r for r in runs}

        def top(r: RunRecord) -> RunRecord:
            seen = set()
            while r.parent_id and r.parent_id in by_id and r.id not in seen:
                seen.add(r.id)
                r = by_id[r.parent_id]
            return r

        members: dict[str, list[RunRecord]] = {}
        for r in runs:
            members.setdefault(top(r).id, []).append(r)
        newest: set[str] = set()
        if keep_last is not None:
            per_experiment: dict[str, list[RunRecord]] = {}
            for r in runs:
                if top(r).id == r.id:
                    per_experiment.setdefault(r.experiment_id, []).append(r)
            for group in per_experiment.values():
                group.sort(key=lambda r: (r.created_at, r.id), reverse=True)
                newest.update(r.id for r in group[:keep_last])
        self.collected: set[str] = set()  # run ids (every member of a collected top-level run)
        self.live: set[str] = set()
        for top_id, group in members.items():
            head = by_id[top_id]
            # Live: the run has not ended, or a step of it is still recorded as running. (A step
            # left NotStarted by an orchestrator that died does not keep an ended run alive.)
            if head.status not in ENDED or any(r.status == StepRunStatus.Running for r in group):
                self.live.update(r.id for r in group)
                continue
            if top_id in newest:
                continue
            ended = _parse_time(head.ended_at) or _parse_time(head.created_at)
            if cutoff is not None and (ended is None or ended >= cutoff):
                continue
            self.collected.update(r.id for r in group)
        self.runs = by_id


def collect_garbage(
    ws_folder: Path,
    store: MetadataStore,
    *,
    older_than: timedelta | None = None,
    keep_last: int | None = None,
    dry_run: bool = False,
    environments_root: Path | None = None,
    keep_environments: set[str] | None = None,
    holders: Iterable[Holder] | None = None,
    now: datetime | None = None,
) -> GcReport:
    """Remove old runs' outputs, staging leftovers, unused snapshots and built environments.

    ``older_than`` and ``keep_last`` choose the old runs (at least one must be given);
    environments are pruned only when ``environments_root`` and ``keep_environments`` are given.
    With ``dry_run`` nothing is removed and the report says what would be.
    """
    if older_than is None and keep_last is None:
        raise ValueError("give older_than, keep_last or both")
    now = now or datetime.now(UTC)
    cutoff = None if older_than is None else now - older_than
    report = GcReport(dry_run=dry_run)
    runs = store.list_runs()
    selection = _Selection(runs, cutoff=cutoff, keep_last=keep_last)
    holds = [h for holder in (HOLDERS if holders is None else holders) for h in holder(store)]
    _outputs(ws_folder, store, selection, holds, report)
    _staging(ws_folder, selection, report)
    _snapshots(ws_folder, selection, holds, report)
    _model_files(ws_folder, store, report)
    if older_than is not None:  # ParallelRunStep progress folders: by age only (headwater.ops.gc_progress)
        from headwater.ops.gc_progress import progress_folders

        for name, size in progress_folders(ws_folder, older_than, dry_run=dry_run):
            report.removed.append(GcItem("progress", name, size))
    if environments_root is not None and keep_environments is not None:
        _environments(environments_root, keep_environments, older_than, report)
    return report


def _outputs(ws_folder: Path, store: MetadataStore, selection: _Selection, holds: list[Hold], report: GcReport) -> None:
    kept_refs: list[tuple[str, str, str]] = []  # (datastore, path, why)
    candidates: dict[tuple[str, str], list[RunOutputRecord]] = {}
    held_runs = {h.run_id: h.what for h in holds if h.run_id}
    for run_id in selection.runs:
        outputs = store.get_run_outputs(run_id)
        if run_id in selection.collected and run_id not in held_runs:
            for out in outputs:
                if out.digest is not None:
                    candidates.setdefault((out.datastore, out.path), []).append(out)
            continue
        why = held_runs.get(run_id) or (
            f"run {run_id} is still running" if run_id in selection.live else f"run {run_id} is kept"
        )
        kept_refs.extend((o.datastore, o.path, why) for o in outputs)
    kept_refs.extend((h.datastore, h.path or "", h.what) for h in holds if h.datastore is not None)
    backends: dict[str, DatastoreBackend | None] = {}

    def backend(name: str) -> DatastoreBackend | None:
        if name not in backends:
            record = store.get_datastore(name)
            try:
                backends[name] = None if record is None else backend_for(record, ws_folder)
            except Exception as exc:  # credentials missing, a kind this install cannot open
                report.errors.append(f"datastore {name!r}: {exc}")
                backends[name] = None
        return backends[name]

    try:
        for (datastore, path), records in sorted(candidates.items()):
            where = f"{datastore}:{path}"
            holder = next((why for d, p, why in kept_refs if d == datastore and _overlaps(p, path)), None)
            if holder is not None:
                report.kept.append((where, f"{holder} uses it"))
                continue
            b = backend(datastore)
            if b is None:
                continue
            try:
                size = _output_size(b, path)
                if not report.dry_run:
                    # Forgotten first: a submit deciding now re-runs the step rather than reuse
                    # an output that is about to go. A failed delete leaves it merely unreusable.
                    _forget(store, records)
                    if b.exists(path):
                        b.delete(path, recursive=True)
            except Exception as exc:  # a remote store's error: report it and go on
                report.errors.append(f"output {where}: {type(exc).__name__}: {exc}")
                continue
            report.removed.append(GcItem("outputs", where, size, tuple(sorted({r.run_id for r in records}))))
    finally:
        for b in backends.values():
            if b is not None:
                b.close()


def _forget(store: MetadataStore, records: list[RunOutputRecord]) -> None:
    """The removed output no longer vouches for reuse, and its runs say that gc removed it."""
    stamp = utcnow()
    for r in records:
        store.put_run_output(RunOutputRecord(r.run_id, r.name, r.datastore, r.path, None))
    for run_id in sorted({r.run_id for r in records}):
        if GC_PROPERTY not in store.get_properties(run_id):
            store.add_properties(run_id, {GC_PROPERTY: stamp})


def _staging(ws_folder: Path, selection: _Selection, report: GcReport) -> None:
    runs_root = WorkspaceLayout(ws_folder).runs
    if not runs_root.is_dir():
        return
    # staging folders, and the ring file of a capped log whose orchestrator died before finishing it
    every = RunLayout("*")
    for staging in sorted([*runs_root.glob(str(every.staging)), *runs_root.glob(str(every.std_log_ring))]):
        run_id = staging.relative_to(runs_root).parts[0]
        run = selection.runs.get(run_id)
        if run is None or run_id not in selection.collected or run.status not in ENDED:
            continue  # a kept run, or one this workspace does not know (it may be starting)
        if staging.is_file():
            size, empty = staging.stat().st_size, False
            if not report.dry_run:
                staging.unlink(missing_ok=True)
        else:
            size = _folder_size(staging)
            empty = not any(files for _base, _dirs, files in os.walk(staging))
            if not report.dry_run:
                shutil.rmtree(staging, ignore_errors=True)
        if not empty:  # a committed output leaves its empty staging folder: not worth a line
            report.removed.append(GcItem("staging", str(staging.relative_to(ws_folder)), size, (run_id,)))


def _snapshots(ws_folder: Path, selection: _Selection, holds: list[Hold], report: GcReport) -> None:
    root = WorkspaceLayout(ws_folder).snapshots
    if not root.is_dir():
        return
    used = {r.snapshot_id for run_id, r in selection.runs.items() if run_id not in selection.collected}
    used |= {h.snapshot_id for h in holds if h.snapshot_id}
    for entry in sorted(root.iterdir()):
        if not entry.is_dir() or entry.name in used:
            continue
        manifest = WorkspaceLayout(ws_folder).snapshot_manifest(entry.name)
        touched = max(_mtime(manifest), _mtime(entry))
        if time.time() - touched < RECENT_SNAPSHOT_SECONDS:
            continue  # a submit stored or used it just now
        size = _folder_size(entry)
        if not report.dry_run:
            _remove_tree(entry)
        report.removed.append(GcItem("snapshots", entry.name, size))


def _model_files(ws_folder: Path, store: MetadataStore, report: GcReport) -> None:
    """Remove stored model files that no registered version lists (and no registration just used)."""
    root = WorkspaceLayout(ws_folder).models
    if not root.is_dir():
        return
    used = store.model_file_digests()
    for shard in sorted(root.iterdir()):
        for entry in sorted(shard.iterdir()) if shard.is_dir() else ():
            if entry.name in used or time.time() - _mtime(entry) < RECENT_SNAPSHOT_SECONDS:
                continue
            size = entry.stat().st_size
            if not report.dry_run:
                entry.unlink()
            report.removed.append(GcItem("models", entry.name, size))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove_tree(path: Path) -> None:
    """Remove a read-only snapshot folder (renamed aside first, so no one sees it half deleted)."""
    from headwater.plan.snapshots import discard

    for base, dirs, _files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(base, name), 0o755)
    os.chmod(path, 0o755)
    discard(path)


def _environments(root: Path, keep: set[str], older_than: timedelta | None, report: GcReport) -> None:
    from headwater.engine.environments import RECENT_USE_SECONDS, last_used, list_environments, prune

    unused_for = max(float(RECENT_USE_SECONDS), older_than.total_seconds() if older_than else 0.0)
    candidates = {}
    for built in list_environments(root):
        if built.path is None or built.digest in keep or time.time() - last_used(built.path) < unused_for:
            continue
        candidates[built.digest] = _folder_size(built.path)
    if report.dry_run:
        removed = sorted(candidates)
    else:
        removed = prune(root, keep | (set(_digests(root)) - set(candidates)), unused_for=unused_for)
    for digest in removed:
        report.removed.append(GcItem("environments", digest, candidates.get(digest, 0)))


def _digests(root: Path) -> Iterator[str]:
    from headwater.engine.environments import list_environments

    for built in list_environments(root):
        yield built.digest
