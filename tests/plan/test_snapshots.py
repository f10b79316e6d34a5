"""Snapshots: SDK v1's ignore rules, digests through the stat cache, store / checkout / verify.

Tested by behaviour: which files get read (a spy on the digests module's one hashing function),
which warnings are raised, which inodes are shared - never by timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from headwater.errors import ConfigurationError, DataAccessError, HeadwaterError
from headwater.plan import digests, snapshots
from headwater.plan.digests import DigestCache, file_digest, tree_digest
from headwater.plan.hashing import explain_difference
from headwater.plan.snapshots import (
    SNAPSHOT_MTIME_NS,
    Manifest,
    SnapshotSizeWarning,
    SnapshotWarning,
    changed_files,
    checkout,
    discard,
    ignore_file,
    load_manifest,
    scan,
    store_snapshot,
    verify,
)
from tests.conftest import gen


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Relative-to-nothing paths of every file the digests module reads (a spy on ``_hash_file``)."""
    seen: list[str] = []
    real = digests._hash_file

    def spy(path: str, size: int) -> str:
        seen.append(path)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", spy)
    return seen


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[DigestCache]:
    with DigestCache(tmp_path / "cache" / "digests.db") as c:
        yield c


def _files(source: Path) -> set[str]:
    return set(scan(source).files)


# -- ignore rules ------------------------------------------------------------------------------


def test_no_ignore_file_means_everything_including_dot_git(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"train.py": "print(1)", ".git": {"HEAD": "ref"}, "sub": {"a.txt": "a"}})
    assert _files(src) == {"train.py", ".git/HEAD", "sub/a.txt"}
    assert ignore_file(src) is None


def test_amlignore_wins_over_gitignore_and_they_are_never_combined(tmp_path: Path) -> None:
    src = gen(
        tmp_path / "src",
        {".amlignore": "*.csv\n", ".gitignore": "*.log\n", "a.csv": "x", "b.log": "y", "c.py": "z"},
    )
    assert ignore_file(src) == src / ".amlignore"
    assert _files(src) == {".amlignore", ".gitignore", "b.log", "c.py"}
    (src / ".amlignore").unlink()
    assert _files(src) == {".gitignore", "a.csv", "c.py"}


def test_empty_amlignore_still_shadows_gitignore(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {".amlignore": "", ".gitignore": "*\n", "a.py": "x"})
    assert _files(src) == {".amlignore", ".gitignore", "a.py"}


def test_nested_ignore_files_are_not_read(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"sub": {".gitignore": "*.txt\n", "a.txt": "a"}, "sub2": {".amlignore": "*\n"}})
    assert _files(src) == {"sub/.gitignore", "sub/a.txt", "sub2/.amlignore"}


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder listed with ``os.scandir`` during the test (a spy that delegates)."""
    seen: list[str] = []
    real = os.scandir

    def spy(path: str) -> object:
        seen.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", spy)
    return seen


def test_directory_pattern_excludes_the_folder_without_walking_it(tmp_path: Path, listed: list[str]) -> None:
    src = gen(
        tmp_path / "src",
        {".amlignore": "data/\n", "data": {"big.bin": b"0" * 100, "nested": {"x": "x"}}, "a.py": "x"},
    )
    assert _files(src) == {".amlignore", "a.py"}
    assert sorted(listed) == [str(src)]


def test_with_a_negation_pattern_the_ignored_folder_is_listed_but_its_files_not_read(
    tmp_path: Path, listed: list[str], reads: list[str]
) -> None:
    src = gen(tmp_path / "src", {".amlignore": "data/\n!*.py\n", "data": {"big.bin": b"0"}, "a.py": "x"})
    assert _files(src) == {".amlignore", "a.py"}
    assert sorted(listed) == [str(src), str(src / "data")]
    assert sorted(reads) == [str(src / ".amlignore"), str(src / "a.py")]


def test_negation_reincludes_a_file_in_a_folder_matched_as_dir_slash(tmp_path: Path) -> None:
    # SDK v1 (pathspec, last match wins) enters data/ because "data" itself does not match "data/".
    src = gen(
        tmp_path / "src",
        {
            ".amlignore": "data/\n!data/keep.csv\n*.log\n!important.log\n",
            "data": {"keep.csv": "k", "x.csv": "x"},
            "a.log": "a",
            "important.log": "i",
        },
    )
    assert _files(src) == {".amlignore", "data/keep.csv", "important.log"}


def test_a_folder_matched_by_name_is_not_entered_so_negation_cannot_reinclude(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {".amlignore": "data\n!data/keep.csv\n", "data": {"keep.csv": "k"}, "b": "b"})
    (src / "data" / "broken").symlink_to(tmp_path / "nowhere")  # never listed, so no warning
    assert _files(src) == {".amlignore", "b"}


def _sdk_v1_files(source: Path, patterns: str) -> set[str]:
    """SDK v1's walk, literally: every entry tested by its relative path, excluded folders not entered."""
    import pathspec

    spec = pathspec.PathSpec.from_lines(snapshots._pattern_class(), patterns.splitlines())
    out: set[str] = set()

    def walk(folder: Path, prefix: str) -> None:
        for name in sorted(os.listdir(folder)):
            rel = prefix + name
            if spec.match_file(rel):
                continue
            if (folder / name).is_file():
                out.add(rel)
            else:
                walk(folder / name, rel + "/")

    walk(source, "")
    return out


@pytest.mark.parametrize(
    "patterns",
    [
        "data/\n",
        "data\n",
        "/data/\n*.tmp\n",
        "**/cache/\n",
        "*/\n",
        "sub/*\n!sub/keep/\n",
        "data/\n!data/raw/\n",
        "data/**\n!data/**/*.py\n",
        "*\n!*.py\n!*/\n",
        "logs/\nsub/deep/\n!sub/deep/x.py\n",
        "# comment\n\n  \n*.tmp\n",
    ],
)
def test_pruned_walk_matches_sdk_v1_walk(tmp_path: Path, patterns: str) -> None:
    tree = {
        "a.py": "a",
        "b.tmp": "b",
        "data": {"x.csv": "x", "y.py": "y", "raw": {"r.csv": "r", "r.py": "r"}},
        "sub": {"keep": {"k.py": "k"}, "deep": {"x.py": "x", "z.tmp": "z"}, "cache": {"c": "c"}},
        "logs": {"l.txt": "l"},
    }
    src = gen(tmp_path / "src", {**tree, ".amlignore": patterns})
    assert _files(src) == _sdk_v1_files(src, patterns)


# -- digests -----------------------------------------------------------------------------------


def test_digest_is_tree_digest_of_the_file_digests(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.py": "a", "sub": {"b.py": b"\x00b"}})
    m = scan(src)
    assert m.files == {"a.py": file_digest(src / "a.py"), "sub/b.py": file_digest(src / "sub" / "b.py")}
    assert list(m.files) == sorted(m.files)
    assert m.digest == tree_digest(m.files)
    assert m.sizes == {"a.py": 1, "sub/b.py": 2}
    assert (m.total_size, m.file_count) == (3, 2)


def test_empty_source_dir_has_a_fixed_digest(tmp_path: Path) -> None:
    (tmp_path / "e1").mkdir()
    gen(tmp_path / "e2", {".amlignore": "*\n"})
    assert scan(tmp_path / "e1").digest == scan(tmp_path / "e2").digest == tree_digest({})


def test_digest_is_stable_across_rescans_and_creation_order(tmp_path: Path) -> None:
    a = gen(tmp_path / "a", {"x.py": "1", "sub": {"y.py": "2"}, "z.py": "3"})
    b = tmp_path / "b"
    gen(b, {"z.py": "3"})
    gen(b, {"sub": {"y.py": "2"}})
    gen(b, {"x.py": "1"})
    assert scan(a).digest == scan(a).digest == scan(b).digest


def test_a_content_change_changes_the_digest_and_names_the_file(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"train.py": "lr = 0.1", "util.py": "u"})
    before = scan(src)
    (src / "train.py").write_text("lr = 0.2")
    after = scan(src)
    assert after.digest != before.digest
    assert changed_files(before, after) == ["train.py"]
    (src / "new.py").write_text("n")
    (src / "util.py").unlink()
    assert changed_files(before, scan(src)) == ["new.py", "train.py", "util.py"]


def test_rescan_of_an_unchanged_folder_reads_no_file(tmp_path: Path, cache: DigestCache, reads: list[str]) -> None:
    src = gen(tmp_path / "src", {f"m{i}.py": f"x = {i}" for i in range(20)} | {"sub": {"s.py": "s"}})
    first = scan(src, cache)
    assert len(reads) == 21
    reads.clear()
    assert scan(src, cache) == first
    assert reads == []
    (src / "m3.py").write_text("x = 'changed'")
    assert changed_files(first, scan(src, cache)) == ["m3.py"]
    assert reads == [str(src / "m3.py")]


def test_missing_source_dir_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        scan(tmp_path / "nope")
    assert isinstance(info.value, HeadwaterError)
    assert info.value.path == str(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigurationError, match="not a folder"):
        scan(tmp_path / "file")


# -- symlinks ----------------------------------------------------------------------------------


def test_symlinked_file_is_hashed_by_its_target_content(tmp_path: Path) -> None:
    outside = gen(tmp_path / "outside", {"shared.py": "shared"})
    src = gen(tmp_path / "src", {"a.py": "a"})
    (src / "link.py").symlink_to(outside / "shared.py")
    m = scan(src)
    assert m.files["link.py"] == file_digest(outside / "shared.py")


def test_symlink_to_a_folder_outside_the_tree_is_skipped_with_a_warning(tmp_path: Path) -> None:
    gen(tmp_path / "outside", {"secret.txt": "s"})
    src = gen(tmp_path / "src", {"a.py": "a"})
    (src / "ext").symlink_to(tmp_path / "outside")
    with pytest.warns(SnapshotWarning, match="'ext' points to a folder outside"):
        m = scan(src)
    assert set(m.files) == {"a.py"}


def test_symlink_to_a_folder_inside_the_tree_is_followed(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"lib": {"u.py": "u"}})
    (src / "alias").symlink_to("lib")
    assert _files(src) == {"lib/u.py", "alias/u.py"}


def test_symlink_loop_and_broken_symlink_are_skipped_with_warnings(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"sub": {"a.py": "a"}})
    (src / "sub" / "loop").symlink_to("..")
    (src / "dangling").symlink_to("missing.py")
    with pytest.warns(SnapshotWarning) as record:
        m = scan(src)
    messages = " | ".join(str(w.message) for w in record)
    assert "'sub/loop' loops back" in messages
    assert "'dangling' is broken" in messages
    assert set(m.files) == {"sub/a.py"}


def test_ignored_broken_symlink_is_not_reported(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {".amlignore": "dangling\n", "a.py": "a"})
    (src / "dangling").symlink_to("missing.py")
    assert _files(src) == {".amlignore", "a.py"}


# -- size warning ------------------------------------------------------------------------------


def test_large_snapshot_warns_naming_the_biggest_files_and_still_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "SNAPSHOT_MAX_FILES", 3)
    src = gen(tmp_path / "src", {"huge.bin": b"0" * 5000, "b.py": "b", "c.py": "c", "d.py": "d"})
    with pytest.warns(SnapshotSizeWarning, match=r"huge\.bin \(0\.0 MB\)") as record:
        m = scan(src)
    assert m.file_count == 4
    text = str(record[0].message)
    assert ".amlignore" in text and "4 files" in text
    assert text.index("huge.bin") < text.index("b.py")


def test_size_limit_alone_triggers_the_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "SNAPSHOT_MAX_SIZE_BYTES", 1000)
    src = gen(tmp_path / "src", {"model.pt": b"1" * 1001})
    with pytest.warns(SnapshotSizeWarning, match=r"model\.pt"):
        scan(src)
    monkeypatch.setattr(snapshots, "SNAPSHOT_MAX_SIZE_BYTES", 1001)
    scan(src)  # at the limit: no warning (filterwarnings=error would fail here)


# -- store, load, checkout, verify --------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_store_snapshot_materialises_read_only_files_and_a_manifest(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"train.py": "t", "sub": {"u.py": "u"}, ".amlignore": "*.log\n", "x.log": "l"})
    m = scan(src)
    root = tmp_path / "snapshots"
    snap = store_snapshot(m, src, root)
    assert snap == root / m.digest
    assert _tree(snap) == {"train.py": b"t", "sub/u.py": b"u", ".amlignore": b"*.log\n"}
    assert all((snap / rel).stat().st_mode & 0o777 == 0o444 for rel in m.files)
    assert load_manifest(root, m.digest) == m.files
    assert load_manifest(root, "0" * 64) is None
    assert load_manifest(root, "../etc/passwd") is None
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_store_snapshot_is_idempotent_and_does_not_reread_files(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.py": "a"})
    m = scan(src)
    root = tmp_path / "snapshots"
    first = store_snapshot(m, src, root)
    (root / f"{m.digest}.json").unlink()  # as if the first store died after the rename
    (src / "a.py").unlink()  # the source is gone: a second store must not need it
    assert store_snapshot(m, src, root) == first
    assert load_manifest(root, m.digest) == m.files


def test_store_snapshot_refuses_a_file_edited_after_the_scan(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.py": "a"})
    m = scan(src)
    (src / "a.py").write_text("edited")
    root = tmp_path / "snapshots"
    with pytest.raises(DataAccessError, match=r"a\.py changed"):
        store_snapshot(m, src, root)
    assert list(root.iterdir()) == []


def test_store_snapshot_loser_of_the_rename_race_discards_its_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"a.py": "a", "sub": {"b.py": "b"}})
    m = scan(src)
    root = tmp_path / "snapshots"
    real_copy = snapshots._copy_into
    winner: list[Path] = []

    def copy_then_lose(manifest: Manifest, source: Path, tmp: Path) -> None:
        real_copy(manifest, source, tmp)
        monkeypatch.setattr(snapshots, "_copy_into", real_copy)
        winner.append(store_snapshot(manifest, source, root))  # another process finishes first

    monkeypatch.setattr(snapshots, "_copy_into", copy_then_lose)
    assert store_snapshot(m, src, root) == winner[0] == root / m.digest
    assert sorted(p.name for p in root.iterdir()) == [m.digest, f"{m.digest}.json"]
    assert _tree(root / m.digest) == {"a.py": b"a", "sub/b.py": b"b"}


def test_concurrent_stores_of_one_digest_from_threads_and_processes(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {f"f{i}.py": f"{i}" * 1000 for i in range(50)})
    m = scan(src)
    root = tmp_path / "snapshots"
    code = (
        "import sys; from headwater.plan.snapshots import scan, store_snapshot; "
        "m = scan(sys.argv[1]); print(store_snapshot(m, sys.argv[1], sys.argv[2]))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(src), str(root)], stdout=subprocess.PIPE) for _ in range(3)
    ]
    barrier = threading.Barrier(4)
    results: list[Path] = []
    errors: list[BaseException] = []

    def store() -> None:
        try:
            barrier.wait()
            results.append(store_snapshot(m, src, root))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outputs = [p.communicate()[0].decode().strip() for p in procs]
    assert errors == []
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert set(results) | {Path(o) for o in outputs} == {root / m.digest}
    assert sorted(p.name for p in root.iterdir()) == [m.digest, f"{m.digest}.json"]
    assert _tree(root / m.digest) == _tree(src)
    assert verify(root / m.digest, m) == []


def test_checkout_hard_links_identical_files_into_writable_folders(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"train.py": "t", "sub": {"deep": {"u.py": "u"}}})
    m = scan(src)
    snap = store_snapshot(m, src, tmp_path / "snapshots")
    work = tmp_path / "run1" / "wd"
    checkout(snap, work)
    assert _tree(work) == _tree(snap)
    for rel in m.files:
        assert (work / rel).stat().st_ino == (snap / rel).stat().st_ino
    (work / "sub" / "deep" / "out.txt").write_text("the script may create files")
    (work / "outputs").mkdir()
    assert verify(snap, m) == []


def test_checkout_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.py": "a"})
    snap = store_snapshot(scan(src), src, tmp_path / "snapshots")
    gen(tmp_path / "wd", {"old.txt": "o"})
    with pytest.raises(DataAccessError, match="not empty"):
        checkout(snap, tmp_path / "wd")
    checkout(snap, tmp_path / "empty")
    assert _tree(tmp_path / "empty") == {"a.py": b"a"}


def test_verify_detects_a_write_through_a_hard_link(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"train.py": "lr = 0.1", "cfg.json": "{}"})
    m = scan(src)
    snap = store_snapshot(m, src, tmp_path / "snapshots")
    work = tmp_path / "wd"
    checkout(snap, work)
    os.chmod(work / "train.py", 0o644)  # what a careless script (or root) can do
    with open(work / "train.py", "r+") as f:  # same size, new bytes
        f.write("lr = 9.9")
    assert (snap / "train.py").read_text() == "lr = 9.9"  # the snapshot is corrupted ...
    assert verify(snap, m) == ["train.py"]  # ... and verify says so
    discard(snap)
    assert not snap.exists()
    assert store_snapshot(m, src, tmp_path / "snapshots") == snap  # stored afresh
    assert verify(snap, m) == []


def test_verify_accepts_any_manifest_of_the_same_digest(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.py": "a"})
    m = scan(src)
    snap = store_snapshot(m, src, tmp_path / "snapshots")
    os.utime(src / "a.py", ns=(1, 1))  # touched, not edited: same digest, other mtime
    later = scan(src)
    assert later.digest == m.digest and later.mtimes != m.mtimes
    assert verify(snap, later) == []
    assert (snap / "a.py").stat().st_mtime_ns == SNAPSHOT_MTIME_NS
    (snap / "a.py").chmod(0o644)
    (snap / "a.py").unlink()
    assert verify(snap, later) == ["a.py"]


def test_stored_manifest_explains_which_file_changed(tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"train.py": "lr = 0.1", "util.py": "u"})
    root = tmp_path / "snapshots"
    old = scan(src)
    store_snapshot(old, src, root)
    (src / "train.py").write_text("lr = 0.2")
    new = scan(src)
    store_snapshot(new, src, root)
    reasons = explain_difference(
        {"snapshot": old.digest}, {"snapshot": new.digest}, snapshot_files=partial(load_manifest, root)
    )
    assert reasons == ["train.py changed"]
