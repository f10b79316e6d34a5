"""FileDataset delivery (to_path, download, mount), file sampling, and datasets read from URLs."""

from __future__ import annotations

import functools
import os
import re
import stat
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from headwater import DataAccessError, Dataset, DatasetDataChangedWarning, Workspace
from tests.conftest import gen


@pytest.fixture
def store(ws: Workspace) -> Any:
    return ws.get_default_datastore()


@pytest.fixture
def root(store: Any) -> Path:
    base = Path(store._backend.root)
    gen(
        base,
        {
            "data": {
                "train": {"a.csv": "a\n", "b.csv": "b\n", "deep": {"c.csv": "c\n"}},
                "test": {"t.csv": "t\n"},
                "notes.txt": "n\n",
            }
        },
    )
    return base


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An http.server on 127.0.0.1 serving a temporary folder: (base URL, folder)."""
    folder = gen(tmp_path / "served", {"iris.csv": "x,y\n1,2\n3,4\n", "sub": {"more.csv": "x,y\n5,6\n"}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- to_path -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data/train/*.csv", ["/a.csv", "/b.csv"]),
        ("data/train", ["/a.csv", "/b.csv", "/deep/c.csv"]),
        ("data/train/", ["/a.csv", "/b.csv", "/deep/c.csv"]),
        ("data/train/a.csv", ["/a.csv"]),
        ("data/**/*.csv", ["/test/t.csv", "/train/a.csv", "/train/b.csv", "/train/deep/c.csv"]),
        ("data/*/a.csv", ["/train/a.csv"]),
    ],
)
def test_to_path_removes_the_prefix_the_path_was_written_with(
    store: Any, root: Path, path: str, expected: list[str]
) -> None:
    assert Dataset.File.from_files((store, path)).to_path() == expected


def test_to_path_of_several_sources_uses_their_common_folder(store: Any, root: Path) -> None:
    ds = Dataset.File.from_files([(store, "data/train/a.csv"), (store, "data/test")])
    assert ds.to_path() == ["/train/a.csv", "/test/t.csv"]
    same_twice = Dataset.File.from_files([(store, "data/train/a.csv"), (store, "data/train/*.csv")])
    assert same_twice.to_path() == ["/a.csv", "/b.csv"]  # no duplicates


# -- download ------------------------------------------------------------------------------------


def test_download_copies_the_files_and_returns_their_paths(store: Any, root: Path, tmp_path: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    paths = ds.download(tmp_path / "out")
    target = tmp_path / "out"
    assert paths == [str(target / "a.csv"), str(target / "b.csv"), str(target / "deep" / "c.csv")]
    assert (target / "deep" / "c.csv").read_text() == "c\n"
    assert not (target / "a.csv").is_symlink()


def test_download_defaults_to_a_new_temporary_folder(store: Any, root: Path) -> None:
    first = Dataset.File.from_files((store, "data/train/a.csv")).download()
    second = Dataset.File.from_files((store, "data/train/a.csv")).download()
    assert Path(first[0]).read_text() == "a\n" and first != second


def test_download_refuses_to_overwrite_without_overwrite(store: Any, root: Path, tmp_path: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    gen(tmp_path / "out", {"b.csv": "mine"})
    with pytest.raises(DataAccessError, match="overwrite=True"):
        ds.download(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.csv"]  # nothing was written
    assert (tmp_path / "out" / "b.csv").read_text() == "mine"
    ds.download(tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "b.csv").read_text() == "b\n"


def test_download_of_a_missing_path_fails_unless_ignored(store: Any, root: Path, tmp_path: Path) -> None:
    ds = Dataset.File.from_files([(store, "data/train/a.csv"), (store, "gone/*.csv")], validate=False)
    with pytest.raises(DataAccessError, match=re.escape("'gone/*.csv' on datastore 'workspaceblobstore'")):
        ds.download(tmp_path / "out")
    found = ds.download(tmp_path / "out", ignore_not_found=True)
    assert found == [str(tmp_path / "out" / "data" / "train" / "a.csv")]  # common folder: the root


# -- mount ---------------------------------------------------------------------------------------


def test_mount_is_a_read_only_view_of_links_without_copies(store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    with ds.mount() as ctx:
        mp = Path(ctx.mount_point)
        assert sorted(str(p.relative_to(mp)) for p in mp.rglob("*.csv")) == ["a.csv", "b.csv", "deep/c.csv"]
        link = mp / "deep" / "c.csv"
        assert link.is_symlink() and Path(os.readlink(link)) == (root / "data/train/deep/c.csv").resolve()
        assert link.read_text() == "c\n"
        assert stat.S_IMODE(mp.stat().st_mode) == 0o555
        assert stat.S_IMODE((mp / "deep").stat().st_mode) == 0o555
    assert not mp.exists()


def test_mount_start_stop_at_a_given_mount_point(store: Any, root: Path, tmp_path: Path) -> None:
    given = tmp_path / "mnt"
    ctx = Dataset.File.from_files((store, "data/train/*.csv")).mount(str(given))
    assert ctx.mount_point == str(given) and not ctx.is_mounted
    ctx.start()
    assert sorted(os.listdir(given)) == ["a.csv", "b.csv"] and ctx.is_mounted
    ctx.stop()
    assert not given.exists()  # created by start(), removed by stop()
    given.mkdir()
    with Dataset.File.from_files((store, "data/train/a.csv")).mount(str(given)):
        assert os.listdir(given) == ["a.csv"]
    assert given.is_dir() and os.listdir(given) == []  # existed before: left in place, empty


def test_mount_point_must_be_empty(store: Any, root: Path, tmp_path: Path) -> None:
    busy = gen(tmp_path / "busy", {"x": "1"})
    with pytest.raises(DataAccessError, match="not an empty folder"):
        Dataset.File.from_files((store, "data/train")).mount(str(busy)).start()


# -- file-level transformations ------------------------------------------------------------------


def test_file_sampling_is_seeded_and_random_split_partitions(store: Any, root: Path) -> None:
    gen(root / "many", {f"f{i:02}.txt": str(i) for i in range(40)})
    ds = Dataset.File.from_files((store, "many"))
    everything = ds.to_path()
    sample = ds.take_sample(0.5, seed=11).to_path()
    assert sample == ds.take_sample(0.5, seed=11).to_path() and 0 < len(sample) < 40
    left, right = ds.random_split(0.25, seed=5)
    a, b = left.to_path(), right.to_path()
    assert sorted(a + b) == everything and not set(a) & set(b)
    assert 0 < len(a) < len(b)
    unseeded = ds.take_sample(0.5)  # a seed is drawn once and recorded: reads agree with each other
    assert unseeded.to_path() == unseeded.to_path()
    with pytest.raises(ValueError):
        ds.random_split(1.0)
    with pytest.raises(ValueError):
        ds.take(-1)


# -- URLs ----------------------------------------------------------------------------------------


def test_url_file_dataset(http_root: tuple[str, Path], tmp_path: Path) -> None:
    base, _folder = http_root
    ds = Dataset.File.from_files([f"{base}/iris.csv", f"{base}/sub/more.csv"])
    assert ds.to_path() == ["/iris.csv", "/sub/more.csv"]
    paths = ds.download(tmp_path / "dl")
    assert Path(paths[1]).read_text() == "x,y\n5,6\n"
    with ds.mount() as ctx:  # not local: the view holds downloaded, read-only copies
        copy = Path(ctx.mount_point) / "iris.csv"
        assert not copy.is_symlink() and copy.read_text() == "x,y\n1,2\n3,4\n"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o444


def test_url_tabular_dataset_and_validation(http_root: tuple[str, Path]) -> None:
    base, _folder = http_root
    ds = Dataset.Tabular.from_delimited_files(f"{base}/iris.csv")
    assert ds.to_pandas_dataframe()["y"].tolist() == [2, 4]
    with pytest.raises(DataAccessError, match=r"missing\.csv"):
        Dataset.Tabular.from_delimited_files(f"{base}/missing.csv")
    assert Dataset.Tabular.from_delimited_files(f"{base}/missing.csv", validate=False).id


def test_url_dataset_change_detection(ws: Workspace, http_root: tuple[str, Path]) -> None:
    base, folder = http_root
    ds = Dataset.Tabular.from_delimited_files(f"{base}/iris.csv").register(ws, "iris")
    assert ds.data_changed() == []
    (folder / "iris.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    assert ds.data_changed() == [f"{base}/iris.csv"]
    with pytest.warns(DatasetDataChangedWarning):
        assert len(ds.to_pandas_dataframe()) == 3
