"""Workspace creation and the metadata database under faults (issue #12, items 7, 10, 11).

Real processes race to create one workspace; a create is SIGKILLed half-way; ``metadata.db`` is
made read-only (for root too: ``chattr +i``) or has pages overwritten; ``headwater workspace
check`` and ``backup`` are run against healthy and damaged workspaces, and during a running
pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.cli.main import cli
from headwater.errors import (
    ConfigurationError,
    HeadwaterError,
    MetadataStoreError,
)
from tests.conftest import gen
from tests.e2e.conftest import script

WAIT_S = 120.0


def _poll(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    """Wait (bounded) until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _hw(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, (
        f"headwater {' '.join(args)} exited {result.exit_code}, expected {code}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nexception: {result.exception!r}"
    )
    return result


def _one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# -- item 7: creating a workspace ------------------------------------------------------------------

CREATOR = """
import json, sys, time
from pathlib import Path
from headwater import Workspace
from headwater.errors import AlreadyExistsError

ready, go, exist_ok, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] or None
ready.touch()
while not go.exists():
    time.sleep(0.001)
try:
    ws = Workspace.create("shared", exist_ok=exist_ok, metadata_url=url)
except AlreadyExistsError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    sys.exit(0)
with ws:
    details = ws.get_details()
    print(json.dumps({"folder": str(ws.folder), "created": details["creationTime"],
                      "datastores": sorted(ws.datastores), "default": details["defaultDatastore"]}))
"""


def _race_creates(tmp_path: Path, n: int, *, exist_ok: bool, url: str | None) -> list[dict[str, Any]]:
    """Start ``n`` processes, let them call Workspace.create at once, and return what each printed."""
    (tmp_path / "creator.py").write_text(CREATOR)
    go = tmp_path / "go"
    procs = []
    for i in range(n):
        ready = tmp_path / f"ready-{i}"
        cmd = [sys.executable, str(tmp_path / "creator.py"), str(ready), str(go), "1" if exist_ok else "0", url or ""]
        procs.append((ready, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    try:
        _poll(lambda: all(r.exists() or p.poll() is not None for r, p in procs), "the creators to be ready")
        go.touch()
        outs = []
        for _, p in procs:
            out, err = p.communicate(timeout=WAIT_S)
            assert p.returncode == 0, f"a creator failed:\n{err}"
            outs.append(json.loads(out.strip().splitlines()[-1]))
        return outs
    finally:
        for _, p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_processes_creating_one_workspace_all_get_it(
    backend: str, tmp_path: Path, headwater_home: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    outs = _race_creates(tmp_path, 8, exist_ok=True, url=url)
    assert all("error" not in o for o in outs), outs
    assert len({(o["folder"], o["created"]) for o in outs}) == 1, outs  # one workspace, the same for all
    assert outs[0]["datastores"] == ["workspaceblobstore", "workspacefilestore"]
    assert outs[0]["default"] == "workspaceblobstore"
    assert [p.name for p in (headwater_home / "workspaces").iterdir()] == ["shared"]  # no leftovers
    with Workspace.get("shared") as ws:
        assert sorted(ws.datastores) == ["workspaceblobstore", "workspacefilestore"]


@pytest.mark.slow
def test_racing_creates_without_exist_ok_one_wins_the_others_are_told_it_exists(
    tmp_path: Path, headwater_home: Path
) -> None:
    outs = _race_creates(tmp_path, 4, exist_ok=False, url=None)
    winners = [o for o in outs if "error" not in o]
    losers = [o for o in outs if "error" in o]
    assert len(winners) == 1, outs
    assert {o["error"] for o in losers} == {"AlreadyExistsError"}, outs
    assert all("exist_ok=True" in o["message"] for o in losers)


PAUSED_CREATOR = """
import sys, time
from pathlib import Path
from headwater.sdk import workspace

real = workspace.write_json_atomic

def paused(path, data, **kwargs):
    # half-way: the metadata database and the datastores' folders exist, workspace.json does not
    assert (path.parent / "metadata.db").is_file()
    Path(sys.argv[1]).touch()
    time.sleep(600)
    real(path, data, **kwargs)

workspace.write_json_atomic = paused
from headwater import Workspace
Workspace.create("half")
"""


@pytest.mark.slow
def test_a_create_killed_half_way_does_not_block_a_later_one(tmp_path: Path, headwater_home: Path) -> None:
    (tmp_path / "paused.py").write_text(PAUSED_CREATOR)
    marker = tmp_path / "half-way"
    proc = subprocess.Popen([sys.executable, str(tmp_path / "paused.py"), str(marker)], stderr=subprocess.PIPE)
    try:
        _poll(lambda: marker.exists() or proc.poll() is not None, "the create to get half-way")
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.kill()  # SIGKILL
        proc.communicate()
    root = headwater_home / "workspaces"
    assert not (root / "half").exists()  # nothing half-built where the workspace goes
    with Workspace.create("half") as ws:
        assert sorted(ws.datastores) == ["workspaceblobstore", "workspacefilestore"]
    assert [p.name for p in root.iterdir()] == ["half"]  # the killed create's leftovers are cleaned up


def test_create_in_an_empty_folder_whose_parent_may_not_be_written(tmp_path: Path) -> None:
    root = tmp_path / "admin-made" / "ws"
    root.mkdir(parents=True)
    with read_only(root.parent):
        with Workspace.create("ws", folder=root) as ws:
            assert sorted(ws.datastores) == ["workspaceblobstore", "workspacefilestore"]
        with Workspace.create("ws", folder=root, exist_ok=True) as again:
            assert again.folder == root


def test_create_refuses_a_file_where_the_folder_goes(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ConfigurationError) as err:
        Workspace.create("proj", folder=tmp_path / "a-file")
    assert str(tmp_path / "a-file") in str(err.value) and "not a folder" in str(err.value)


# -- smaller items: sentences and hints; malformed config.json -------------------------------------


def test_a_hint_follows_a_finished_sentence(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigurationError) as err:
        Workspace.create("proj", folder=tmp_path / "busy")
    assert "is not a workspace. Choose" in str(err.value), str(err.value)
    assert str(HeadwaterError("It broke", hint="Fix it.")) == "It broke. Fix it."
    assert str(HeadwaterError("It broke.", hint="Fix it.")) == "It broke. Fix it."
    assert str(HeadwaterError("Did it break?", hint="Fix it.")) == "Did it break? Fix it."
    assert str(HeadwaterError("It broke")) == "It broke"


def _config(tmp_path: Path, data: object) -> Path:
    f = tmp_path / "proj" / ".azureml" / "config.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps(data))
    return f


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("/etc/passwd", "is a file, not a folder"),
        ("{tmp}/no/such/parent/ws", "does not exist"),
        (["a", "list"], "Expected a string, got list"),
    ],
)
def test_a_malformed_folder_in_config_names_the_file_the_key_and_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: object, expected: str
) -> None:
    if isinstance(folder, str):
        folder = folder.format(tmp=tmp_path)
    f = _config(tmp_path, {"workspace_name": "ws", "folder": folder})
    with pytest.raises(ConfigurationError) as err:
        Workspace.from_config(f)
    text = str(err.value)
    assert str(f) in text and "key 'folder'" in text and expected in text, text
    assert not (tmp_path / "no").exists()  # nothing was created on the way
    monkeypatch.chdir(f.parent.parent)
    line = _one_error_line(_hw("workspace", "show", code=1))
    assert str(f) in line and "key 'folder'" in line and expected in line, line


# -- item 10: database faults -----------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the file or folder ``path`` read-only for this process, root included.

    Root ignores permission bits, so as root the file is made immutable (``chattr +i``, which
    needs CAP_LINUX_IMMUTABLE and a filesystem with the flag: ext4, xfs, btrfs, tmpfs); otherwise
    its mode becomes 0444. Either way SQLite opens it read-only and refuses writes with
    SQLITE_READONLY, as it does for a workspace owned by another user.
    """
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


def corrupt(db: Path, table: str | None = None) -> None:
    """Overwrite the first pages of ``table`` and its indexes with garbage (the database opens,
    reading the table fails); without a table, every page but the first (the header and schema)."""
    size = db.stat().st_size
    assert size >= 3 * 4096, size
    if table is None:
        spans = [(4096, size - 4096)]
    else:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            roots = [r[0] for r in conn.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = ?", (table,))]
        finally:
            conn.close()
        assert roots
        spans = [((root - 1) * page_size, page_size) for root in roots]
    with open(db, "r+b") as fh:
        for start, length in spans:
            fh.seek(start)
            fh.write(b"\xa5\x5a" * (length // 2))


def _pipeline(ws: Workspace, proj: Path, body: str = "") -> Pipeline:
    gen(proj / "src", {"a.py": script("a", body)})
    return Pipeline(ws, [PythonScriptStep("a.py", name="a", source_directory=str(proj / "src"))])


def _runs_folders(ws_folder: Path) -> list[str]:
    runs = ws_folder / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []


def _run_count(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        conn.close()


def test_submit_to_a_read_only_metadata_db_names_the_file_and_leaves_nothing(pws: Workspace, proj: Path) -> None:
    pipeline = _pipeline(pws, proj)
    db = pws.folder / "metadata.db"
    pws.close()
    with read_only(db):
        with pytest.raises(MetadataStoreError) as err:
            Experiment(pws, "e").submit(pipeline)
        pws.close()
        text = str(err.value)
        assert str(db) in text and "read-only" in text and "permissions" in text, text
        assert _runs_folders(pws.folder) == []
    assert _run_count(db) == 0


def test_a_submit_failing_half_way_through_recording_records_nothing(
    pws: Workspace, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.store.metadata import MetadataStore

    gen(proj / "src", {"a.py": script("a"), "b.py": script("b")})
    pipeline = Pipeline(pws, [PythonScriptStep(f"{n}.py", name=n, source_directory=str(proj / "src")) for n in "ab"])
    real = MetadataStore.set_tags
    calls: list[str] = []

    def set_tags_then_fail(self: MetadataStore, run_id: str, tags: dict[str, str | None]) -> None:
        calls.append(run_id)
        if len(calls) == 2:  # the second step's tags: the pipeline run and one step are written by now
            raise OSError(28, "No space left on device")
        real(self, run_id, tags)

    monkeypatch.setattr(MetadataStore, "set_tags", set_tags_then_fail)
    with pytest.raises(OSError, match="No space left"):
        Experiment(pws, "e").submit(pipeline)
    monkeypatch.undo()
    assert _runs_folders(pws.folder) == []
    assert pws.metadata_store.list_runs() == []  # not a pipeline run and one step, NotStarted or Failed


def test_cli_on_a_read_only_metadata_db_prints_one_line(pws: Workspace) -> None:
    db = pws.folder / "metadata.db"
    pws.close()
    with read_only(db):
        line = _one_error_line(
            _hw("compute", "attach-ray", "ray1", "--address", "127.0.0.1:1", "-w", "pipelines", code=1)
        )
    assert str(db) in line and "read-only" in line, line


@pytest.mark.parametrize("table", [None, "runs"])
def test_submit_to_a_corrupted_metadata_db_names_the_file(pws: Workspace, proj: Path, table: str | None) -> None:
    pipeline = _pipeline(pws, proj)
    db = pws.folder / "metadata.db"
    pws.close()
    corrupt(db, table)
    with pytest.raises(MetadataStoreError) as err:
        Experiment(pws, "e").submit(pipeline)
    pws.close()
    text = str(err.value)
    assert str(db) in text and "damaged" in text and "headwater workspace check" in text, text
    assert _runs_folders(pws.folder) == []


@pytest.mark.parametrize("table", [None, "runs"])
def test_cli_on_a_corrupted_metadata_db_prints_one_line(pws: Workspace, table: str | None) -> None:
    db = pws.folder / "metadata.db"
    pws.close()
    corrupt(db, table)
    line = _one_error_line(_hw("run", "list", "-w", "pipelines", code=1))
    assert str(db) in line and "is damaged" in line and "headwater workspace check" in line, line


# -- item 11: headwater workspace check | backup -----------------------------------------------------

WRITER = """
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--out"); a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "x.txt"), "w") as fh:
    fh.write("written by the step")
"""
READER = """
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--inp"); a = p.parse_args()
print(open(os.path.join(a.inp, "x.txt")).read())
"""


def _two_steps(ws: Workspace, proj: Path) -> Pipeline:
    from headwater import OutputFileDatasetConfig

    gen(proj / "src", {"w.py": script("w", WRITER), "r.py": script("r", READER)})
    out = OutputFileDatasetConfig("s1_out")
    return Pipeline(
        ws,
        [
            PythonScriptStep("w.py", name="w", source_directory=str(proj / "src"), arguments=["--out", out]),
            PythonScriptStep("r.py", name="r", source_directory=str(proj / "src"), arguments=["--inp", out.as_input()]),
        ],
    )


def _ran_twice(ws: Workspace, proj: Path) -> str:
    """Run the two-step pipeline, then again (every step reused); returns the first run's id."""
    pipeline = _two_steps(ws, proj)
    first = Experiment(ws, "e").submit(pipeline)
    first.wait_for_completion()
    assert first.get_status() == "Finished"
    again = Experiment(ws, "e").submit(pipeline)
    again.wait_for_completion()
    assert again.get_status() == "Finished"
    return first.id


def _check(code: int) -> dict[str, Any]:
    result = _hw("workspace", "check", "-w", "pipelines", "--json", code=code)
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["ok"] is (code == 0)
    return report


def _output_file(ws: Workspace) -> Path:
    (found,) = (ws.folder / "datastores" / "workspaceblobstore").rglob("x.txt")
    return found


def test_a_healthy_workspace_checks_clean(pws: Workspace, proj: Path) -> None:
    _ran_twice(pws, proj)
    report = _check(0)
    assert report["problems"] == [] and report["skipped"] == []
    assert report["runs_checked"] == 6 and report["outputs_checked"] == 1
    assert report["schema"] == report["expected_schema"]
    text = _hw("workspace", "check", "-w", "pipelines").stdout
    assert "problems: 0" in text


def test_check_reports_a_deleted_run_folder(pws: Workspace, proj: Path) -> None:
    import shutil

    first = _ran_twice(pws, proj)
    (step,) = [
        s
        for s in Experiment(pws, "e").get_runs(include_children=True)
        if s.parent and s.parent.id == first and s.name == "r"
    ]
    shutil.rmtree(pws.folder / "runs" / step.id)
    report = _check(1)
    (problem,) = report["problems"]
    assert problem["kind"] == "run_folder" and problem["run_id"] == step.id, problem
    result = _hw("workspace", "check", "-w", "pipelines", code=1)
    assert step.id in result.stdout and "has no folder" in result.stdout
    assert _one_error_line(result).startswith("error: Workspace 'pipelines' has 1 problem(s)")


def test_check_does_not_count_a_failed_submit_as_a_lost_run_folder(
    pws: Workspace, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.plan.run_plan import RunPlan

    def full_disk(self: object, path: object) -> None:
        raise OSError(28, "No space left on device")

    pipeline = _pipeline(pws, proj)
    monkeypatch.setattr(RunPlan, "save", full_disk)
    with pytest.raises(OSError):
        Experiment(pws, "e").submit(pipeline)
    (run,) = pws.metadata_store.list_runs(top_level=True)
    assert run.status == "Failed" and _runs_folders(pws.folder) == []
    assert _check(0)["runs_checked"] == 2


@pytest.mark.parametrize(
    ("change", "said"),
    [("edit", "changed on disk"), ("delete", "changed on disk"), ("remove-folder", "is missing")],
)
def test_check_reports_an_output_changed_on_disk(pws: Workspace, proj: Path, change: str, said: str) -> None:
    _ran_twice(pws, proj)
    f = _output_file(pws)
    if change == "edit":
        f.write_text("edited by hand")
    elif change == "delete":  # the output's folder stays, empty: its content changed
        f.unlink()
    else:
        shutil.rmtree(f.parent)
    report = _check(1)
    (problem,) = report["problems"]
    assert problem["kind"] == "output" and "'s1_out'" in problem["message"], problem
    assert said in problem["message"], problem


def test_check_reports_a_corrupted_database(pws: Workspace, proj: Path) -> None:
    _ran_twice(pws, proj)
    pws.close()
    corrupt(pws.folder / "metadata.db")
    report = _check(1)
    problems = report["problems"]
    assert problems and all(p["kind"] == "database" for p in problems), problems
    assert report["skipped"], report


def test_check_reports_a_schema_from_a_newer_headwater(pws: Workspace) -> None:
    pws.close()
    conn = sqlite3.connect(pws.folder / "metadata.db")
    try:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
        conn.commit()
    finally:
        conn.close()
    report = _check(1)
    (problem,) = report["problems"]
    assert problem["kind"] == "schema" and "newer Headwater" in problem["message"], problem


def test_check_does_not_read_unchanged_outputs_again(
    pws: Workspace, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.ops.workspace_check import check_workspace
    from headwater.plan import digests

    _ran_twice(pws, proj)
    assert check_workspace(pws.name, pws.folder, pws._store_url()).ok  # fills the digest cache if needed
    hashed: list[str] = []
    real = digests._hash_file

    def spy(path: str, size: int) -> str:
        hashed.append(path)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", spy)
    report = check_workspace(pws.name, pws.folder, pws._store_url())
    assert report.ok and report.outputs_checked == 1
    assert hashed == []
    _output_file(pws).write_text("edited")
    assert not check_workspace(pws.name, pws.folder, pws._store_url()).ok
    assert len(hashed) == 1  # only the changed file is read


def test_schema_tables_match_a_new_database(pws: Workspace) -> None:
    from headwater.store.maintenance import TABLES

    conn = sqlite3.connect(f"file:{pws.folder / 'metadata.db'}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert set(TABLES) == tables


LOGGER = """
import os, time
from headwater import Run
run = Run.get_context()
open(os.environ["HW_TEST_STARTED"], "w").close()
i = 0
while not os.path.exists(os.environ["HW_TEST_RELEASE"]):
    run.log("tick", i)  # the orchestrator keeps writing these into metadata.db
    i += 1
    time.sleep(0.01)
"""


@pytest.mark.slow
def test_a_backup_taken_while_a_pipeline_runs_opens_and_has_the_runs(
    pws: Workspace, proj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _ran_twice(pws, proj)
    started, release = tmp_path / "started", tmp_path / "release"
    monkeypatch.setenv("HW_TEST_STARTED", str(started))
    monkeypatch.setenv("HW_TEST_RELEASE", str(release))
    gen(proj / "slow", {"slow.py": script("slow", LOGGER)})
    running = Experiment(pws, "e").submit(
        Pipeline(pws, [PythonScriptStep("slow.py", name="slow", source_directory=str(proj / "slow"))])
    )
    try:
        _poll(started.exists, "the step to start")
        (step,) = running.get_children()
        _poll(lambda: len(step.get_metrics().get("tick", [])) > 5, "the step's metrics to be recorded")
        backups = tmp_path / "backups"
        backups.mkdir()
        result = _hw("workspace", "backup", str(backups), "-w", "pipelines")
    finally:
        release.touch()
    running.wait_for_completion()
    (copy,) = backups.iterdir()
    assert str(copy) in result.stdout
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = dict(conn.execute("SELECT id, status FROM runs WHERE parent_id IS NULL").fetchall())
        ticks = conn.execute("SELECT count(*) FROM metrics WHERE name = 'tick'").fetchone()[0]
    finally:
        conn.close()
    assert statuses[first] == "Finished" and statuses[running.id] == "Running", statuses
    assert len(statuses) == 3 and ticks > 5
    with Workspace.get("pipelines", folder=pws.folder) as ws:  # the live workspace is unharmed
        assert ws.metadata_store.get_run(running.id).status == "Finished"  # type: ignore[union-attr]


def test_backup_refuses_to_overwrite(pws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "taken.db").write_text("mine")
    line = _one_error_line(_hw("workspace", "backup", str(tmp_path / "taken.db"), "-w", "pipelines", code=1))
    assert "exists already" in line and str(tmp_path / "taken.db") in line
    assert (tmp_path / "taken.db").read_text() == "mine"
    _hw("workspace", "backup", str(tmp_path / "new.db"), "-w", "pipelines")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("new", ".new"))) == ["new.db"]


def test_backup_of_a_postgresql_workspace_says_to_use_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    Workspace.create("pg", metadata_url=postgres_url).close()
    line = _one_error_line(_hw("workspace", "backup", str(tmp_path / "b.dump"), "-w", "pg", code=1))
    assert "pg_dump --format=custom" in line and str(tmp_path / "b.dump") in line, line
    assert not (tmp_path / "b.dump").exists()


@pytest.mark.slow
def test_check_of_a_postgresql_workspace(postgres_url: str, proj: Path) -> None:
    with Workspace.create("pg", metadata_url=postgres_url) as ws:
        run = Experiment(ws, "e").submit(_two_steps(ws, proj))
        run.wait_for_completion()
        assert run.get_status() == "Finished"
    report = json.loads(_hw("workspace", "check", "-w", "pg", "--json").stdout)
    assert report["ok"] and report["runs_checked"] == 3 and report["outputs_checked"] == 1, report
