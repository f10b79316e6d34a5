"""Content-addressed snapshots of a step's source directory, with SDK v1's ignore rules.

:func:`scan` digests the snapshot's files through the stat cache (:mod:`headwater.plan.digests`),
so re-scanning an unchanged folder is a stat walk with no reads. :func:`store_snapshot` writes
``<snapshots_root>/<digest>/`` once per digest, and ``<digest>.json`` which names changed files in
"why did this step re-run"; :func:`checkout` makes a step run's working copy of hard links, and
:func:`verify` tells whether a step wrote through one of them into the snapshot.

Which files belong to a snapshot, as in Azure ML SDK v1 (``azureml/_project/ignore_file.py``):

* Only the source directory's root is searched for an ignore file: ``.amlignore`` if it exists,
  else ``.gitignore``, never both; nested ignore files are not read.
* gitwildmatch patterns (``pathspec``), last match wins, tested on each file's and folder's path
  relative to the root. A folder whose own path matches (``data``) is not entered, so nothing in it
  can be re-included; a folder matched only as ``data/`` is entered by SDK v1 and a negation
  (``!data/keep.csv``) re-includes files in it. When the ignore file has no negation we skip such
  a folder unlisted (same result): an ignored 1 GB data folder costs one match, not a walk.
* No built-in exclusions: a ``.git`` folder, ``__pycache__``, notebook checkpoints and logs are
  hashed unless ignored. SDK v1 does the same, and it is a known cause of "my step never reuses"
  (``.git`` changes on every commit or fetch): add ``.git`` to ``.amlignore``.
* A symlinked file is hashed by its target's content; a symlink to a folder is followed only when
  the folder is inside the source directory and not a loop. Links out of the tree, broken links
  and unreadable or special files are left out with a :class:`SnapshotWarning` naming them.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError, DataAccessError
from headwater.plan.digests import NULL_CACHE, DigestCacheLike, file_digests, tree_digest

__all__ = [
    "SNAPSHOT_MAX_FILES", "SNAPSHOT_MAX_SIZE_BYTES", "SNAPSHOT_MTIME_NS", "Manifest", "SnapshotSizeWarning",
    "SnapshotWarning", "changed_files", "checkout", "discard", "ignore_file", "load_manifest", "scan",
    "store_snapshot", "verify",
]  # fmt: skip

#: SDK v1's limits (``azureml/_restclient/constants.py``); beyond them we warn, never fail.
SNAPSHOT_MAX_SIZE_BYTES = 300 * 1024 * 1024
SNAPSHOT_MAX_FILES = 2000

#: Every file in a stored snapshot has this mtime (1980-01-01, the ZIP epoch), so two stores of one
#: digest are identical and :func:`verify` needs no per-store record: a write through a hard link
#: sets the mtime to "now".
SNAPSHOT_MTIME_NS = 315_532_800 * 1_000_000_000

_IGNORE_FILES = (".amlignore", ".gitignore")
_MANIFEST_VERSION = 1
_FILE_MODE = 0o444
_DIR_MODE = 0o755
_CROSS_DEVICE = {errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP}


class SnapshotWarning(UserWarning):
    """A file or folder was left out of a snapshot (a broken symlink, a link out of the tree ...)."""


class SnapshotSizeWarning(SnapshotWarning):
    """A snapshot is larger than SDK v1 allows (300 MB or 2,000 files); it is still taken."""


@dataclass(frozen=True)
class Manifest:
    """What a snapshot holds: ``{relative posix path: BLAKE3 digest}`` and each file's size.

    ``digest`` is :func:`~headwater.plan.digests.tree_digest` of ``files`` (an empty folder has a
    fixed digest). ``mtimes`` are the source files' ``st_mtime_ns`` when scanned: they are not part
    of the digest; :func:`store_snapshot` uses them to notice a file edited after the scan.
    """

    files: dict[str, str]
    sizes: dict[str, int]
    mtimes: dict[str, int]
    total_size: int
    digest: str

    @property
    def file_count(self) -> int:
        """How many files the snapshot holds."""
        return len(self.files)


def changed_files(old: Manifest | Mapping[str, str], new: Manifest | Mapping[str, str]) -> list[str]:
    """Paths added, removed or edited between two manifests (or ``{path: digest}`` maps), sorted."""
    a = old.files if isinstance(old, Manifest) else old
    b = new.files if isinstance(new, Manifest) else new
    return sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))


# -- scanning ----------------------------------------------------------------------------------


def ignore_file(source_dir: str | os.PathLike[str]) -> Path | None:
    """The ignore file that applies to ``source_dir``: ``.amlignore``, else ``.gitignore``, else None."""
    for name in _IGNORE_FILES:
        path = Path(source_dir) / name
        if path.is_file():
            return path
    return None


def _pattern_class() -> Any:
    """pathspec's gitwildmatch pattern class (named ``GitIgnoreSpecPattern`` since pathspec 1.0)."""
    try:
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

        return GitIgnoreSpecPattern
    except ImportError:  # pathspec < 1.0: the same class under its old name
        from pathspec.patterns.gitwildmatch import GitWildMatchPattern

        return GitWildMatchPattern


def _load_spec(root: str) -> tuple[Any, bool]:
    """The compiled ignore rules (None without an ignore file) and whether folders may be pruned."""
    path = ignore_file(root)
    if path is None:
        return None, False
    import pathspec

    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        spec = pathspec.PathSpec.from_lines(_pattern_class(), lines)
    except (OSError, ValueError) as exc:  # unreadable, or a pattern pathspec rejects
        raise ConfigurationError(f"The ignore file cannot be used: {exc}", path=str(path)) from exc
    has_negation = any(p.include is False for p in spec.patterns)
    return spec, not has_negation


def _walk(root: str, spec: Any, prune: bool, problems: list[str]) -> Iterator[tuple[str, str, os.stat_result]]:
    """Yield ``(relative path, path, stat)`` of each snapshot file; skipped items go to ``problems``."""
    root_real = os.path.realpath(root)
    stack: list[tuple[str, str, str, frozenset[str]]] = [(root, "", root_real, frozenset({root_real}))]
    while stack:
        folder, prefix, real_folder, ancestors = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            problems.append(f"folder {prefix or '.'!r} could not be listed ({exc.strerror})")
            continue
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if spec is not None and (spec.match_file(rel) or (is_dir and prune and spec.match_file(rel + "/"))):
                continue
            is_link = entry.is_symlink()
            if is_dir:
                if is_link:
                    real = os.path.realpath(entry.path)
                    if real != root_real and not real.startswith(root_real + os.sep):
                        problems.append(f"symlink {rel!r} points to a folder outside the source directory")
                        continue
                    if real in ancestors:
                        problems.append(f"symlink {rel!r} loops back to a folder that contains it")
                        continue
                else:
                    real = os.path.join(real_folder, entry.name)
                stack.append((entry.path, rel + "/", real, ancestors | {real}))
                continue
            try:
                is_file = entry.is_file()
            except OSError:
                is_file = False
            if not is_file:
                if is_link and not Path(entry.path).exists():
                    problems.append(f"symlink {rel!r} is broken")
                else:
                    problems.append(f"{rel!r} is not a regular file")
                continue
            try:
                st = entry.stat()
            except OSError as exc:
                problems.append(f"{rel!r} could not be read ({exc.strerror})")
                continue
            yield rel, entry.path, st


def _fmt_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"  # SDK v1's unit: "300.0 MB"


def _warn_if_large(root: str, manifest: Manifest) -> None:
    """Warn (never fail) when a snapshot exceeds SDK v1's limits, naming its five biggest files."""
    max_files, max_size = SNAPSHOT_MAX_FILES, SNAPSHOT_MAX_SIZE_BYTES
    if manifest.file_count <= max_files and manifest.total_size <= max_size:
        return
    biggest = sorted(manifest.sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    shown = ", ".join(f"{path} ({_fmt_size(size)})" for path, size in biggest)
    warnings.warn(
        f"The snapshot of {root} has {manifest.file_count:,} files, {_fmt_size(manifest.total_size)}; "
        f"Azure ML SDK v1 refuses more than {max_files:,} files or {_fmt_size(max_size)}. "
        f"Biggest: {shown}. Add an .amlignore at the root of the source directory to leave out "
        "data, outputs and logs (every file in it is part of the step's fingerprint).",
        SnapshotSizeWarning,
        stacklevel=3,
    )


def scan(source_dir: str | os.PathLike[str], cache: DigestCacheLike = NULL_CACHE) -> Manifest:
    """The :class:`Manifest` of ``source_dir`` after its ignore rules (see the module docstring).

    Each file costs a stat and a ``cache`` look-up; only new or changed files are read (see
    :func:`~headwater.plan.digests.file_digests`). Skipped
    items are reported as :class:`SnapshotWarning`; a snapshot beyond SDK v1's limits as
    :class:`SnapshotSizeWarning`. A missing source directory raises :class:`ConfigurationError`.
    """
    root = os.path.abspath(source_dir)
    if not os.path.isdir(root):
        what = "is not a folder" if Path(root).exists() else "does not exist"
        raise ConfigurationError(
            f"The source directory {what}",
            path=root,
            hint=f"Check the step's source_directory (a relative path is resolved from {os.getcwd()}).",
        )
    spec, prune = _load_spec(root)
    problems: list[str] = []
    walked: list[tuple[str, str, os.stat_result]] = []
    for rel, path, st in _walk(root, spec, prune, problems):
        if not rel.isascii():
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                problems.append(f"{rel!r} has a name that is not valid UTF-8")
                continue
        walked.append((rel, path, st))
    found: list[tuple[str, str, int, int]] = []
    for (rel, _, st), digest in zip(walked, file_digests([path for _, path, _ in walked], cache), strict=True):
        if isinstance(digest, OSError):
            problems.append(f"{rel!r} could not be read ({digest.strerror})")
            continue
        found.append((rel, digest, st.st_size, st.st_mtime_ns))
    found.sort()
    files = {rel: digest for rel, digest, _, _ in found}
    sizes = {rel: size for rel, _, size, _ in found}
    manifest = Manifest(
        files=files,
        sizes=sizes,
        mtimes={rel: mtime for rel, _, _, mtime in found},
        total_size=sum(sizes.values()),
        digest=tree_digest(files),
    )
    for problem in problems:
        warnings.warn(f"Left out of the snapshot of {root}: {problem}.", SnapshotWarning, stacklevel=2)
    _warn_if_large(root, manifest)
    return manifest


# -- storing -----------------------------------------------------------------------------------


def _copy_into(manifest: Manifest, source: Path, tmp: Path) -> None:
    """Copy every manifest file into ``tmp`` (read-only, fixed mtime); fail if one changed since the scan."""
    for rel in manifest.files:
        src, dst = source / rel, tmp / rel
        expected = (manifest.sizes[rel], manifest.mtimes[rel])
        dst.parent.mkdir(parents=True, exist_ok=True)
        before = os.stat(src)
        shutil.copyfile(src, dst)
        after = os.stat(src)
        if not ((before.st_size, before.st_mtime_ns) == expected == (after.st_size, after.st_mtime_ns)):
            raise DataAccessError(
                f"{rel} changed while its snapshot was being stored.",
                path=str(src),
                hint="Submit again once nothing is writing into the source directory.",
            )
        os.utime(dst, ns=(SNAPSHOT_MTIME_NS, SNAPSHOT_MTIME_NS))
        os.chmod(dst, _FILE_MODE)


def _write_record(root: Path, manifest: Manifest) -> None:
    """Write ``<digest>.json`` atomically (every writer of one digest writes the same bytes)."""
    record = root / f"{manifest.digest}.json"
    if record.exists():
        return
    body = {
        "version": _MANIFEST_VERSION,
        "digest": manifest.digest,
        "file_count": manifest.file_count,
        "total_size": manifest.total_size,
        "files": {rel: {"digest": d, "size": manifest.sizes[rel]} for rel, d in manifest.files.items()},
    }
    tmp = root / f".{manifest.digest}.json.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_text(json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, record)
    finally:
        tmp.unlink(missing_ok=True)


def store_snapshot(
    manifest: Manifest, source_dir: str | os.PathLike[str], snapshots_root: str | os.PathLike[str]
) -> Path:
    """Materialise ``<snapshots_root>/<digest>/`` from ``source_dir`` once per digest; return it.

    Files are copied into a temporary folder beside it, made read-only and renamed into place in
    one step, so a reader never sees half a snapshot. An existing snapshot is left alone and its
    files are not read. Two processes storing one digest at once are safe: the rename that loses
    the race discards its copy. ``<digest>.json`` (the manifest) is written beside the folder.
    """
    root = Path(snapshots_root)
    final = root / manifest.digest
    root.mkdir(parents=True, exist_ok=True)
    if not final.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=f".{manifest.digest}.", suffix=".tmp", dir=root))
        try:
            _copy_into(manifest, Path(source_dir), tmp)
            os.chmod(tmp, _DIR_MODE)
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():
                    raise
                # another process stored this digest first: its copy is as good as ours
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    _write_record(root, manifest)
    return final


def load_manifest(snapshots_root: str | os.PathLike[str], digest: str) -> dict[str, str] | None:
    """``{path: file digest}`` of a stored snapshot, or None when unknown (for "what changed")."""
    if re.fullmatch("[0-9a-f]{64}", digest) is None:  # not a digest: never a path outside the root
        return None
    try:
        body = json.loads((Path(snapshots_root) / f"{digest}.json").read_text(encoding="utf-8"))
        return {rel: str(entry["digest"]) for rel, entry in body["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def discard(snapshot_dir: str | os.PathLike[str]) -> None:
    """Remove a (corrupted) snapshot: renamed aside first, so no one sees it half deleted."""
    path = Path(snapshot_dir)
    doomed = path.with_name(f".{path.name}.{uuid.uuid4().hex}.discard")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


# -- working copies ----------------------------------------------------------------------------


def checkout(snapshot_dir: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Make ``dest`` (new or empty) a working copy of a snapshot for one step run.

    Files are hard links into the snapshot (copies where linking fails: another filesystem, no
    permission); folders are created normally, so the script can add files. Files stay
    read-only; a process that writes through a link anyway (root ignores the mode) corrupts the
    snapshot, which :func:`verify` detects.
    """
    src_root, dest_root = os.fspath(snapshot_dir), os.fspath(dest)
    if not os.path.isdir(src_root):
        raise DataAccessError(f"Snapshot {src_root} does not exist.", path=src_root)
    os.makedirs(dest_root, exist_ok=True)
    with os.scandir(dest_root) as it:
        if next(it, None) is not None:
            raise DataAccessError(f"Cannot check out into {dest_root}: the folder is not empty.", path=dest_root)
    can_link = True
    for folder, dirs, files in os.walk(src_root):
        rel = os.path.relpath(folder, src_root)
        target = dest_root if rel == "." else os.path.join(dest_root, rel)
        for name in dirs:
            os.mkdir(os.path.join(target, name))
        for name in files:
            src, dst = os.path.join(folder, name), os.path.join(target, name)
            if can_link:
                try:
                    os.link(src, dst)
                    continue
                except OSError as exc:
                    if exc.errno in _CROSS_DEVICE:
                        can_link = False  # the same for every file: stop trying
                    elif exc.errno not in (errno.EPERM, errno.EACCES, errno.EMLINK):
                        raise
            shutil.copy2(src, dst)


def verify(snapshot_dir: str | os.PathLike[str], manifest: Manifest) -> list[str]:
    """Files of a stored snapshot that are missing or no longer as stored (size or mtime), sorted.

    Any manifest with the snapshot's digest will do (sizes follow from content, and every stored
    file has the mtime :data:`SNAPSHOT_MTIME_NS`). Non-empty means the snapshot is corrupted: discard it.
    """
    root = Path(snapshot_dir)
    bad: list[str] = []
    for rel, size in manifest.sizes.items():
        try:
            st = os.lstat(root / rel)
        except OSError:
            bad.append(rel)
            continue
        if not stat.S_ISREG(st.st_mode) or (st.st_size, st.st_mtime_ns) != (size, SNAPSHOT_MTIME_NS):
            bad.append(rel)
    return sorted(bad)
