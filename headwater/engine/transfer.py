"""DataTransferStep's process: copy files between two datastores and verify every copy.

The step runs like any other (its own process, logs, cancel, timeout, reuse):
``python -m headwater.engine.transfer --workspace-folder W --source LOC --destination LOC ...``
where a location is JSON ``{"store": {"name", "kind", "config"}, "path": "a/b"}`` (the datastore
record carries no credentials, only references that :func:`~headwater.store.datastores.backend_for`
resolves from the workspace folder), or a local folder (``--source-local``: an upstream output
as the step sees it; ``--destination-local``: the step's output staging folder, committed by the
orchestrator when the step succeeds).

Files are copied in batches: a local source file is uploaded as it is; a remote one is first
downloaded into a temporary folder (parallel ``get_files``), checked against the source store's
own fingerprint, uploaded (parallel ``put_files``), then deleted. Every destination file is then
checked against the bytes it was copied from: its size (as the destination reports it), then its
content digest as the store computed it from what it received (its MD5: Azure's Content-MD5, a
single-part S3 ETag; on a local folder the BLAKE3 of the file). Headwater's BLAKE3 recorded as
object metadata is not enough: the uploader computed it from the source, so it would vouch for
any bytes; a copy without a store-computed MD5 is read back and hashed. A mismatch fails
the step naming the file. A summary goes to the step's log.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.data.files import check_listed_names
from headwater.errors import DataAccessError, HeadwaterError
from headwater.plan.digests import file_digest, stream_digest
from headwater.store.datastores import DatastoreBackend, LocalBackend, backend_for
from headwater.store.records import DatastoreRecord

__all__ = [
    "REFERENCE_TYPES",
    "TransferVerificationError",
    "FileCopy",
    "plan_copies",
    "copy_files",
    "verify_copies",
    "main",
]

#: SDK v1's ``source_reference_type`` / ``destination_reference_type`` values (None: decided by what exists).
REFERENCE_TYPES = ("file", "directory")
#: Files per batch: bounds the temporary disk space a remote-to-remote copy needs.
BATCH_FILES = 64
_GLOB_CHARS = "*?["


class TransferVerificationError(DataAccessError):
    """A copied file differs from its source (size or content digest)."""


@dataclass(frozen=True)
class FileCopy:
    """One file to copy: its path on the source and on the destination."""

    source: str
    target: str


@dataclass
class _Reference:
    """The bytes a destination file must equal: a local file, hashed at most once per algorithm."""

    path: Path
    _digests: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def blake3(self) -> str:
        if "blake3" not in self._digests:
            self._digests["blake3"] = file_digest(self.path)
        return self._digests["blake3"]

    def md5(self) -> str:
        if "md5" not in self._digests:
            h = hashlib.md5(usedforsecurity=False)
            with open(self.path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            self._digests["md5"] = h.hexdigest()
        return self._digests["md5"]

    def matches(self, claim: str) -> bool | None:
        """Whether a store's fingerprint ``claim`` describes these bytes (None: it cannot say)."""
        if claim.startswith("etag:"):
            return None
        if claim.startswith("md5:"):
            return claim[4:] == self.md5()
        return claim == self.blake3()


# -- what to copy --------------------------------------------------------------------------------


def _where(backend: DatastoreBackend, path: str) -> str:
    shown = path or "/"
    return f"{shown!r} on datastore {backend.name!r} ({getattr(backend, 'location', backend.root)})"


def _glob_base(path: str) -> str:
    """The folder part of a glob before its first wildcard (``raw/2024/*.csv`` -> ``raw/2024``)."""
    cut = min(path.index(c) for c in _GLOB_CHARS if c in path)
    return path[:cut].rpartition("/")[0]


def _source_files(backend: DatastoreBackend, path: str, source_type: str | None) -> tuple[list[tuple[str, str]], bool]:
    """``[(path on the source, name below the copy's root)]`` and whether the source is one file."""
    if any(c in path for c in _GLOB_CHARS):
        base = _glob_base(path)
        found = check_listed_names(backend.name, backend.glob(path))
        if not found:
            raise DataAccessError(
                f"DataTransferStep source: nothing matches {_where(backend, path)}.",
                path=path,
                hint="Check the pattern and that the files have been uploaded.",
            )
        return [(rel, rel[len(base) :].lstrip("/") if base else rel) for rel in found], False
    files = check_listed_names(backend.name, backend.list_files(path))
    if not files:
        what = "is an empty folder" if path and backend.exists(path) else "does not exist"
        if what == "is an empty folder" and source_type != "file":
            return [], False
        raise DataAccessError(
            f"DataTransferStep source {_where(backend, path)} {what}.",
            path=path,
            hint="Check the datastore and the path (upload the data first, or correct path_on_datastore).",
        )
    single = files == [path] and bool(path)
    if single and source_type == "directory":
        raise DataAccessError(
            f"DataTransferStep source {_where(backend, path)} is a file, but source_reference_type='directory'.",
            path=path,
            hint="Pass source_reference_type='file' (or leave it out).",
        )
    if not single and source_type == "file":
        raise DataAccessError(
            f"DataTransferStep source {_where(backend, path)} is a folder, but source_reference_type='file'.",
            path=path,
            hint="Pass source_reference_type='directory' (or leave it out).",
        )
    if single:
        return [(path, posixpath.basename(path))], True
    return [(rel, rel[len(path) :].lstrip("/") if path else rel) for rel in files], False


def plan_copies(
    sources: Sequence[tuple[DatastoreBackend, str]],
    destination: DatastoreBackend,
    destination_path: str,
    *,
    source_type: str | None = None,
    destination_type: str | None = None,
) -> list[tuple[DatastoreBackend, FileCopy]]:
    """Every file to copy, in a stable order; raises DataAccessError naming what is wrong.

    A single source file goes to ``destination_path`` itself when that is (or is declared as) a
    file, else into it under its own name; a folder's files keep their paths below it.
    """
    listed = [(backend, _source_files(backend, path, source_type)) for backend, path in sources]
    single_file = len(listed) == 1 and listed[0][1][1]
    if destination_type == "file" and not single_file:
        raise DataAccessError(
            f"DataTransferStep destination {_where(destination, destination_path)} is declared a file "
            "(destination_reference_type='file') but the source is a folder or several files.",
            path=destination_path,
            hint="Use destination_reference_type='directory' (or leave it out).",
        )
    to_file = single_file and (
        destination_type == "file"
        or (destination_type is None and bool(destination_path) and _is_file(destination, destination_path))
    )
    copies: list[tuple[DatastoreBackend, FileCopy]] = []
    taken: dict[str, str] = {}
    for backend, (files, _single) in listed:
        for rel, name in files:
            if to_file:
                target = destination_path
            else:
                target = posixpath.join(destination_path, name) if destination_path else name
            if target in taken:
                raise DataAccessError(
                    f"DataTransferStep: two source files would be copied to the same destination {target!r}: "
                    f"{taken[target]} and {_where(backend, rel)}.",
                    path=target,
                    hint="Copy the sources with separate steps, or to separate destination folders.",
                )
            taken[target] = _where(backend, rel)
            copies.append((backend, FileCopy(rel, target)))
    return copies


def _is_file(backend: DatastoreBackend, path: str) -> bool:
    return backend.list_files(path) == [path]


# -- copying and verifying -----------------------------------------------------------------------


def verify_copies(destination: DatastoreBackend, copies: Sequence[tuple[Path, str]]) -> None:
    """Check each destination file against the local bytes it was copied from.

    ``copies`` are ``(local file, path on the destination)``. The size comes from the
    destination's listing, the digest from :meth:`content_digests` (read back and hashed when the
    store has no content digest). Raises :class:`TransferVerificationError` naming the first file
    that differs.
    """
    refs = {target: _Reference(local) for local, target in copies}
    claims = destination.content_digests(list(refs)) if refs else {}
    for target, ref in refs.items():
        info = destination.info(target)
        size = int(info.get("size") or 0)
        if size != ref.size:
            raise TransferVerificationError(
                f"DataTransferStep: the copy of {str(ref.path)!r} at {_where(destination, target)} has "
                f"{size} bytes, its source {ref.size}.",
                path=target,
                hint="The destination store changed or truncated the file; run the step again.",
            )
        same = ref.matches(claims[target])
        if same and not destination.is_local and not _is_store_digest(claims[target]):
            # Headwater's own BLAKE3, recorded as metadata from the local bytes by the uploader: it
            # says what was meant to be written, not what the store holds. The store's MD5 of what
            # it received (Azure's Content-MD5, a single-part S3 ETag) is evidence; else read back.
            same = True if _store_md5(info) == ref.md5() else None
        found = claims[target]
        if same is None:  # no independent content digest on the store: read the copy back
            with destination.open(target, "rb") as stream:
                read_back = stream_digest(stream)
            same, found = read_back == ref.blake3(), f"BLAKE3 {read_back} of the bytes read back"
        if not same:
            raise TransferVerificationError(
                f"DataTransferStep: the copy of {str(ref.path)!r} at {_where(destination, target)} differs "
                f"from its source (found {found!r}, expected BLAKE3 {ref.blake3()}).",
                path=target,
                hint="The destination store changed the bytes; run the step again.",
            )


def _is_store_digest(claim: str) -> bool:
    """Whether a fingerprint was computed by the store from the bytes it holds (not recorded by a client)."""
    return claim.startswith("md5:")


def _store_md5(info: dict[str, Any]) -> str | None:
    """The MD5 hex the store computed from an object's bytes, from its ``info()``, or None.

    Azure: ``content_settings.content_md5``. S3: the ETag when it is a plain MD5 (single-part
    upload; a multipart or KMS-encrypted object's ETag is not, and a mismatch only means "read back").
    """
    settings = info.get("content_settings")
    md5 = settings.get("content_md5") if isinstance(settings, dict) else None
    if md5:
        return bytes(md5).hex()
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"').lower()
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag):
        return etag
    return None


def _check_download(source: DatastoreBackend, downloaded: Sequence[tuple[str, Path]]) -> None:
    """Check downloaded copies of remote files against the source store's own fingerprints."""
    claims = source.content_digests([rel for rel, _ in downloaded])
    for rel, local in downloaded:
        if _Reference(local).matches(claims[rel]) is False:
            raise TransferVerificationError(
                f"DataTransferStep: the bytes read from {_where(source, rel)} do not match the store's "
                f"digest {claims[rel]!r}.",
                path=rel,
                hint="The file changed while it was copied, or the store returned corrupt data; run the step again.",
            )


@dataclass
class Summary:
    files: int = 0
    bytes: int = 0


def copy_files(
    copies: Sequence[tuple[DatastoreBackend, FileCopy]],
    destination: DatastoreBackend,
    *,
    temp_dir: Path,
    batch_files: int = BATCH_FILES,
    log: Any = None,
) -> Summary:
    """Copy and verify ``copies`` batch by batch (see the module docstring)."""
    summary = Summary()
    for start in range(0, len(copies), batch_files):
        batch = copies[start : start + batch_files]
        scratch = Path(tempfile.mkdtemp(prefix="batch-", dir=temp_dir))
        try:
            uploads: list[tuple[Path, str]] = []
            by_source: dict[int, tuple[DatastoreBackend, list[tuple[str, Path]]]] = {}
            for k, (backend, c) in enumerate(batch):
                local = backend.local_path(c.source)
                if local is None:
                    local = scratch / f"{k}-{posixpath.basename(c.source)}"
                    by_source.setdefault(id(backend), (backend, []))[1].append((c.source, local))
                uploads.append((local, c.target))
            for backend, pairs in by_source.values():
                backend.get_files(pairs, overwrite=True)
                _check_download(backend, pairs)
            destination.put_files(uploads, overwrite=True)
            verify_copies(destination, uploads)
            summary.files += len(uploads)
            summary.bytes += sum(local.stat().st_size for local, _ in uploads)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if log is not None:
            done = f"copied and verified {summary.files}/{len(copies)} files ({summary.bytes} bytes)"
            print(done, file=log, flush=True)
    return summary


# -- the process ---------------------------------------------------------------------------------


def _open(location: dict[str, Any], workspace_folder: Path) -> tuple[DatastoreBackend, str]:
    store = location["store"]
    record = DatastoreRecord(store["name"], store["kind"], dict(store["config"]))
    return backend_for(record, workspace_folder), str(location.get("path") or "")


def _open_local(path: str, name: str) -> tuple[DatastoreBackend, str]:
    p = Path(path)
    if p.is_file():
        return LocalBackend(name, p.parent), p.name
    return LocalBackend(name, p), ""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m headwater.engine.transfer", description=__doc__.split("\n")[0])
    p.add_argument("--workspace-folder", required=True)
    p.add_argument("--step-name", default="DataTransferStep")
    p.add_argument("--source", action="append", default=[], help="a location (JSON); repeatable")
    p.add_argument("--source-local", help="a local folder or file (an upstream output)")
    p.add_argument("--source-type", choices=REFERENCE_TYPES)
    p.add_argument("--destination", help="a location (JSON)")
    p.add_argument("--destination-local", help="the output staging folder")
    p.add_argument("--destination-type", choices=REFERENCE_TYPES)
    return p


def run(argv: Sequence[str]) -> Summary:
    """Parse ``argv``, copy and verify; raises HeadwaterError on any problem."""
    args = _parser().parse_args(list(argv))
    ws = Path(args.workspace_folder)
    backends: list[DatastoreBackend] = []
    try:
        sources = [_open(json.loads(s), ws) for s in args.source]
        if args.source_local:
            sources.append(_open_local(args.source_local, "source"))
        if not sources:
            raise DataAccessError("DataTransferStep has no source.")
        backends.extend(b for b, _ in sources)
        if args.destination:
            destination, dest_path = _open(json.loads(args.destination), ws)
        elif args.destination_local:
            destination, dest_path = LocalBackend("output", args.destination_local), ""
        else:
            raise DataAccessError("DataTransferStep has no destination.")
        backends.append(destination)
        started = time.monotonic()
        copies = plan_copies(
            sources, destination, dest_path, source_type=args.source_type, destination_type=args.destination_type
        )
        shown_sources = ", ".join(_where(b, p) for b, p in sources)
        print(
            f"{args.step_name}: copying {len(copies)} files from {shown_sources} to {_where(destination, dest_path)}",
            flush=True,
        )
        temp = Path(tempfile.mkdtemp(prefix=".transfer-", dir=Path.cwd()))
        try:
            summary = copy_files(copies, destination, temp_dir=temp, log=sys.stdout)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        seconds = time.monotonic() - started
        rate = summary.bytes / seconds / 1e6 if seconds > 0 else 0.0
        print(
            f"{args.step_name}: copied {summary.files} files, {summary.bytes} bytes in {seconds:.2f} s "
            f"({rate:.1f} MB/s); size and content digest of every file verified against its source.",
            flush=True,
        )
        return summary
    finally:
        for b in backends:
            close = getattr(b, "close", None)
            if close is not None:
                close()


def main(argv: Sequence[str] | None = None) -> int:
    """The step process's entry point: 0 when every file was copied and verified, else 1."""
    try:
        run(sys.argv[1:] if argv is None else argv)
    except (HeadwaterError, OSError) as exc:
        print(f"DataTransferStep failed: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
