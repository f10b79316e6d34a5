"""``check`` and ``backup`` of a workspace: the verbs behind ``headwater workspace check|backup``.

:func:`check_workspace` looks at, in order: the metadata database (SQLite's ``PRAGMA
integrity_check``; on PostgreSQL, a connection), its schema version against this Headwater's,
the runs whose folders are missing, and the committed outputs whose content no longer matches
the digest recorded when they were written. Output digests come through the workspace's digest
cache, so a file whose size, mtime and inode are unchanged is not read again. A problem found
stops nothing but the checks that need what is broken (no run can be listed from a damaged
database).

:func:`backup_workspace` copies a SQLite ``metadata.db`` with SQLite's online backup API, which
gives one consistent copy while runs keep writing; a PostgreSQL store is backed up with
``pg_dump`` instead (the error says how).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError, HeadwaterError, NotSupportedError
from headwater.layout import WorkspaceLayout
from headwater.store.datastores import DatastoreBackend, backend_for
from headwater.store.db import redact_url, sqlite_path
from headwater.store.maintenance import TABLES, backup_sqlite, sqlite_integrity_problems
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord
from headwater.store.schema import HEAD

__all__ = ["CheckReport", "Problem", "backup_workspace", "check_workspace"]


@dataclass(frozen=True)
class Problem:
    """One thing found wrong: ``kind`` is ``database``, ``schema``, ``run_folder`` or ``output``."""

    kind: str
    message: str
    run_id: str | None = None
    path: str | None = None


@dataclass
class CheckReport:
    """What :func:`check_workspace` looked at and found."""

    workspace: str
    folder: str
    metadata_url: str  # password redacted
    schema: str | None = None
    runs_checked: int = 0
    outputs_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # checks that could not run, and why

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "expected_schema": HEAD}


def _label(run: RunRecord) -> str:
    return f"{run.kind} run {run.id}" + (f" ({run.name!r})" if run.name else "")


def _expects_folder(run: RunRecord) -> bool:
    """Whether the run has a folder of its own: every run that started, unless it was reused (a
    reused step points at the run it reuses). A run whose submit failed never started, and its
    folder was removed with everything else the submit made."""
    return run.started_at is not None and run.reused_run_id is None


def _check_database(report: CheckReport, url: str) -> MetadataStore | None:
    """Integrity and schema; returns the store opened read-only, or None when it cannot be used."""
    path = sqlite_path(url)
    if path is not None:
        damage = sqlite_integrity_problems(path)
        if damage:
            report.problems += [Problem("database", d, path=str(path)) for d in damage]
            report.skipped.append("runs and outputs: the metadata database is damaged")
            return None
    try:
        store = MetadataStore.open(url, read_only=True)
    except HeadwaterError as exc:  # unreachable, or a schema this Headwater cannot read as is
        kind = "schema" if "schema" in str(exc) else "database"
        report.problems.append(Problem(kind, str(exc), path=None if path is None else str(path)))
        report.skipped.append("runs and outputs: the metadata store cannot be opened")
        return None
    report.schema = store.schema_revision()
    if store.is_postgres:
        missing = [t for t in TABLES if not store._db.table_exists(t)]
        if missing:
            report.problems.append(Problem("schema", f"tables missing: {', '.join(missing)}"))
    return store


def _check_outputs(report: CheckReport, store: MetadataStore, folder: Path, runs: list[RunRecord]) -> None:
    from headwater.engine.output_check import stored_output_digest
    from headwater.plan.digests import open_digest_cache, workspace_cache_path

    backends: dict[str, DatastoreBackend | None] = {}
    seen: set[tuple[str, str, str]] = set()
    # Runs that wrote their outputs first: a reused step run records the outputs it reused.
    ordered = sorted(runs, key=lambda r: r.reused_run_id is not None)
    cache = open_digest_cache(workspace_cache_path(folder))
    try:
        for run in ordered:
            for out in store.get_run_outputs(run.id):
                if out.digest is None:  # overwritten by a later run: no longer claimed
                    continue
                key = (out.datastore, out.path, out.digest)
                if key in seen:
                    continue
                seen.add(key)
                if out.datastore not in backends:
                    backends[out.datastore] = _backend(report, store, folder, out.datastore)
                backend = backends[out.datastore]
                if backend is None:
                    continue
                report.outputs_checked += 1
                where = f"{out.path!r} on datastore {out.datastore!r}"
                try:
                    current = stored_output_digest(backend, out.path, cache)
                except Exception as exc:  # a remote store's network or credential error: report it, go on
                    report.problems.append(
                        Problem(
                            "output",
                            f"output {out.name!r} of {_label(run)}: cannot read {where}: {exc}",
                            run_id=run.id,
                            path=out.path,
                        )
                    )
                    continue
                if current is None:
                    message = f"output {out.name!r} of {_label(run)} is missing ({where})"
                elif current != out.digest:
                    message = f"output {out.name!r} of {_label(run)} changed on disk since the run wrote it ({where})"
                else:
                    continue
                report.problems.append(Problem("output", message, run_id=run.id, path=out.path))
    finally:
        cache.close()
        for b in backends.values():
            if b is not None:
                b.close()


def _backend(report: CheckReport, store: MetadataStore, folder: Path, name: str) -> DatastoreBackend | None:
    record = store.get_datastore(name)
    if record is None:
        report.skipped.append(f"outputs on datastore {name!r}: it is no longer registered")
        return None
    try:
        return backend_for(record, folder)
    except HeadwaterError as exc:
        report.skipped.append(f"outputs on datastore {name!r}: {exc}")
        return None


def check_workspace(name: str, folder: Path, url: str, *, outputs: bool = True) -> CheckReport:
    """Check the workspace ``name`` at ``folder`` whose metadata store is at ``url``.

    ``outputs=False`` leaves out the output digests (the slow part on a large workspace).
    """
    report = CheckReport(name, str(folder), redact_url(url))
    store = _check_database(report, url)
    if store is None:
        return report
    try:
        runs = store.list_runs()
        report.runs_checked = len(runs)
        for run in sorted(runs, key=lambda r: (r.created_at, r.id)):
            run_dir = WorkspaceLayout(folder).run(run.id).folder
            if _expects_folder(run) and not run_dir.is_dir():
                report.problems.append(
                    Problem(
                        "run_folder",
                        f"{_label(run)} has no folder ({run_dir}): its logs are gone",
                        run_id=run.id,
                        path=str(run_dir),
                    )
                )
        if outputs:
            _check_outputs(report, store, folder, runs)
        else:
            report.skipped.append("outputs: not asked for")
    finally:
        store.close()
    return report


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    runs: int


def backup_workspace(name: str, url: str, dest: Path) -> BackupResult:
    """Copy the workspace's SQLite metadata database to ``dest`` (a new file, or an existing
    folder to put ``<name>-metadata-<UTC time>.db`` in), consistently even while runs write."""
    path = sqlite_path(url)
    if path is None:
        redacted = redact_url(url)
        raise NotSupportedError(
            f"Workspace {name!r} keeps its metadata in PostgreSQL ({redacted}); back it up with pg_dump",
            hint=f"Run: pg_dump --format=custom --file {dest} '{redacted}' (restore with pg_restore).",
        )
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"{name}-metadata-{stamp}.db"
    if dest.exists():
        raise ConfigurationError(
            f"The backup destination {dest} exists already", hint="Choose a new file name, or remove it first."
        )
    if not dest.parent.is_dir():
        raise ConfigurationError(
            f"The backup destination's folder {dest.parent} does not exist", hint="Create it first."
        )
    runs = backup_sqlite(path, dest)
    return BackupResult(dest, dest.stat().st_size, runs)
