"""Warm ParallelRunStep workers (runtime/parallel_warm.py): forked from a worker server that has already
imported what the entry script's workers imported on the previous run. A worker must not be able to
tell, except by its speed: each property is compared with the same step's workers started as fresh
interpreters (``HEADWATER_STEP_START=exec``). Each test has a server of its own (a ``PYTHON*``
variable of its own is part of the server's key), killed at the end."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import OutputFileDatasetConfig, ParallelRunStep, Workspace
from headwater.runtime.parallel_warm import MODE_ENV, RECORDS_DIR
from tests.conftest import gen
from tests.e2e.test_parallel_run_step import _config, _files, _output_lines, _submit

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="warm starts are Linux-only (/proc, abstract sockets)"),
]

PROBE = """
import os, sys
PRELOADED = "colorsys" in sys.modules  # a module only this entry script imports
import colorsys, json, random, signal, threading
from azureml_user.parallel_run import EntryScript

def _note(kind, **more):
    with open(os.environ["HW_TEST_EVENTS"], "a") as f:
        f.write(json.dumps(dict(kind=kind, pid=os.getpid(), **more)) + "\\n")

_note("module", preloaded=PRELOADED)

def init():
    parent = open("/proc/%d/cmdline" % os.getppid(), "rb").read().decode(errors="replace")
    _note("init", parent=parent, random=random.random(), threads=len(os.listdir("/proc/self/task")),
          active=threading.active_count(), argv=sys.argv, cwd=os.getcwd(), path=sys.path,
          env={k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_PARALLEL_PROCESS")},
          signals={s.name: repr(signal.getsignal(s)) for s in signal.valid_signals() if isinstance(s, signal.Signals)},
          fds=sorted(os.listdir("/proc/self/fd")), leader=os.getpgid(0) == os.getpid(),
          name=__name__, main=sys.modules["__main__"].__name__)
    print("to stdout")
    sys.stderr.write("to stderr\\n")
    EntryScript().logger.info("logged by %s", EntryScript().agent_name)

def run(mini_batch):
    if os.path.basename(mini_batch[0]) in os.environ.get("HW_SLOW", "").split(","):
        marker = os.environ["HW_MARKERS"] + "/" + os.path.basename(mini_batch[0])
        if not os.path.exists(marker):  # first try: hang, then be killed
            open(marker, "w").close()
            import time
            time.sleep(600)
    if os.path.basename(mini_batch[0]) in os.environ.get("HW_EXIT", "").split(","):
        marker = os.environ["HW_MARKERS"] + "/" + os.path.basename(mini_batch[0])
        if not os.path.exists(marker):  # first try: the worker exits
            open(marker, "w").close()
            os._exit(3)
    if os.path.basename(mini_batch[0]) in os.environ.get("HW_FAIL", "").split(","):
        raise ValueError("cannot score " + mini_batch[0])
    return [os.path.basename(p) for p in mini_batch]
"""

GUARD_S = 60.0


def _servers(key: str) -> set[int]:
    """The worker servers started with this test's key in their environment."""
    found = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if b"AZUREML_RUN_ID=" in environ:
            continue  # a worker forked by the server (its command line is the server's)
        if b"headwater-parallel-server" in cmdline and f"PYTHONHEADWATERTESTKEY={key}".encode() in environ:
            found.add(int(pid))
    return found


@pytest.fixture
def events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    key = uuid.uuid4().hex
    monkeypatch.setenv("PYTHONHEADWATERTESTKEY", key)  # a server of this test's own
    monkeypatch.setenv("HEADWATER_STEP_SERVER_IDLE", "30")
    monkeypatch.delenv(MODE_ENV, raising=False)
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("HW_TEST_EVENTS", str(path))
    yield path
    servers = _servers(key)
    for pid in servers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + GUARD_S
    while _servers(key) and time.monotonic() < deadline:
        time.sleep(0.05)


def _score(ws: Workspace, proj: Path, events: Path, **over: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Run the probe step over 4 files on 2 workers; the run and the events of its workers."""
    events.write_text("")
    config = _config(proj / "src", mini_batch_size=1, **over)
    step = ParallelRunStep("probe", config, [_files(ws, proj, 4)], OutputFileDatasetConfig("scores"), allow_reuse=False)
    run = _submit(ws, step)
    return run, [json.loads(line) for line in events.read_text().splitlines()]


def _of(seen: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in seen if e["kind"] == kind]


def test_a_second_run_forks_workers_that_find_the_modules_imported_yet_load_the_entry_script_fresh(
    pws: Workspace, proj: Path, events: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen(proj / "src", {"score.py": PROBE})
    first, seen1 = _score(pws, proj, events)
    assert first.get_status() == "Finished", first.get_details()
    assert list((Path(pws.folder) / RECORDS_DIR).glob("*.json"))  # what the workers imported
    second, seen2 = _score(pws, proj, events)
    assert second.get_status() == "Finished", second.get_details()
    monkeypatch.setenv(MODE_ENV, "exec")
    fresh, seen3 = _score(pws, proj, events)
    assert fresh.get_status() == "Finished", fresh.get_details()
    for seen in (seen1, seen2, seen3):  # the entry script's module code and init() once per worker
        modules, inits = _of(seen, "module"), _of(seen, "init")
        assert len(modules) == len(inits) == 2
        assert sorted(m["pid"] for m in modules) == sorted(i["pid"] for i in inits)
    warm, cold = _of(seen2, "init"), _of(seen3, "init")
    assert all(m["preloaded"] for m in _of(seen2, "module"))  # colorsys was imported before the script ran
    assert not any(m["preloaded"] for m in _of(seen3, "module"))
    assert all("headwater-parallel-server" in w["parent"] for w in warm)
    assert all("parallel_driver" in c["parent"] for c in cold)
    assert warm[0]["random"] != warm[1]["random"]  # reseeded in each worker
    for w in warm:
        assert w["threads"] == 1 and w["active"] == 1
    for w, c in zip(warm, cold, strict=True):
        assert {k: w[k] for k in ("signals", "name", "main")} == {k: c[k] for k in ("signals", "name", "main")}
        assert (w["argv"][0], len(w["argv"])) == (c["argv"][0], len(c["argv"]))
        assert [p.replace(w["cwd"], "<wd>") for p in w["path"]] == [p.replace(c["cwd"], "<wd>") for p in c["path"]]
        assert len(w["fds"]) <= len(c["fds"])  # nothing of the server's left open
        assert Path(w["cwd"]).name == Path(c["cwd"]).name == "wd"
        assert set(w["env"]) == set(c["env"]) - {MODE_ENV}
        assert w["leader"]  # its own session: cancel finds it by its run's marker (AZUREML_RUN_ID)
        assert w["env"]["AZUREML_RUN_ID"] == second.find_step_run("probe")[0].id
    logs = Path(pws.folder) / "runs" / second.find_step_run("probe")[0].id / "wd" / "logs" / "user"
    assert all(p.read_text().startswith("to stdout") for p in logs.glob("stdout/*/process00*.stdout.txt"))
    assert all(p.read_text().startswith("to stderr") for p in logs.glob("stderr/*/process00*.stderr.txt"))
    assert len(list(logs.glob("stdout/*/process00*.stdout.txt"))) == 2
    entry_logs = "".join(p.read_text() for p in (logs / "entry_script_log").rglob("*.txt"))
    assert "logged by process000" in entry_logs and "logged by process001" in entry_logs


def test_a_timed_out_call_kills_and_replaces_a_forked_worker(
    pws: Workspace, proj: Path, events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen(proj / "src", {"score.py": PROBE})
    assert _score(pws, proj, events)[0].get_status() == "Finished"
    monkeypatch.setenv("HW_SLOW", "f02.txt")
    monkeypatch.setenv("HW_MARKERS", str(tmp_path))
    run, seen = _score(pws, proj, events, run_invocation_timeout=2)
    assert run.get_status() == "Finished", run.get_details()
    step_run = run.find_step_run("probe")[0]
    assert _output_lines(step_run) == [f"f{i:02d}.txt" for i in range(4)]
    master = (Path(pws.folder) / "runs" / step_run.id / "wd" / "logs" / "sys" / "master_role.txt").read_text()
    assert "run_invocation_timeout=2s" in master and "replaced by process002" in master
    inits = _of(seen, "init")
    assert len(inits) == 3 and all("headwater-parallel-server" in i["parent"] for i in inits)
    for pid in (i["pid"] for i in inits):  # the killed worker is gone, the others ended
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]


def test_a_forked_worker_that_fails_reports_its_traceback(
    pws: Workspace, proj: Path, events: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen(proj / "src", {"score.py": PROBE})
    assert _score(pws, proj, events)[0].get_status() == "Finished"
    monkeypatch.setenv("HW_FAIL", "f01.txt")
    run, seen = _score(pws, proj, events, run_max_try=1, allowed_failed_count=0)
    assert run.get_status() == "Failed"
    assert all("headwater-parallel-server" in i["parent"] for i in _of(seen, "init"))
    error = run.find_step_run("probe")[0].get_details()["error"]["message"]
    assert "Failed mini-batches: 1." in error and "ValueError: cannot score" in error
    assert "Traceback" in error and 'score.py", line' in error and "SystemExit" not in error


def test_exec_starts_every_worker_fresh_and_records_nothing(
    pws: Workspace, proj: Path, events: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODE_ENV, "exec")
    gen(proj / "src", {"score.py": PROBE})
    for _ in range(2):
        run, seen = _score(pws, proj, events)
        assert run.get_status() == "Finished", run.get_details()
        assert all("parallel_driver" in i["parent"] for i in _of(seen, "init"))
    assert not (Path(pws.folder) / RECORDS_DIR).exists()


def test_cancel_stops_forked_workers(
    pws: Workspace, proj: Path, events: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from headwater import Experiment, Pipeline
    from tests.e2e.test_failure_cancel import wait_until_dead

    monkeypatch.setenv("HW_SLOW", ",".join(f"f{i:02d}.txt" for i in range(4)))  # every call hangs
    monkeypatch.setenv("HW_MARKERS", str(tmp_path))
    gen(proj / "src", {"score.py": PROBE})
    config = _config(proj / "src", mini_batch_size=1)
    step = ParallelRunStep(
        "probe", config, [_files(pws, proj, 4)], OutputFileDatasetConfig("scores"), allow_reuse=False
    )
    run = Experiment(pws, "score").submit(Pipeline(pws, steps=[step]))
    deadline = time.monotonic() + GUARD_S
    while len(list(tmp_path.glob("f0*.txt"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # both workers are in a run() call
    inits = _of([json.loads(line) for line in events.read_text().splitlines()], "init")
    assert len(inits) == 2 and all("headwater-parallel-server" in i["parent"] for i in inits)
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert wait_until_dead([i["pid"] for i in inits]) == []


def test_a_worker_whose_server_died_is_still_killed_when_its_call_times_out(
    pws: Workspace, proj: Path, events: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from headwater import Experiment, Pipeline
    from tests.e2e.test_failure_cancel import wait_until_dead

    monkeypatch.setenv("HW_SLOW", "f01.txt")  # hangs on its first try
    monkeypatch.setenv("HW_MARKERS", str(tmp_path))
    gen(proj / "src", {"score.py": PROBE})
    config = _config(proj / "src", mini_batch_size=1, run_invocation_timeout=3)
    step = ParallelRunStep(
        "probe", config, [_files(pws, proj, 4)], OutputFileDatasetConfig("scores"), allow_reuse=False
    )
    run = Experiment(pws, "score").submit(Pipeline(pws, steps=[step]))
    deadline = time.monotonic() + GUARD_S
    while not (tmp_path / "f01.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in _servers(os.environ["PYTHONHEADWATERTESTKEY"]):
        os.kill(pid, signal.SIGKILL)  # the workers' server dies while a call hangs
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Finished", run.get_details()
    assert _output_lines(run.find_step_run("probe")[0]) == [f"f{i:02d}.txt" for i in range(4)]
    inits = _of([json.loads(line) for line in events.read_text().splitlines()], "init")
    assert len(inits) >= 3  # the hung worker was replaced
    assert wait_until_dead([i["pid"] for i in inits]) == []


def test_a_forked_worker_that_exits_is_replaced_and_its_exit_code_reported(
    pws: Workspace, proj: Path, events: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HW_EXIT", "f02.txt")
    monkeypatch.setenv("HW_MARKERS", str(tmp_path))
    gen(proj / "src", {"score.py": PROBE})
    run, seen = _score(pws, proj, events)
    assert run.get_status() == "Finished", run.get_details()
    assert all("headwater-parallel-server" in i["parent"] for i in _of(seen, "init"))
    step_run = run.find_step_run("probe")[0]
    assert _output_lines(step_run) == [f"f{i:02d}.txt" for i in range(4)]
    master = (Path(pws.folder) / "runs" / step_run.id / "wd" / "logs" / "sys" / "master_role.txt").read_text()
    assert "the worker process died (exit code 3)" in master


def test_every_run_after_the_first_finds_the_modules_imported_and_the_record_stays_the_same(
    pws: Workspace, proj: Path, events: Path
) -> None:
    """A worker forked from a server that had imported its set still records that set as its own:
    otherwise the next record would lack it, and runs would alternate between a warm and a cold server."""
    gen(proj / "src", {"score.py": PROBE})
    records: list[list[str]] = []
    preloaded: list[bool] = []
    for _ in range(4):
        run, seen = _score(pws, proj, events)
        assert run.get_status() == "Finished", run.get_details()
        preloaded.append(all(m["preloaded"] for m in _of(seen, "module")))
        (record,) = (Path(pws.folder) / RECORDS_DIR).glob("*.json")
        records.append(sorted(json.loads(record.read_text())["modules"]))
    assert preloaded == [False, True, True, True]
    assert "colorsys" in records[0] and records[1] == records[2] == records[3] == records[0]
