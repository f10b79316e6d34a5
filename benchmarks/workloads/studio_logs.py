"""The studio's log page of a 50,000-line log, and a search of that whole log, over real HTTP.

A workspace gets a script run whose ``user_logs/std_log.txt`` has 50,000 lines (about 4 MB); a
real ``headwater serve`` serves it. Figures, each paired with a floor measured in the same run:

- ``studio.log_page``: ``GET /studio/runs/{id}/logs`` to the full HTML (the page holds the log's
  tail; earlier parts load on demand). Floor: the same 64 KiB tail as a plain file through the
  same server (``GET /studio/runs/{id}/raw`` of a copy of it), authenticated the same way.
- ``studio.log_search``: ``GET /studio/api/runs/{id}/logs/search`` for a line near the end (the
  server reads the whole file in 1 MiB blocks). Floor: the same scan in-process (read the file in
  blocks, look for the text in each lowered line), without HTTP.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.figures import Figure, Target
from benchmarks.harness import Bench, BenchError
from benchmarks.serve import serving

__all__ = ["LINES", "run"]

LINES = 50_000
_RUN_ID = "bench-log-run"
_NEEDLE = "epoch 49990 "


def _log_line(i: int) -> str:
    return f"2026-12-07T21:00:00.{i % 1000:03d}Z epoch {i} step {i * 7} loss {1 / (i + 1):.8f} lr 0.001\n"


def _make_run(bench: Bench, lines: int) -> Path:
    """A workspace with one finished script run whose std_log.txt has ``lines`` lines."""
    from headwater import Workspace
    from headwater.layout import RunLayout
    from headwater.ops.studio_logs import BLOCK
    from headwater.store.records import RunRecord

    project = bench.project("studio-logs")

    def setup(ws: Workspace) -> None:
        store = ws.metadata_store
        experiment = store.get_or_create_experiment("bench")
        store.create_run(RunRecord(_RUN_ID, experiment.id, "script", "Completed", name="train"))
        layout = RunLayout.of(ws.folder, _RUN_ID)
        layout.std_log.parent.mkdir(parents=True)
        with open(layout.std_log, "w") as fh:
            fh.writelines(_log_line(i) for i in range(lines))
        layout.system_logs.mkdir()
        with open(layout.std_log, "rb") as fh:  # the floor: the page's window as a plain file
            fh.seek(max(0, layout.std_log.stat().st_size - BLOCK))
            layout.system_log("tail.txt").write_bytes(fh.read())

    return bench.workspace(project, "studio-logs", setup)


def _read_token(folder: Path) -> str:
    from headwater.ops.tokens import create_token
    from headwater.ops.workspace_folder import open_workspace_store

    store = open_workspace_store(folder)
    try:
        return create_token(store, "bench", "read")
    finally:
        store.close()


def _scan(path: Path, needle: str) -> int:
    found, rest = 0, b""
    target = needle.lower().encode()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            found += sum(1 for line in lines if target in line.lower())
    return found


def run(bench: Bench) -> list[Figure]:
    import requests

    lines = 2_000 if bench.sizes.chain_steps < 10 else LINES  # --quick: a small log
    bench.say(f"studio log page: a {lines:,}-line std_log.txt served by headwater serve")
    folder = _make_run(bench, lines)
    log_path = folder / "runs" / _RUN_ID / "user_logs" / "std_log.txt"
    token = _read_token(folder)
    needle = _NEEDLE if lines == LINES else f"epoch {lines - 10} "
    with serving(bench, folder, "studio-logs-serve.log") as info, requests.Session() as http:
        url = info.url
        http.headers["Authorization"] = f"Bearer {token}"

        def get(path: str, **params: str) -> float:
            start = time.perf_counter()
            response = http.get(url + path, params=params, timeout=60)
            response.content  # noqa: B018 (the whole body)
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise BenchError(f"GET {path}: {response.status_code} {response.text[:500]}")
            return elapsed

        def page(_: int) -> float:
            return get(f"/studio/runs/{_RUN_ID}/logs")

        def search(_: int) -> float:
            return get(f"/studio/api/runs/{_RUN_ID}/logs/search", file="user_logs/std_log.txt", q=needle)

        def scan() -> float:
            start = time.perf_counter()
            if _scan(log_path, needle) != 1:
                raise BenchError(f"the search floor found no line with {needle!r}")
            return time.perf_counter() - start

        found = http.get(
            f"{url}/studio/api/runs/{_RUN_ID}/logs/search",
            params={"file": "user_logs/std_log.txt", "q": needle},
            timeout=60,
        ).json()
        if [h["line"] for h in found["hits"]] != [lines - 10 + 1]:
            raise BenchError(f"the log search found {found['hits'][:3]}, not line {lines - 10 + 1}")
        get("/studio/runs/" + _RUN_ID + "/logs")  # warm-up
        page_floor, page_samples = bench.repeat_pairs(
            "studio log page",
            lambda: get(f"/studio/runs/{_RUN_ID}/raw", file="system_logs/tail.txt"),
            page,
            times=bench.repeat * 4,
        )
        search_floor, search_samples = bench.repeat_pairs("studio log search", scan, search)
    size = log_path.stat().st_size / 1e6
    return [
        Figure(
            "studio.log_page",
            f"studio log page of a {lines:,}-line log ({size:.1f} MB), full HTML",
            "s",
            page_samples,
            "the same 64 KiB as a plain file, same server",
            page_floor,
            Target("max", 0.2, "the page holds the tail; earlier lines load on demand"),
        ),
        Figure(
            "studio.log_search",
            f"studio log search over the whole {lines:,}-line log",
            "s",
            search_samples,
            "the same scan in-process",
            search_floor,
        ),
    ]
