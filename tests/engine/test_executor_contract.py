"""The executor contract, run against every executor: local processes and a real Ray cluster.

Every task runs ``CHILD`` (written into the test's folder) with this interpreter, by absolute path.
Nothing here asserts on wall time: overlap comes from timestamps the children write, "gone" from
``/proc``, and the loops that wait for a file or a result only guard against a hang.
"""

from __future__ import annotations

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

from headwater.engine.executors.base import Executor, TaskResult, TaskSpec
from headwater.engine.executors.local import LocalExecutor
from headwater.errors import ConfigurationError

HANG_GUARD_S = 60.0  # only a guard against a hanging test; nothing asserts on time
GRACE_S = 2.0

CHILD = r"""
import os, subprocess, sys, time

def wait_for(path):
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {path}")
        time.sleep(0.02)

def write(path, text):
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)

mode, args = sys.argv[1], sys.argv[2:]
if mode == "exit":
    print("out-line", flush=True)
    print("err-line", file=sys.stderr, flush=True)
    sys.exit(int(args[0]))
elif mode == "env":
    print(f"{args[0]}={os.environ.get(args[0])}")
    print(f"cwd={os.getcwd()}")
elif mode == "stream":
    print("first", flush=True)
    wait_for(args[0])
    print("second", flush=True)
elif mode == "overlap":
    folder, me, other = args
    write(os.path.join(folder, me + ".start"), repr(time.time()))
    wait_for(os.path.join(folder, other + ".start"))
    write(os.path.join(folder, me + ".end"), repr(time.time()))
elif mode == "maybe-overlap":  # as overlap, but gives up waiting for the other after a few seconds
    folder, me, other = args
    write(os.path.join(folder, me + ".start"), repr(time.time()))
    deadline = time.monotonic() + 5
    while not os.path.exists(os.path.join(folder, other + ".start")) and time.monotonic() < deadline:
        time.sleep(0.02)
    write(os.path.join(folder, me + ".end"), repr(time.time()))
elif mode == "spawn":  # a grandchild too, then sleep: only a signal ends it
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    write(args[0], f"{os.getpid()} {grandchild.pid} {os.getppid()}")
    time.sleep(300)
elif mode == "daemon":  # a grandchild in a session of its own (a signal to our group misses it)
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    write(args[0], f"{os.getpid()} {grandchild.pid} {os.getppid()}")
    if args[1:] != ["exit"]:
        time.sleep(300)
elif mode == "ledger":  # record each start; a second start (a retry) ends at once
    with open(args[0], "a") as fh:
        fh.write(f"start {os.getpid()}\n")
    with open(args[0]) as fh:
        if len(fh.readlines()) > 1:
            sys.exit(0)
    write(args[1], f"{os.getpid()} 0 {os.getppid()}")
    time.sleep(300)
"""


# --- helpers ---------------------------------------------------------------------------------------


def wait_for_file(path: Path) -> str:
    """The content of ``path`` once it exists."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


def wait_for_text(path: Path, text: str) -> None:
    """Return once ``path`` contains ``text``."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not (path.exists() and text in path.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.02)


def collect(executor: Executor, run_ids: set[str]) -> dict[str, TaskResult]:
    """Wait until every task in ``run_ids`` has reported; return their results by run id."""
    results: dict[str, TaskResult] = {}
    deadline = time.monotonic() + HANG_GUARD_S
    while set(results) != run_ids:
        assert time.monotonic() < deadline, f"no result for {run_ids - set(results)}"
        for result in executor.wait(timeout=1.0):
            results[result.run_id] = result
    return results


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie waiting for its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(*pids: int) -> None:
    """Return once every pid is gone (a signal is delivered asynchronously; this only waits for it)."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if not gone(p)]}"
        time.sleep(0.05)


class Tasks:
    """Builds task specs that run ``CHILD`` in a test's folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.script = root / "child.py"
        self.script.write_text(CHILD)
        self.work = root / "work"
        self.work.mkdir()

    def log(self, run_id: str) -> Path:
        return self.root / "logs" / run_id / "std_log.txt"

    def spec(self, *args: str, timeout: float | None = None, env: dict[str, str] | None = None) -> TaskSpec:
        run_id = f"run-{uuid.uuid4().hex[:8]}"
        return TaskSpec(
            run_id=run_id,
            argv=(sys.executable, str(self.script), *args),
            cwd=str(self.work),
            env=env or {},
            log_path=str(self.log(run_id)),
            timeout_seconds=timeout,
        )


# --- fixtures --------------------------------------------------------------------------------------


def _context_json(run_id: str, run_dir: str) -> str:
    """A step's context file as the engine writes it (the worker reads it back and rewrites its paths)."""
    from headwater.runtime.context import StepContext, WorkspaceRef

    context = StepContext(
        run_id=run_id,
        experiment_name="contract",
        workspace=WorkspaceRef("contract-ws", run_dir),
        run_dir=run_dir,
        events_file=os.path.join(run_dir, "events.jsonl"),
    )
    return json.dumps(context.to_dict())


class Shipping(Executor):
    """The Ray executor with every task *shipped* (engine.ship_worker), as on a cluster without a
    shared filesystem: its log and events come back through the task's stream, its snapshot (an
    empty one) from a bucket on the session's S3 server. The task's folder (the log's) is its run
    folder; its script and cwd are outside it, on this host, which the single-host cluster sees."""

    def __init__(self, inner: Executor, s3: Any, bucket: str) -> None:
        from headwater.engine.ship import snapshot_object
        from headwater.engine.ship_worker import open_backend

        self.inner = inner
        self.snapshot = snapshot_object("empty")
        self.store = {
            "name": "stage",
            "kind": "s3",
            "config": {
                "bucket_name": bucket,
                "endpoint_url": s3.endpoint_url,
                "region": s3.region,
                "credentials": {"access_key_id": "workspace:k", "secret_access_key": "workspace:s"},
            },
            "secrets": {"access_key_id": s3.access_key_id, "secret_access_key": s3.secret_access_key},
        }
        backend = open_backend(self.store)
        backend.put_bytes(tarfile_bytes(), self.snapshot)
        backend.close()

    def submit(self, task: TaskSpec) -> None:
        from headwater._paths import PACKAGE_DIR

        run_dir = str(Path(task.log_path).parent)
        payload = {
            "run_dir": run_dir,
            "python": sys.executable,
            "package_dir": str(PACKAGE_DIR),
            "events_file": os.path.join(run_dir, "events.jsonl"),
            "context": _context_json(task.run_id, run_dir),
            "snapshot": {"datastore": "stage", "path": self.snapshot},
            "datastores": {"stage": self.store},
            "inputs": [],
            "outputs": [],
        }
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        self.inner.submit(dataclasses.replace(task, ship=payload))

    def wait(self, timeout: float | None) -> list[TaskResult]:
        return self.inner.wait(timeout)

    def cancel(self, run_id: str) -> None:
        self.inner.cancel(run_id)

    def running(self) -> set[str]:
        return self.inner.running()

    def close(self) -> None:
        self.inner.close()


def tarfile_bytes() -> bytes:
    """An empty tar archive."""
    import io
    import tarfile

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w"):
        pass
    return data.getvalue()


@pytest.fixture(
    params=["local", pytest.param("ray", marks=pytest.mark.slow), pytest.param("ray-shipped", marks=pytest.mark.slow)]
)
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    """Each executor in turn; the Ray one connects to the session's cluster through RAY_ADDRESS."""
    if request.param == "local":
        ex: Executor = LocalExecutor(grace_seconds=GRACE_S)
    else:
        request.getfixturevalue("ray_address")
        from headwater.engine.executors.ray_executor import RayExecutor

        ex = RayExecutor(grace_seconds=GRACE_S)  # address="auto": RAY_ADDRESS
        if request.param == "ray-shipped":
            ex = Shipping(ex, request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket"))
    with ex:
        yield ex


@pytest.fixture
def tasks(tmp_path: Path) -> Tasks:
    return Tasks(tmp_path)


# --- the contract ----------------------------------------------------------------------------------


def test_exit_codes_and_output_in_the_log(executor: Executor, tasks: Tasks) -> None:
    ok, failing = tasks.spec("exit", "0"), tasks.spec("exit", "3")
    executor.submit(ok)
    executor.submit(failing)
    results = collect(executor, {ok.run_id, failing.run_id})

    assert results[ok.run_id].succeeded
    assert (results[ok.run_id].reason, results[ok.run_id].returncode) == ("exited", 0)
    assert (results[failing.run_id].reason, results[failing.run_id].returncode) == ("exited", 3)
    assert not results[failing.run_id].succeeded
    for spec in (ok, failing):
        log = Path(spec.log_path).read_text()
        assert "out-line" in log and "err-line" in log


def test_output_reaches_the_log_while_the_task_runs(executor: Executor, tasks: Tasks) -> None:
    release = tasks.root / "release"
    spec = tasks.spec("stream", str(release))
    executor.submit(spec)

    wait_for_text(Path(spec.log_path), "first")
    assert executor.running() == {spec.run_id}
    assert "second" not in Path(spec.log_path).read_text()
    release.touch()
    result = collect(executor, {spec.run_id})[spec.run_id]

    assert result.succeeded
    assert executor.running() == set()
    assert Path(spec.log_path).read_text().split() == ["first", "second"]


def test_env_and_cwd_are_applied(executor: Executor, tasks: Tasks) -> None:
    spec = tasks.spec("env", "HW_CONTRACT_VALUE", env={"HW_CONTRACT_VALUE": "from-the-spec"})
    executor.submit(spec)
    assert collect(executor, {spec.run_id})[spec.run_id].succeeded

    log = Path(spec.log_path).read_text().splitlines()
    assert "HW_CONTRACT_VALUE=from-the-spec" in log
    assert f"cwd={tasks.work}" in log


def test_parallel_tasks_overlap(executor: Executor, tasks: Tasks) -> None:
    stamps = tasks.root / "stamps"
    stamps.mkdir()
    a, b = tasks.spec("overlap", str(stamps), "a", "b"), tasks.spec("overlap", str(stamps), "b", "a")
    executor.submit(a)
    executor.submit(b)
    results = collect(executor, {a.run_id, b.run_id})

    assert all(r.succeeded for r in results.values()), results
    start = {name: float((stamps / f"{name}.start").read_text()) for name in "ab"}
    end = {name: float((stamps / f"{name}.end").read_text()) for name in "ab"}
    assert max(start.values()) <= min(end.values())  # each started before the other ended


def test_timeout_stops_the_process_and_what_it_started(executor: Executor, tasks: Tasks) -> None:
    pids = tasks.root / "pids"
    spec = tasks.spec("spawn", str(pids), timeout=2)
    executor.submit(spec)
    child, grandchild, _ = (int(p) for p in wait_for_file(pids).split())
    result = collect(executor, {spec.run_id})[spec.run_id]

    assert result.reason == "timeout"
    assert result.message == "exceeded max_run_duration_seconds=2"
    assert not result.succeeded
    wait_gone(child, grandchild)


def test_cancel_stops_the_process_and_what_it_started(executor: Executor, tasks: Tasks) -> None:
    pids = tasks.root / "pids"
    spec = tasks.spec("spawn", str(pids))
    executor.submit(spec)
    child, grandchild, _ = (int(p) for p in wait_for_file(pids).split())
    assert executor.running() == {spec.run_id}
    executor.cancel(spec.run_id)
    result = collect(executor, {spec.run_id})[spec.run_id]

    assert (result.reason, result.message) == ("canceled", "canceled")
    assert executor.running() == set()
    wait_gone(child, grandchild)


def test_cancel_stops_a_descendant_that_started_its_own_session(executor: Executor, tasks: Tasks) -> None:
    pids = tasks.root / "pids"
    spec = tasks.spec("daemon", str(pids))
    executor.submit(spec)
    child, grandchild, _ = (int(p) for p in wait_for_file(pids).split())
    executor.cancel(spec.run_id)
    assert collect(executor, {spec.run_id})[spec.run_id].reason == "canceled"
    wait_gone(child, grandchild)


def test_what_a_task_leaves_running_is_stopped_when_it_exits(executor: Executor, tasks: Tasks) -> None:
    pids = tasks.root / "pids"
    spec = tasks.spec("daemon", str(pids), "exit")
    executor.submit(spec)
    assert collect(executor, {spec.run_id})[spec.run_id].succeeded
    _child, grandchild, _ = (int(p) for p in wait_for_file(pids).split())
    wait_gone(grandchild)  # it was signalled before the result was reported


def test_launch_failure_is_reported_not_raised(executor: Executor, tasks: Tasks) -> None:
    missing = tasks.root / "no-such-interpreter"
    spec = TaskSpec("run-missing", (str(missing), "x.py"), str(tasks.work), {}, str(tasks.log("run-missing")))
    executor.submit(spec)
    result = collect(executor, {spec.run_id})[spec.run_id]

    assert result.reason == "launch_failed"
    assert str(missing) in result.message
    assert result.message in Path(spec.log_path).read_text()
    assert executor.running() == set()


def test_close_stops_running_tasks(executor: Executor, tasks: Tasks) -> None:
    pids = tasks.root / "pids"
    spec = tasks.spec("spawn", str(pids))
    executor.submit(spec)
    child, grandchild, _ = (int(p) for p in wait_for_file(pids).split())
    executor.close()

    wait_gone(child, grandchild)


# --- Ray only --------------------------------------------------------------------------------------


@pytest.fixture
def ray_executor(ray_address: str) -> Iterator[Executor]:
    from headwater.engine.executors.ray_executor import RayExecutor

    with RayExecutor(ray_address, grace_seconds=GRACE_S) as ex:
        yield ex


@pytest.mark.slow
def test_ray_result_records_the_node_and_task(ray_executor: Executor, tasks: Tasks) -> None:
    import ray

    spec = tasks.spec("exit", "0")
    ray_executor.submit(spec)
    result = collect(ray_executor, {spec.run_id})[spec.run_id]

    assert result.succeeded
    assert result.node in {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert result.task_id
    assert result.pid is not None


@pytest.mark.slow
def test_ray_tasks_ask_for_their_cpus(ray_executor: Executor, tasks: Tasks) -> None:
    """Two tasks asking 2 CPUs each on the 2-CPU test cluster run one after the other."""
    stamps = tasks.root / "stamps"
    stamps.mkdir()
    a, b = (
        dataclasses.replace(tasks.spec("maybe-overlap", str(stamps), me, other), resources={"cpu": 2, "gpu": 0})
        for me, other in (("a", "b"), ("b", "a"))
    )
    ray_executor.submit(a)
    ray_executor.submit(b)
    results = collect(ray_executor, {a.run_id, b.run_id})

    assert all(r.succeeded for r in results.values()), results
    start = {name: float((stamps / f"{name}.start").read_text()) for name in "ab"}
    end = {name: float((stamps / f"{name}.end").read_text()) for name in "ab"}
    assert min(end.values()) <= max(start.values())  # one ended before the other started


@pytest.mark.slow
def test_ray_killed_worker_fails_the_task_once(ray_executor: Executor, tasks: Tasks) -> None:
    ledger, pids = tasks.root / "ledger", tasks.root / "pids"
    spec = tasks.spec("ledger", str(ledger), str(pids))
    ray_executor.submit(spec)
    child, _, worker = (int(p) for p in wait_for_file(pids).split())
    os.kill(worker, signal.SIGKILL)
    result = collect(ray_executor, {spec.run_id})[spec.run_id]

    assert result.reason == "worker_died"
    assert "WorkerCrashedError" in result.message and "died" in result.message
    assert result.returncode is None
    assert ledger.read_text().splitlines() == [f"start {child}"]  # not retried
    assert result.message in Path(spec.log_path).read_text()
    wait_gone(child)  # the orphaned step process is swept


def test_ray_unreachable_address_fails_at_construction() -> None:
    from headwater.engine.executors.ray_executor import RayExecutor

    with pytest.raises(ConfigurationError) as caught:
        RayExecutor("127.0.0.1:1", connect_timeout=2)
    assert "127.0.0.1:1" in str(caught.value)
    assert "refused" in str(caught.value).lower()
