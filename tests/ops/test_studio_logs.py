"""The studio's log queries on real run folders: ranged reads, live reads, search, and refusal of
files outside the run's folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headwater.errors import NotFoundError
from headwater.layout import RunLayout
from headwater.ops.studio_logs import (
    RunFileError,
    SearchError,
    log_files,
    read_after,
    read_before,
    read_new,
    run_file,
    search,
)

RUN = "run-1"


def _line(i: int) -> str:
    return f"line {i:05d} epoch={i % 7} loss={1 / (i + 1):.6f}\n"


@pytest.fixture
def big_log(tmp_path: Path) -> Path:
    """A workspace folder whose run RUN has a 50,000-line std_log.txt and two system logs."""
    layout = RunLayout.of(tmp_path, RUN)
    layout.std_log.parent.mkdir(parents=True)
    with open(layout.std_log, "w") as fh:
        fh.writelines(_line(i) for i in range(50_000))
    layout.system_logs.mkdir()
    layout.orchestrator_log.write_text("orchestrator started\n")
    layout.system_log("data_access.txt").write_text("mounted\n")
    return tmp_path


def test_log_files_lists_std_log_first_then_system_logs(big_log: Path) -> None:
    files = log_files(big_log, RUN)
    assert [f.name for f in files] == [
        "user_logs/std_log.txt",
        "system_logs/data_access.txt",
        "system_logs/orchestrator.log",
    ]
    assert files[0].size == RunLayout.of(big_log, RUN).std_log.stat().st_size


def test_tail_then_earlier_windows_cover_the_file_in_whole_lines(big_log: Path) -> None:
    path = run_file(big_log, RUN, "user_logs/std_log.txt")
    size = path.stat().st_size
    tail = read_before(path, max_bytes=4096)
    assert tail.end == size and 0 < tail.start < size - 3000
    assert tail.lines[-1] == _line(49_999).rstrip("\n")
    assert all(line.startswith("line ") for line in tail.lines)  # starts at a line boundary
    # page backwards to the start: every line exactly once, in order, each read bounded
    seen: list[str] = []
    chunk = tail
    while True:
        assert chunk.end - chunk.start <= 4096
        seen[:0] = chunk.lines
        if chunk.start == 0:
            break
        chunk = read_before(path, chunk.start, max_bytes=4096)
    assert seen == [_line(i).rstrip("\n") for i in range(50_000)]


def test_read_after_and_live_reads_send_only_complete_lines(tmp_path: Path) -> None:
    layout = RunLayout.of(tmp_path, RUN)
    layout.std_log.parent.mkdir(parents=True)
    layout.std_log.write_bytes(b"one\ntwo\nthr")
    first = read_new(layout.std_log, 0)
    assert first.lines == ["one", "two"] and first.end == 8
    assert read_new(layout.std_log, first.end).text == ""  # "thr" is still being written
    with open(layout.std_log, "ab") as fh:
        fh.write(b"ee\nfour")
    second = read_new(layout.std_log, first.end)
    assert second.lines == ["three"]
    last = read_new(layout.std_log, second.end, final=True)  # the step ended: the rest comes too
    assert last.lines == ["four"] and last.end == last.size
    assert read_after(layout.std_log, 4).lines == ["two", "three"]
    assert read_before(layout.std_log).lines == ["one", "two", "three"]  # "four" has no newline yet


def test_search_pages_through_matches_with_line_numbers(big_log: Path) -> None:
    path = run_file(big_log, RUN, "user_logs/std_log.txt")
    first = search(path, "LINE 0499", limit=5)  # case-insensitive; lines 4990-4999 match
    assert [h.line for h in first.hits] == [4991, 4992, 4993, 4994, 4995]
    assert first.hits[0].text == _line(4990).rstrip("\n")
    with open(path, "rb") as fh:
        fh.seek(first.hits[0].offset)
        assert fh.readline().decode() == _line(4990)
    assert first.next_offset is not None
    rest = search(path, "line 0499", start=first.next_offset, line=first.next_line, limit=1000)
    assert [h.line for h in rest.hits] == [4996, 4997, 4998, 4999, 5000]
    assert rest.hits[-1].text == _line(4999).rstrip("\n")
    assert rest.next_offset is None  # searched to the end
    none = search(path, "no such text")
    assert none.hits == [] and none.next_offset is None and none.next_line == 50_001


def test_search_stops_after_max_bytes_and_says_where_to_go_on(big_log: Path) -> None:
    path = run_file(big_log, RUN, "user_logs/std_log.txt")
    part = search(path, "line 49999", max_bytes=1)  # reads one block only
    assert part.hits == [] and part.next_offset is not None and part.next_offset < path.stat().st_size
    with pytest.raises(SearchError):
        search(path, "")


@pytest.mark.parametrize(
    "name", ["../run-2/user_logs/std_log.txt", "/etc/passwd", "user_logs/../../run-2/x", "", "a//b", "./x"]
)
def test_run_file_refuses_names_outside_the_run_folder(big_log: Path, name: str) -> None:
    other = RunLayout.of(big_log, "run-2")
    other.std_log.parent.mkdir(parents=True)
    other.std_log.write_text("secret\n")
    with pytest.raises(RunFileError):
        run_file(big_log, RUN, name)


def test_run_file_refuses_symlinks_that_lead_out_but_follows_those_inside(big_log: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not a log\n")
    layout = RunLayout.of(big_log, RUN)
    os.symlink(outside, layout.system_log("evil.log"))
    os.symlink(layout.std_log, layout.system_log("alias.log"))
    with pytest.raises(RunFileError):
        run_file(big_log, RUN, "system_logs/evil.log")
    assert run_file(big_log, RUN, "system_logs/alias.log") == layout.std_log.resolve()
    assert "system_logs/evil.log" not in [f.name for f in log_files(big_log, RUN)]
    with pytest.raises(RunFileError):
        run_file(big_log, "..", "runs/run-1/user_logs/std_log.txt")
    with pytest.raises(NotFoundError):
        run_file(big_log, RUN, "system_logs/missing.log")
    with pytest.raises(NotFoundError):
        run_file(big_log, RUN, "system_logs")  # a folder is not a file
