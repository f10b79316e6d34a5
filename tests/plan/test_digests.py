"""File digests and their stat cache, tested by behaviour: which files get read, not how long it takes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from headwater.errors import DataAccessError, PathEscapeError
from headwater.plan import digests
from headwater.plan.digests import (
    CACHE_SCHEMA_VERSION,
    NULL_CACHE,
    DigestCache,
    NullDigestCache,
    carry_over,
    digest_files,
    file_digest,
    open_digest_cache,
    stream_digest,
    tree_digest,
    workspace_cache_path,
)
from headwater.store.datastores import LocalBackend
from tests.conftest import gen


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the digests module reads, in order (a spy on its one hashing function)."""
    seen: list[str] = []
    real = digests._hash_file

    def spy(path: str, size: int) -> str:
        seen.append(Path(path).name)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", spy)
    return seen


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[DigestCache]:
    with DigestCache(tmp_path / "cache" / "digests.db") as c:
        yield c


def _expected(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def test_file_digest_is_blake3_of_the_bytes(tmp_path: Path) -> None:
    gen(tmp_path, {"a.bin": b"hello", "empty": b""})
    assert file_digest(tmp_path / "a.bin") == _expected(b"hello")
    assert file_digest(tmp_path / "empty") == _expected(b"")


def test_big_file_is_hashed_in_chunks_with_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Shrink the thresholds so a small file takes the multi-threaded, chunked path.
    monkeypatch.setattr(digests, "_BIG_FILE", 10)
    monkeypatch.setattr(digests, "_BIG_BUFFER_SIZE", 7)
    data = bytes(range(256)) * 5
    gen(tmp_path, {"big.bin": data})
    assert file_digest(tmp_path / "big.bin") == _expected(data)


def test_second_call_reads_nothing_when_the_file_is_unchanged(
    tmp_path: Path, cache: DigestCache, reads: list[str]
) -> None:
    gen(tmp_path, {"big.bin": b"x" * 100_000})
    first = file_digest(tmp_path / "big.bin", cache)
    second = file_digest(tmp_path / "big.bin", cache)
    assert first == second == _expected(b"x" * 100_000)
    assert reads == ["big.bin"]  # hashed once; the second answer came from stat + cache


def test_cache_hit_is_decided_by_stat_alone(tmp_path: Path, cache: DigestCache, reads: list[str]) -> None:
    """Proof that a hit does not read: same size, mtime and inode with other bytes keeps the old digest."""
    f = gen(tmp_path, {"a.bin": b"aaaa"}) / "a.bin"
    old = file_digest(f, cache)
    st = f.stat()
    with open(f, "r+b") as handle:  # edit in place: same inode, same size
        handle.write(b"bbbb")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_digest(f, cache) == old
    assert reads == ["a.bin"]


def test_carry_over_keeps_a_renamed_files_digest_and_drops_a_changed_one(
    tmp_path: Path, cache: DigestCache, reads: list[str]
) -> None:
    gen(tmp_path / "staged", {"same.bin": b"s" * 1000, "edited.bin": b"e" * 1000, "copied.bin": b"c" * 10})
    digest_files(tmp_path / "staged", ["same.bin", "edited.bin", "copied.bin"], cache)
    os.rename(tmp_path / "staged", tmp_path / "committed")
    (tmp_path / "committed" / "edited.bin").write_bytes(b"E" * 1001)
    (tmp_path / "committed" / "copied.bin").unlink()
    (tmp_path / "committed" / "copied.bin").write_bytes(b"c" * 10)  # same bytes, another inode
    moves = [(tmp_path / "staged" / n, tmp_path / "committed" / n) for n in ("same.bin", "edited.bin", "copied.bin")]
    reads.clear()
    assert carry_over(cache, [*moves, (tmp_path / "gone", tmp_path / "missing")]) == 1
    assert reads == []  # nothing read to carry a digest over
    got = digest_files(tmp_path / "committed", ["same.bin", "edited.bin", "copied.bin"], cache)
    assert reads == ["edited.bin", "copied.bin"]  # the renamed, unchanged file came from the cache
    assert got["same.bin"] == _expected(b"s" * 1000) and got["edited.bin"] == _expected(b"E" * 1001)


@pytest.mark.parametrize("change", ["size", "mtime", "inode"])
def test_a_changed_file_is_hashed_again(tmp_path: Path, cache: DigestCache, reads: list[str], change: str) -> None:
    f = gen(tmp_path, {"a.bin": b"aaaa"}) / "a.bin"
    old = file_digest(f, cache)
    st = f.stat()
    if change == "size":
        f.write_bytes(b"aaaaa")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        expected = _expected(b"aaaaa")
    elif change == "mtime":
        f.write_bytes(b"bbbb")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        expected = _expected(b"bbbb")
    else:  # an atomic replace: a new inode with the same size and mtime
        tmp = tmp_path / "a.tmp"
        tmp.write_bytes(b"cccc")
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        keep = tmp_path / "keep"  # hold the old inode so the new file cannot reuse its number
        os.link(f, keep)
        os.replace(tmp, f)
        assert f.stat().st_ino != st.st_ino
        expected = _expected(b"cccc")
    new = file_digest(f, cache)
    assert new == expected != old
    assert reads == ["a.bin", "a.bin"]


def test_null_cache_hashes_every_time(tmp_path: Path, reads: list[str]) -> None:
    f = gen(tmp_path, {"a.bin": b"a"}) / "a.bin"
    null = NullDigestCache()
    file_digest(f, null)
    file_digest(f, null)
    file_digest(f)  # the default is the shared null cache
    assert reads == ["a.bin"] * 3
    assert NULL_CACHE.get(str(f), f.stat()) is None


def test_cache_persists_across_connections_and_processes_share_the_file(tmp_path: Path, reads: list[str]) -> None:
    gen(tmp_path, {"a.bin": b"a"})
    db = tmp_path / "c.db"
    with DigestCache(db) as c1:
        file_digest(tmp_path / "a.bin", c1)
    with DigestCache(db) as c2:
        file_digest(tmp_path / "a.bin", c2)
        assert len(c2) == 1
    assert reads == ["a.bin"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(
            CACHE_SCHEMA_VERSION
        )
    conn.close()


def test_cache_of_another_schema_version_is_dropped(tmp_path: Path, reads: list[str]) -> None:
    gen(tmp_path, {"a.bin": b"a"})
    db = tmp_path / "c.db"
    with DigestCache(db) as c:
        file_digest(tmp_path / "a.bin", c)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with DigestCache(db) as c:
        assert len(c) == 0
        file_digest(tmp_path / "a.bin", c)
    assert reads == ["a.bin", "a.bin"]


def test_open_digest_cache_falls_back_to_null_when_it_cannot_create_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert isinstance(open_digest_cache(blocker / "digests.db"), NullDigestCache)
    real = open_digest_cache(tmp_path / "ok" / "digests.db")
    assert isinstance(real, DigestCache)
    real.close()


def test_workspace_cache_path(tmp_path: Path) -> None:
    assert workspace_cache_path(tmp_path) == tmp_path / "cache" / "digests.db"


def test_tree_digest_is_deterministic_and_sensitive() -> None:
    a = {"x/a.csv": "1", "b.csv": "2"}
    assert tree_digest(a) == tree_digest(dict(reversed(list(a.items()))))
    assert tree_digest(a) != tree_digest({"x/a.csv": "1", "b.csv": "3"})  # content
    assert tree_digest(a) != tree_digest({"x/a.csv": "1", "c.csv": "2"})  # rename
    assert tree_digest(a) != tree_digest({"x/a.csv": "1"})  # removal
    assert len(tree_digest({})) == 64


def test_digest_files_under_a_folder_and_a_backend(tmp_path: Path, cache: DigestCache, reads: list[str]) -> None:
    root = gen(tmp_path / "store", {"a.csv": "1", "sub": {"b.csv": "22"}})
    by_folder = digest_files(root, ["a.csv", "sub/b.csv"], cache)
    backend = LocalBackend("store", root)
    by_backend = digest_files(backend, ["a.csv", "sub/b.csv"], cache)
    assert by_folder == by_backend == {"a.csv": _expected(b"1"), "sub/b.csv": _expected(b"22")}
    assert reads == ["a.csv", "b.csv"]  # the backend call was served from the cache


def test_digest_files_streams_remote_files_without_the_cache(tmp_path: Path, reads: list[str]) -> None:
    root = gen(tmp_path / "remote", {"a.csv": "remote bytes"})

    class RemoteBackend(LocalBackend):
        def local_path(self, path: str | os.PathLike[str] | None) -> Path | None:  # type: ignore[override]
            return None

        def full_path(self, path: str | os.PathLike[str] | None) -> str:
            return LocalBackend.local_path(self, path).as_posix()

    assert digest_files(RemoteBackend("r", root), ["a.csv"]) == {"a.csv": _expected(b"remote bytes")}
    assert reads == []  # streamed, not read as a local file


def test_stream_digest_matches_file_digest(tmp_path: Path) -> None:
    f = gen(tmp_path, {"a.bin": b"z" * 3000}) / "a.bin"
    with open(f, "rb") as s:
        assert stream_digest(s, chunk_size=7) == file_digest(f)


def test_importing_digests_is_cheap() -> None:
    code = (
        "import sys, headwater.plan.digests\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'fsspec', 'sqlalchemy', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_file_modified_just_now_is_hashed_but_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A same-size rewrite within one timestamp tick keeps (size, mtime_ns); such files are never cached."""
    monkeypatch.setattr(digests, "RACY_WINDOW_NS", 2_000_000_000)
    f = tmp_path / "fresh.bin"
    f.write_bytes(b"aaaa")
    with DigestCache(tmp_path / "c.db") as cache:
        first = file_digest(f, cache)
        st = f.stat()
        f.write_bytes(b"bbbb")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: invisible to stat
        assert file_digest(f, cache) != first
        old = time.time_ns() - 10_000_000_000
        os.utime(f, ns=(old, old))
        settled = file_digest(f, cache)
        assert cache.get(str(f), f.stat()) == settled


def test_a_batch_is_hashed_on_threads_where_there_is_no_cpu_affinity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS has no ``os.sched_getaffinity``: the pool is sized from ``os.cpu_count()`` there."""
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(digests, "PARALLEL_MIN_BYTES", 4)  # what 8 MiB files would take, with small ones
    threads: list[str] = []
    real = digests._hash_file

    def spy(path: str, size: int) -> str:
        threads.append(threading.current_thread().name)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", spy)
    gen(tmp_path, {"a.bin": "1234", "b.bin": "5678", "c.bin": "90"})
    found = digests.file_digests([tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "c.bin"])
    assert found == [_expected(b"1234"), _expected(b"5678"), _expected(b"90")]
    assert len(threads) == 3 and all(name.startswith("digest") for name in threads)  # the pool, not this thread


def test_without_blake3_the_module_imports_and_hashing_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step's own Python (a built environment) imports this module through ``Dataset`` without blake3."""
    monkeypatch.setitem(sys.modules, "blake3", None)  # `import blake3` now raises ImportError
    (tmp_path / "a.txt").write_text("a")
    with pytest.raises(DataAccessError, match=r"needs the 'blake3' package.*Add 'blake3'"):
        file_digest(tmp_path / "a.txt")


def _statements(cache: DigestCache) -> list[str]:
    """Every SQL statement ``cache`` runs from now on (SQLite's own trace hook)."""
    seen: list[str] = []
    cache._connect().set_trace_callback(seen.append)
    return seen


@pytest.mark.parametrize("count", [3, 1200])  # 1,200: more paths than one statement's parameters
def test_unchanged_files_are_looked_up_with_one_statement_whatever_their_number(
    tmp_path: Path, cache: DigestCache, reads: list[str], count: int
) -> None:
    root = gen(tmp_path / "store", {"sub": {f"f{i}.bin": f"{i}" for i in range(count)}})
    rels = [f"sub/f{i}.bin" for i in range(count)]
    old = time.time_ns() - 10_000_000_000
    for rel in rels:  # settled files (older than the racy window), so they are cached
        os.utime(root / rel, ns=(old, old))
    first = digest_files(LocalBackend("store", root), rels, cache)
    reads.clear()
    statements = _statements(cache)
    assert digest_files(LocalBackend("store", root), rels, cache) == first
    assert reads == []  # nothing read again
    assert len(statements) == 1, statements  # one look-up for all of them: it does not grow with the files


def test_a_batch_look_up_still_misses_a_file_changed_with_the_same_size_and_mtime(
    tmp_path: Path, cache: DigestCache, reads: list[str]
) -> None:
    """What the trust promise rests on, through the batched path: a file rewritten (same size, same
    mtime) by an atomic replace has another inode, so it is hashed again."""
    root = gen(tmp_path / "store", {"d": {"a.bin": b"aaaa", "b.bin": b"bbbb"}})
    old = time.time_ns() - 10_000_000_000
    for name in ("a.bin", "b.bin"):
        os.utime(root / "d" / name, ns=(old, old))
    backend = LocalBackend("store", root)
    first = digest_files(backend, ["d/a.bin", "d/b.bin"], cache)
    tmp = root / "d" / "new.tmp"
    tmp.write_bytes(b"AAAA")
    os.utime(tmp, ns=(old, old))
    os.replace(tmp, root / "d" / "a.bin")  # same size, same mtime, another inode
    reads.clear()
    second = digest_files(backend, ["d/a.bin", "d/b.bin"], cache)
    assert second["d/a.bin"] == _expected(b"AAAA") != first["d/a.bin"]
    assert second["d/b.bin"] == first["d/b.bin"]
    assert reads == ["a.bin"]


def test_a_batch_refuses_a_file_that_is_a_link_leading_out_of_the_datastore(tmp_path: Path, cache: DigestCache) -> None:
    outside = gen(tmp_path / "outside", {"secret.txt": "s"})
    root = gen(tmp_path / "store", {"d": {"a.txt": "a"}})
    (root / "d" / "leak.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(PathEscapeError):
        digest_files(LocalBackend("store", root), ["d/a.txt", "d/leak.txt"], cache)
    (root / "linked").symlink_to(outside, target_is_directory=True)  # a folder link below the root
    with pytest.raises(PathEscapeError):
        digest_files(LocalBackend("store", root), ["d/a.txt", "linked/secret.txt"], cache)
    (root / "inside").symlink_to(root / "d", target_is_directory=True)  # a link that stays inside is fine
    found = digest_files(LocalBackend("store", root), ["d/a.txt", "inside/a.txt"], cache)
    assert found["d/a.txt"] == found["inside/a.txt"] == _expected(b"a")


def test_unchanged_files_cost_two_stat_calls_each_however_deep(
    tmp_path: Path, cache: DigestCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-check of unchanged files in a datastore: one ``lstat`` (is it a link?) and one ``stat``
    per file; the folders above them are checked once, not once per file."""
    count = 50
    root = gen(tmp_path / "store", {"a": {"b": {"c": {f"f{i}.bin": f"{i}" for i in range(count)}}}})
    rels = [f"a/b/c/f{i}.bin" for i in range(count)]
    backend = LocalBackend("store", root)  # resolving the root is the backend's, once
    digest_files(backend, rels, cache)
    calls: list[str] = []
    for name in ("stat", "lstat"):
        real = getattr(os, name)

        def spy(*args: object, _real: object = real, _name: str = name, **kwargs: object) -> object:
            calls.append(_name)
            return _real(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(os, name, spy)
    digest_files(backend, rels, cache)
    assert len(calls) <= 2 * count + 3, sorted(set(calls))


def test_an_sqlite_without_json_looks_up_in_chunks(
    tmp_path: Path, cache: DigestCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.plan import digest_cache

    files = gen(tmp_path, {f"f{i}.txt": str(i) for i in range(7)})
    paths = sorted(files.glob("*.txt"))
    old = time.time_ns() - 10_000_000_000
    for p in paths:
        os.utime(p, ns=(old, old))
    first = digests.file_digests(paths, cache)
    monkeypatch.setattr(digest_cache, "_LOOKUP_SQL", "SELECT * FROM no_json_here(?)")  # what an old SQLite says
    monkeypatch.setattr(digest_cache, "_LOOKUP_CHUNK", 3)
    statements = _statements(cache)
    assert digests.file_digests(paths, cache) == first
    assert len([s for s in statements if s.startswith(digest_cache._CHUNK_SQL)]) == 3
