"""Warm step starts (engine/executors/warm_start.py, runtime/step_server.py, runtime/step_child.py).

Every test runs real step processes through the :class:`LocalExecutor` and a real step server. A
step knows it was forked by its parent: the server, not this process. The script must not be able
to tell otherwise: each property is compared with the same script started as a fresh interpreter
(``HEADWATER_STEP_START=exec``). Each test has a server of its own (a ``PYTHON*`` variable of its
own is part of the server's key), killed at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

from headwater.engine.executors import warm_start
from headwater.engine.executors.base import TaskResult, TaskSpec
from headwater.engine.executors.local import LocalExecutor
from headwater.engine.executors.warm_start import MODE_ENV, record_path
from headwater.runtime.step_child import read_record

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="warm starts are Linux-only (/proc, abstract sockets)")

GUARD_S = 60.0  # only a guard against a hang

PROBE = r"""
import json, os, random, signal, subprocess, sys, threading, time

mode = sys.argv[1]
if mode == "probe":
    info = {
        "argv": sys.argv, "orig_argv": getattr(sys, "orig_argv", None), "path": sys.path, "cwd": os.getcwd(),
        "env": dict(os.environ), "fds": sorted(os.listdir("/proc/self/fd")),
        "signals": {s.name: repr(signal.getsignal(s)) for s in signal.valid_signals() if isinstance(s, signal.Signals)},
        "mask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "threads": len(os.listdir("/proc/self/task")), "active": threading.active_count(),
        "main": sorted((k, type(v).__name__) for k, v in globals().items() if k.startswith("__")),
        "file": __file__, "name": __name__, "spec": repr(__spec__), "loader": type(__loader__).__name__,
        "is_main": sys.modules["__main__"].__dict__ is globals(),
        "leader": [os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid()],
        "streams": [[s.line_buffering, s.write_through, s.encoding, s.errors] for s in (sys.stdout, sys.stderr)],
        "stdin": os.readlink("/proc/self/fd/0"),
        "stdout": os.readlink("/proc/self/fd/1").split(":")[0],
        "same_out": os.readlink("/proc/self/fd/1") == os.readlink("/proc/self/fd/2"),
        "proc_environ": dict(
            i.decode().split("=", 1) for i in open("/proc/self/environ", "rb").read().split(b"\0") if i
        ) == dict(os.environ),
        "flags": repr(sys.flags), "executable": sys.executable, "getenv": os.getenv("PROBE_VALUE"),
    }
    print(json.dumps({"info": info, "ppid": os.getppid(), "random": random.random()}))
elif mode == "ppid":
    print(json.dumps({"ppid": os.getppid()}))
elif mode == "exit":
    print(json.dumps({"ppid": os.getppid()}), flush=True)
    sys.exit(int(sys.argv[2]))
elif mode == "raise":
    print(json.dumps({"ppid": os.getppid()}), flush=True)
    1 / 0
elif mode == "interrupt":
    print(json.dumps({"ppid": os.getppid()}), flush=True)
    raise KeyboardInterrupt
elif mode == "atexit":
    import atexit
    atexit.register(lambda: print("atexit ran", flush=True))
    threading.Thread(target=lambda: (time.sleep(0.2), print("thread ran", flush=True))).start()
    print(json.dumps({"ppid": os.getppid()}), flush=True)
elif mode == "segv":
    print(json.dumps({"ppid": os.getppid()}), flush=True)
    os.kill(os.getpid(), signal.SIGSEGV)
elif mode == "importerror":
    print(json.dumps({"ppid": os.getppid()}), flush=True)
    import headwater_no_such_module_at_all  # noqa
elif mode == "maps":  # which of the given modules' files are mapped before the step imports anything
    maps = open("/proc/self/maps").read()
    mapped = [f for f in sys.argv[2:] if f in maps]
    print(json.dumps({"ppid": os.getppid(), "modules": sorted(sys.modules), "mapped": mapped}))
elif mode == "modules":  # what the step has before its first import
    print(json.dumps({"ppid": os.getppid(), "modules": sorted(sys.modules)}))
elif mode == "pandas":
    had = "pandas" in sys.modules
    import pandas  # noqa
    print(json.dumps({"ppid": os.getppid(), "had": had}))
elif mode == "fractions":
    had = "fractions" in sys.modules
    import fractions  # noqa
    print(json.dumps({"ppid": os.getppid(), "had": had}))
elif mode == "minidom":
    had = "xml.dom.minidom" in sys.modules
    import xml.dom.minidom  # noqa
    print(json.dumps({"ppid": os.getppid(), "had": had}))
elif mode in ("threadmaker", "editable_thing"):  # a module of the test's own "environment"
    had = mode in sys.modules
    module = __import__(mode)
    print(json.dumps({"ppid": os.getppid(), "had": had, "value": getattr(module, "VALUE", None),
                      "threads": len(os.listdir("/proc/self/task"))}))
elif mode == "imports":
    import helper_of_mine, fractions, xml.dom.minidom  # noqa
    print(json.dumps({"ppid": os.getppid(), "helper": helper_of_mine.VALUE}))
elif mode == "random":
    import numpy
    print(json.dumps({"ppid": os.getppid(), "random": random.random(), "numpy": float(numpy.random.random())}))
elif mode == "daemon":  # a grandchild in a session of its own, left running when the step exits
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    print(json.dumps({"ppid": os.getppid(), "daemon": child.pid}), flush=True)
elif mode == "spawn":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(sys.argv[2] + ".tmp", "w") as fh:
        fh.write(f"{os.getpid()} {child.pid} {os.getppid()}")
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
    time.sleep(300)
"""


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + GUARD_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


class Steps:
    """Runs ``PROBE`` as steps of a fake workspace through one executor."""

    def __init__(self, root: Path, executor: LocalExecutor) -> None:
        self.root = root
        self.executor = executor
        self.script = root / "src" / "probe.py"
        self.script.parent.mkdir()
        self.script.write_text(PROBE)
        (root / "src" / "helper_of_mine.py").write_text("VALUE = 7\n")
        self.workspace = root / "ws"
        self.workspace.mkdir()

    def spec(
        self, *args: str, env: dict[str, str] | None = None, timeout: float | None = None, step: str = "probe"
    ) -> TaskSpec:
        run_id = f"run-{uuid.uuid4().hex[:8]}"
        base = {"AZUREML_WORKSPACE_ID": str(self.workspace), "AZUREML_ARM_PROJECT_NAME": "exp", "PYTHONUNBUFFERED": "1"}
        return TaskSpec(
            run_id=run_id,
            argv=(sys.executable, "probe.py", *args),
            cwd=str(self.script.parent),
            env={**base, **(env or {})},
            log_path=str(self.root / "logs" / run_id / "std_log.txt"),
            timeout_seconds=timeout,
            step_name=step,
        )

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float | None = None, step: str = "probe"
    ) -> tuple[TaskResult, str]:
        task = self.spec(*args, env=env, timeout=timeout, step=step)
        self.executor.submit(task)
        result = self.result(task.run_id)
        return result, Path(task.log_path).read_text()

    def result(self, run_id: str) -> TaskResult:
        deadline = time.monotonic() + GUARD_S
        while True:
            assert time.monotonic() < deadline, f"no result for {run_id}"
            for result in self.executor.wait(timeout=1.0):
                assert result.run_id == run_id, result
                return result

    def forked(self, log: str) -> bool:
        return json.loads(log.splitlines()[0])["ppid"] != os.getpid()

    def warm_up(self) -> None:
        """Run steps until one is forked by the server (the first one starts it)."""
        wait_until(lambda: self.forked(self.run("ppid")[1]), "a warm start")

    def record(self, step: str = "probe") -> dict[str, Any]:
        return read_record(str(record_path(str(self.workspace), sys.executable, "exp", "probe.py", step)))

    def warm_with(self, mode: str, step: str) -> None:
        """Run step ``step`` (``mode``: a probe that says whether its module was there before it
        imported it) until it is forked from a server that had imported that module."""
        wait_until(lambda: json.loads(self.run(mode, step=step)[1]).get("had"), f"a server holding {mode}'s module")


@pytest.fixture
def steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Steps]:
    monkeypatch.setenv("PYTHONHEADWATERTESTKEY", uuid.uuid4().hex)  # a server of this test's own
    monkeypatch.setenv("HEADWATER_STEP_SERVER_IDLE", "30")
    monkeypatch.delenv(MODE_ENV, raising=False)
    executor = LocalExecutor(grace_seconds=1.0)
    try:
        yield Steps(tmp_path, executor)
    finally:
        servers = executor._warm.server_pids() if hasattr(executor, "_warm") else set()
        executor.close()
        for pid in servers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not servers or not executor._warm.server_pids(), "the servers to exit")


def _probe(steps: Steps, env: dict[str, str] | None = None) -> dict[str, Any]:
    result, log = steps.run("probe", "two words", "--x=1", env=env)
    assert result.succeeded, log
    out: dict[str, Any] = json.loads(log)
    return out


@pytest.mark.slow
def test_a_forked_step_sees_what_a_fresh_interpreter_sees(steps: Steps) -> None:
    steps.warm_up()
    env = {"PROBE_VALUE": "é ünicode", "PYTHONPATH": str(steps.root / "extra")}
    warm = _probe(steps, env)
    fresh = _probe(steps, {**env, MODE_ENV: "exec"})
    assert warm["ppid"] != os.getpid() and fresh["ppid"] == os.getpid()
    fresh["info"]["env"].pop(MODE_ENV)
    for probe in (warm, fresh):  # the marker: each step's own run id
        assert probe["info"]["env"].pop("AZUREML_RUN_ID").startswith("run-")
    for key, value in fresh["info"].items():
        assert warm["info"][key] == value, key
    assert warm["info"]["fds"] == ["0", "1", "2", "3"]  # 3: the listing's own
    assert warm["info"]["threads"] == 1 and warm["info"]["leader"] == [True, True]
    assert warm["info"]["path"][:2] == [str(steps.script.parent), str(steps.root / "extra")]


@pytest.mark.slow
def test_exit_codes_tracebacks_atexit_and_interrupts_are_those_of_a_fresh_interpreter(steps: Steps) -> None:
    steps.warm_up()
    for args in (("exit", "3"), ("exit", "0"), ("raise",), ("interrupt",), ("atexit",)):
        warm_result, warm_log = steps.run(*args)
        fresh_result, fresh_log = steps.run(*args, env={MODE_ENV: "exec"})
        assert steps.forked(warm_log) and not steps.forked(fresh_log)
        assert warm_result.returncode == fresh_result.returncode, args
        assert warm_log.splitlines()[1:] == fresh_log.splitlines()[1:], args
    assert warm_result.returncode == 0 and "atexit ran" in warm_log and "thread ran" in warm_log


@pytest.mark.slow
def test_random_and_numpy_random_are_reseeded_in_each_forked_step(steps: Steps) -> None:
    steps.warm_up()
    steps.run("random")  # records numpy, which the server imports before the next start
    runs = [json.loads(steps.run("random")[1]) for _ in range(3)]
    assert all(r["ppid"] != os.getpid() for r in runs)
    assert "numpy" in steps.record()["modules"]
    assert len({r["random"] for r in runs}) == 3 and len({r["numpy"] for r in runs}) == 3


@pytest.mark.slow
def test_the_record_holds_stdlib_and_site_modules_never_the_steps_own(steps: Steps) -> None:
    steps.warm_up()
    result, log = steps.run("imports")
    assert result.succeeded and steps.forked(log), log
    modules = steps.record()["modules"]
    assert {"fractions", "xml"} <= set(modules) and "helper_of_mine" not in modules
    (steps.script.parent / "helper_of_mine.py").write_text("VALUE = 8\n")  # the step's own code changes
    result, log = steps.run("imports")
    assert json.loads(log)["helper"] == 8 and steps.forked(log)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_cancel_and_timeout_stop_a_forked_step_and_its_children(steps: Steps, how: str) -> None:
    steps.warm_up()
    marker = steps.root / "pids"
    task = steps.spec("spawn", str(marker), timeout=0.5 if how == "timeout" else None)
    steps.executor.submit(task)
    wait_until(marker.exists, "the step's pids")
    pid, child, parent = (int(x) for x in marker.read_text().split())
    assert parent != os.getpid()  # forked
    if how == "cancel":
        steps.executor.cancel(task.run_id)
    result = steps.result(task.run_id)
    assert result.reason == ("canceled" if how == "cancel" else "timeout")
    assert result.returncode == -signal.SIGTERM
    wait_until(lambda: gone(pid) and gone(child), "the step and its child to be gone")


@pytest.mark.slow
def test_what_a_forked_step_left_running_is_stopped_when_it_ends(steps: Steps) -> None:
    steps.warm_up()
    result, log = steps.run("daemon")
    assert result.succeeded and steps.forked(log)
    wait_until(lambda: gone(json.loads(log)["daemon"]), "the step's daemon to be stopped")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["segv", "importerror"])
def test_a_step_whose_warm_start_failed_that_way_starts_fresh_next_time(steps: Steps, mode: str) -> None:
    steps.warm_up()
    result, log = steps.run(mode)
    assert steps.forked(log) and not result.succeeded
    assert steps.record().get("fallback")
    result, log = steps.run("ppid")
    assert result.succeeded and not steps.forked(log)


@pytest.mark.slow
def test_step_start_exec_turns_warm_starts_off(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    steps.warm_up()
    monkeypatch.setenv(MODE_ENV, "exec")
    for _ in range(3):
        result, log = steps.run("ppid")
        assert result.succeeded and not steps.forked(log)


@pytest.mark.slow
def test_a_dead_server_is_replaced_and_no_step_is_lost(steps: Steps) -> None:
    steps.warm_up()
    servers = steps.executor._warm.server_pids()
    for server in servers:
        os.kill(server, signal.SIGKILL)
    wait_until(lambda: not steps.executor._warm.server_pids(), "the servers to be gone")
    result, log = steps.run("exit", "0")
    assert result.succeeded
    assert json.loads(log.splitlines()[0])["ppid"] not in (*servers, os.getpid())  # a new server forked it


@pytest.mark.slow
def test_a_server_that_cannot_start_means_a_fresh_interpreter(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_start, "_SERVER_CODE", "raise SystemExit(3)")
    for _ in range(2):
        result, log = steps.run("ppid")
        assert result.succeeded and not steps.forked(log)


@pytest.mark.slow
def test_a_server_that_gets_a_thread_stops_and_its_module_is_never_imported_again(
    steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder named like the runtime link folder counts as Headwater's own: its modules are recorded.
    site = steps.root / "env" / ".headwater-runtime"
    site.mkdir(parents=True)
    (site / "threadmaker.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n"
    )
    env = {"PYTHONPATH": str(site)}
    monkeypatch.setenv("PYTHONPATH", str(site))
    steps.warm_up()
    for _ in range(2):  # recorded; then its set's server imports it, gets a thread and stops
        assert steps.run("threadmaker", env=env)[0].succeeded
    wait_until(lambda: steps.record().get("skip") == ["threadmaker"], "the module to be recorded as skipped")
    for _ in range(3):  # forked, from servers that never import it
        out = json.loads(steps.run("threadmaker", env=env)[1])
        assert out["ppid"] != os.getpid() and not out["had"] and out["threads"] == 2


@pytest.mark.slow
def test_an_idle_server_exits(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_STEP_SERVER_IDLE", "0.5")
    steps.warm_up()
    wait_until(lambda: not steps.executor._warm.server_pids(), "the idle server to exit")


@pytest.mark.slow
def test_a_server_whose_loaded_sources_changed_refuses_and_exits(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded module outside the installed packages (an editable install) is edited: the server's copy is stale.
    site = steps.root / "env" / ".headwater-runtime"
    site.mkdir(parents=True)
    module = site / "editable_thing.py"
    module.write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    steps.warm_up()
    steps.warm_with("editable_thing", step="probe")  # forked from a server that imported it
    server = json.loads(steps.run("editable_thing")[1])["ppid"]
    module.write_text("VALUE = 2\n")
    os.utime(module, ns=(time.time_ns(), time.time_ns() + 10**9))
    result, log = steps.run("editable_thing")
    assert result.succeeded and not steps.forked(log) and json.loads(log)["value"] == 2
    wait_until(lambda: gone(server), "the stale server to exit")


# -- one server per import set -----------------------------------------------------------------


@pytest.mark.slow
def test_a_forked_step_never_sees_a_module_that_only_another_step_imported(steps: Steps) -> None:
    # Two steps of one script and experiment: only 'other' imports fractions.
    steps.warm_up()
    steps.warm_with("fractions", step="other")
    steps.run("modules", step="mine")  # its record: what it imported
    for _ in range(3):
        out = json.loads(steps.run("modules", step="mine")[1])
        assert out["ppid"] != os.getpid()  # forked
        assert "fractions" not in out["modules"]


@pytest.mark.slow
def test_tiny_steps_are_forked_from_a_server_without_pandas_after_a_pandas_step(steps: Steps) -> None:
    steps.warm_up()
    steps.warm_with("pandas", step="frame")
    for step in ("tiny", "tiny", "ppid-only"):
        out = json.loads(steps.run("modules", step=step)[1])
        assert out["ppid"] != os.getpid()
        assert not {m for m in out["modules"] if m.split(".")[0] in ("pandas", "numpy")}
        server = Path(f"/proc/{out['ppid']}/maps").read_text()
        assert "pandas" not in server and "numpy" not in server  # the process it was forked from


@pytest.mark.slow
def test_servers_above_the_cap_are_stopped(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warm_start.SERVERS_ENV, "1")
    steps.warm_up()
    steps.warm_with("fractions", step="a")
    first = json.loads(steps.run("fractions", step="a")[1])["ppid"]
    steps.warm_with("minidom", step="b")
    wait_until(lambda: gone(first), "the least recently used server to stop")
    assert len(warm_start.running_servers(sys.executable, steps.spec("x").env)) == 1 + 1  # b's and the lean one
    assert json.loads(steps.run("minidom", step="b")[1])["had"]


@pytest.mark.slow
def test_a_forked_step_has_no_module_its_server_did_not_import(steps: Steps) -> None:
    # A fresh interpreter has not imported random: a forked step neither (reseeding it must not import it).
    bare = steps.script.parent / "bare.py"
    bare.write_text(
        "import json, os, sys\nprint(json.dumps({'ppid': os.getppid(), 'random': 'random' in sys.modules}))\n"
    )
    steps.warm_up()
    for start in ("fork", "exec"):
        task = dataclasses.replace(steps.spec(env={MODE_ENV: start}, step="bare"), argv=(sys.executable, "bare.py"))
        steps.executor.submit(task)
        assert steps.result(task.run_id).succeeded
        out = json.loads(Path(task.log_path).read_text())
        assert (out["ppid"] != os.getpid()) == (start == "fork")
        assert out["random"] is False


@pytest.mark.slow
def test_closing_the_executor_does_not_search_for_step_processes_because_of_its_servers(
    steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The servers it started are its children, not what a step left: no search of every process
    # (milliseconds on the way to the run's end) when every step has ended.
    from headwater.engine.executors import process_tree

    steps.warm_up()
    assert steps.executor._warm.server_pids()
    searched: list[object] = []
    real = process_tree.stop_step_processes

    def spy(*args: Any, **kwargs: Any) -> set[int]:
        searched.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(process_tree, "stop_step_processes", spy)
    steps.executor.close()
    assert searched == []


@pytest.mark.slow
def test_the_lean_server_has_loaded_slow_extension_modules_a_step_does_not_see(steps: Steps) -> None:
    # hashlib's OpenSSL library costs milliseconds to load: a step forked from the lean server finds
    # it loaded, but the module is not imported until the step imports it, as in a fresh interpreter.
    import _hashlib

    steps.warm_up()

    def mapped() -> dict[str, Any]:
        out: dict[str, Any] = json.loads(steps.run("maps", _hashlib.__file__, step="new")[1])
        assert out["ppid"] != os.getpid()
        assert "_hashlib" not in out["modules"] and "hashlib" not in out["modules"]
        return out

    wait_until(lambda: mapped()["mapped"], "a start with _hashlib's library already loaded")


@pytest.mark.slow
def test_an_orchestrator_starts_no_server_that_another_one_already_runs(
    steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps.warm_up()
    steps.warm_with("fractions", step="a")  # its import set's server runs
    monkeypatch.setattr(warm_start, "_SPAWNED", {})  # another orchestrator: it started no server
    other = LocalExecutor(grace_seconds=1.0)
    try:
        twin = Steps.__new__(Steps)
        twin.__dict__.update(steps.__dict__, executor=other)
        for _ in range(2):  # b imports what a imports: its first run ends with a's set
            assert json.loads(twin.run("fractions", step="b")[1])["ppid"] != os.getpid()
        assert json.loads(twin.run("fractions", step="b")[1])["had"]
        assert other._warm.server_pids() == set() and not other._warm._spawned
    finally:
        other.close()
