"""The studio's pages at size: time to the full HTML of the runs page with 10,000 runs in SQLite,
and of a 200-step and a 1,000-step pipeline run's page.

The workspace is filled directly through SQLite (10,000 pipeline runs of 3 steps each, tags on a
third of them; one 200-step and one 1,000-step run with their plan files, so the graph has its
edges), then a real ``headwater serve`` answers. Each sample is one HTTP GET on a new loopback
connection, from sending the request to the last byte of the body; the floor is the same GET of
``/api/health``, the server's cheapest route. Timed in-process around the request.
"""

from __future__ import annotations

import http.client
import json
import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.figures import Figure, Target
from benchmarks.harness import Bench, BenchError
from benchmarks.serve import serving

__all__ = ["fill", "run"]

_RUN_SQL = (
    "INSERT INTO runs (id, experiment_id, parent_id, kind, name, status, created_at, started_at, ended_at, "
    "reused_run_id, reason, compute_target, definition, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _big_run(
    db: sqlite3.Connection, folder: Path, experiment_id: str, run_id: str, steps: int, start: datetime
) -> None:
    """A pipeline run of ``steps`` steps in a layered graph (each reads one or two earlier outputs),
    with a plan file holding the spec: some reused, one failed with its downstream canceled."""
    rng = random.Random(steps)
    spec_steps = []
    rows, tags = [], []
    failed = steps // 2
    for i in range(steps):
        parents = sorted({rng.randrange(i) for _ in range(2)}) if i else []
        spec_steps.append(
            {
                "node_id": f"step_{i}",
                "name": f"step_{i}",
                "outputs": [{"name": f"out_{i}"}],
                "inputs": [{"name": f"in_{p}", "source": {"output": f"out_{p}"}} for p in parents],
            }
        )
        sid = f"{run_id}-{i}"
        if i < failed:
            status, reused, reason, error = "Finished", (f"old-{i}" if i % 3 else None), None, None
            reason = "reused run old: unchanged" if reused else "input 'in' changed"
        elif i == failed:
            status, reused, reason, error = "Failed", None, "never ran before", {"message": f"Step 'step_{i}' failed"}
        else:
            status, reused, reason = "Canceled", None, None
            error = {"message": f"not started: upstream step 'step_{failed}' failed"}
        t = _ts(start + timedelta(seconds=i))
        rows.append((sid, experiment_id, run_id, "step", f"step_{i}", status, t, t, t, reused, reason, "local",
                     "{}", json.dumps(error) if error else None))  # fmt: skip
        tags += [(sid, "azureml.nodeid", f"step_{i}"), (sid, "azureml.pipeline", run_id)]
    plan = folder / "runs" / run_id / "plan.json"
    plan.parent.mkdir(parents=True)
    plan.write_text(json.dumps({"spec": {"steps": spec_steps}}))
    t = _ts(start)
    db.execute(_RUN_SQL, (run_id, experiment_id, None, "pipeline", f"big {steps}", "Failed", t, t, t, None, None,
                          None, json.dumps({"plan": str(plan)}), None))  # fmt: skip
    db.executemany(_RUN_SQL, rows)
    db.executemany("INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)", tags)


def fill(folder: Path, runs: int, small: int, large: int) -> dict[str, str]:
    """Fill the workspace in ``folder``: ``runs`` pipeline runs of 3 steps, and two big runs (ids returned)."""
    db = sqlite3.connect(folder / "metadata.db")
    try:
        with db:
            experiments = [str(uuid.uuid4()) for _ in range(5)]
            db.executemany(
                "INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)",
                [(e, f"experiment-{i}", _ts(datetime(2026, 1, 1, tzinfo=UTC))) for i, e in enumerate(experiments)],
            )
            start = datetime(2026, 1, 1, tzinfo=UTC)
            rows, tags = [], []
            for i in range(runs):
                rid = str(uuid.uuid4())
                exp = experiments[i % len(experiments)]
                t0 = start + timedelta(minutes=i)
                status = "Failed" if i % 7 == 0 else "Finished"
                rows.append((rid, exp, None, "pipeline", f"pipeline {i}", status, _ts(t0), _ts(t0),
                             _ts(t0 + timedelta(seconds=90)), None, None, None, "{}", None))  # fmt: skip
                for j in range(3):
                    rows.append((f"{rid}-{j}", exp, rid, "step", f"s{j}", "Finished", _ts(t0), _ts(t0), _ts(t0),
                                 "x" if j == 0 else None, None, "local", "{}", None))  # fmt: skip
                if i % 3 == 0:
                    tags.append((rid, "owner", f"user{i % 5}"))
            db.executemany(_RUN_SQL, rows)
            db.executemany("INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)", tags)
            ids = {"small": f"big-{small}", "large": f"big-{large}"}
            _big_run(db, folder, experiments[0], ids["small"], small, start - timedelta(days=2))
            _big_run(db, folder, experiments[0], ids["large"], large, start - timedelta(days=1))
        db.execute("ANALYZE")
    finally:
        db.close()
    return ids


def _get(url: str, path: str, token: str) -> float:
    """Seconds from sending ``GET path`` on a new connection to the body's last byte (checks 200)."""
    parts = urlsplit(url)
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - t0
    finally:
        conn.close()
    if response.status != 200:
        raise BenchError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    return elapsed


def run(bench: Bench) -> list[Figure]:
    from headwater.ops.tokens import create_token
    from headwater.ops.workspace_folder import open_workspace_store

    sizes = bench.sizes
    bench.say(
        f"studio: {sizes.studio_runs:,} runs, a {sizes.studio_small}- and a {sizes.studio_large}-step pipeline run"
    )
    project = bench.project("studio")
    folder = bench.workspace(project, "studio")
    ids = fill(folder, sizes.studio_runs, sizes.studio_small, sizes.studio_large)

    store = open_workspace_store(folder)
    try:
        token = create_token(store, "bench", "read")
    finally:
        store.close()
    with serving(bench, folder, "studio-serve.log") as info:
        url = info.url
        pages = {
            "runs_page": "/studio/",
            "run_page_small": f"/studio/runs/{ids['small']}",
            "run_page_large": f"/studio/runs/{ids['large']}",
        }
        for path in ["/api/health", *pages.values()]:  # warm-up: imports, templates, caches
            _get(url, path, token)
        figures = []
        labels = {
            "runs_page": (f"studio runs page, {sizes.studio_runs:,} runs in SQLite", Target("max", 0.2)),
            "run_page_small": (f"studio pipeline run page, {sizes.studio_small} steps", Target("max", 0.3)),
            "run_page_large": (f"studio pipeline run page, {sizes.studio_large} steps", None),
        }
        for key, path in pages.items():
            floors, samples = bench.repeat_pairs(
                key,
                lambda: _get(url, "/api/health", token),
                lambda i, path=path: _get(url, path, token),
                times=4 * bench.repeat,
            )
            label, target = labels[key]
            figures.append(Figure(f"studio.{key}", label, "s", samples, "GET /api/health", floors, target))
        return figures
