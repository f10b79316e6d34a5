"""Ray executor: each task is a subprocess inside a Ray task on a cluster worker.

This is the only Headwater module that imports ``ray``; whoever selects a Ray compute target
imports it lazily. The semantics are :class:`~headwater.engine.executors.local.LocalExecutor`'s:

* **Running.** ``submit`` starts one Ray task (``max_retries=0``; CPUs, GPUs and memory from
  ``task.resources``, see :func:`ray_options`) whose body (:mod:`~headwater.engine.executors.ray_worker`)
  starts the task's argv as a subprocess in its own session (process group), as the local executor
  does (:mod:`~headwater.engine.executors.spawn`), with the spec's cwd, environment (over the worker's own, so Ray's
  ``CUDA_VISIBLE_DEVICES`` reaches the step) and log file, and polls it. It returns the exit
  code, the Ray node id and the process id, so the result records where the step ran.
  Paths are used as they are: on a single-host cluster the worker sees the orchestrator's files.
* **Shipped tasks** (``task.ship`` set: a cluster without a shared filesystem,
  :mod:`headwater.engine.ship`). The task is a Ray streaming generator
  (:func:`~headwater.engine.executors.ray_worker.run_shipped_step`, driving
  :mod:`headwater.engine.ship_worker` on the worker, which needs Headwater installed):
  it fetches the snapshot and inputs from the datastore into a temporary folder, runs the step
  there and yields its new log and events bytes about every ``STREAM_SECONDS``; a thread
  here appends them to the run folder's log and events file as they come. On success the worker
  commits the outputs and the result carries their digests (``TaskResult.outputs``). Timeout,
  cancel and worker death behave as below; the folder is removed in every case.
* **Timeout.** Enforced by the task body on the worker, counted from the moment the process
  starts (not while the task waits for cluster resources): SIGTERM to the process group, SIGKILL
  after ``grace_seconds``; reported as 'timeout' with LocalExecutor's message.
* **Cancel.** ``ray.cancel(ref)`` (not forced) raises KeyboardInterrupt in the task body, which
  stops the process group the same way and re-raises, so Ray records the task as cancelled: the
  step process is stopped by the code that started it, on its own node, before the result
  arrives. A task that does not end within the grace period (plus a margin) is force-cancelled
  (its worker killed) and swept (below). A queued task is simply dropped by Ray. → 'canceled'.
* **Worker death.** A worker killed under the task (OOM killer, ``kill -9``, node lost) fails it
  with reason 'worker_died' and a message naming Ray's error. Ray's retries are off, so a step
  never silently runs twice. The step process it left behind (an orphan in its own session) is
  found by a per-task marker in its environment and killed by a small sweep task on every alive
  node.
* **Nodes.** :func:`cluster_nodes` reads a cluster's alive nodes (id, IP address, CPUs, GPUs,
  memory) without connecting a driver; ``submit`` fits requests to them and refuses host-local
  datastores on a multi-host cluster (``headwater.ops.ray_targets``).
* **Connection.** An address that cannot be reached raises :class:`ConfigurationError` at
  construction, within ``connect_timeout`` seconds (a TCP probe of the cluster's GCS port, since
  ``ray.init`` itself retries for about 20 seconds). ``close()`` cancels what still runs and
  disconnects if, and only if, this executor called ``ray.init``.
"""

from __future__ import annotations

import io
import json
import logging
import queue
import socket
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, TaskCancelledError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from headwater.engine.executors import ray_worker
from headwater.engine.executors.base import Executor, TaskResult, TaskSpec
from headwater.engine.executors.log_capture import max_log_bytes
from headwater.engine.executors.resources import ClusterNode
from headwater.errors import ConfigurationError

__all__ = ["RayExecutor", "TERMINATE_GRACE_SECONDS", "CONNECT_TIMEOUT_SECONDS", "cluster_nodes", "ray_options"]

TERMINATE_GRACE_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
_FORCE_MARGIN_SECONDS = 5.0  # after grace: how long a cancelled task may take before its worker is killed
_POLL_SECONDS = 0.1


# --- the task bodies (on the worker: headwater.engine.executors.ray_worker) ----------------------


def _node_id() -> str:
    return str(ray.get_runtime_context().get_node_id())


def _run_step(*args: Any) -> dict[str, Any]:
    return ray_worker.run_step(_node_id(), *args)


def _run_shipped_step(*args: Any) -> Iterator[dict[str, Any]]:
    yield from ray_worker.run_shipped_step(_node_id(), *args)  # send(), throw() and close() reach it


_remote_run = ray.remote(max_retries=0)(_run_step)
_remote_shipped = ray.remote(max_retries=0, num_returns="streaming")(_run_shipped_step)
_remote_sweep = ray.remote(max_retries=0, num_cpus=0)(ray_worker.sweep)


# --- the orchestrator side -------------------------------------------------------------------------


def ray_options(resources: dict[str, Any]) -> dict[str, Any]:
    """Ray task options for a step's request (``cpu``, ``gpu``, ``memory_gb``): 1 CPU when it names none."""
    options: dict[str, Any] = {"num_cpus": resources.get("cpu", 1), "num_gpus": resources.get("gpu") or 0}
    memory = resources.get("memory_gb")
    if memory:
        options["memory"] = int(float(memory) * 1024**3)
    return options


@dataclass
class _Running:
    task: TaskSpec
    ref: Any  # ray.ObjectRef of the outcome; a shipped task's: its ObjectRefGenerator
    marker: str
    stop_reason: str | None = None  # 'canceled' once we decided to stop it
    forcer: threading.Timer | None = None
    forced: bool = False  # its worker was killed: the step process may be left, to sweep
    shipped: bool = False  # its results stream back (engine.ship): a thread reads them
    finished: threading.Event = field(default_factory=threading.Event)  # (shipped) its stream ended

    @property
    def task_id(self) -> str:
        ref = self.ref.completed() if self.shipped else self.ref
        return str(ref.task_id().hex())


def _append(path: str, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def _extract(data: bytes, folder: Path) -> None:
    """Unpack a shipped step's ``outputs/`` and ``logs/`` tar into its working directory here."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(folder, filter="data")


def _gcs_host_port(address: str) -> tuple[str, int] | None:
    """``host:port`` of a Ray address (``auto``, ``host:port``, ``ray://host:port``); None if none is found."""
    if address.startswith("ray://"):
        hostport = address[len("ray://") :].split("/", 1)[0]
    else:
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address(address)
        if found is None:
            return None
        hostport = found
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigurationError(f"the Ray address {address!r} is not host:port, ray://host:port or 'auto'")
    return host.strip("[]") or "127.0.0.1", int(port)


def _reachable(address: str, timeout: float) -> tuple[str, int]:
    """The GCS (or client server) ``(host, port)`` of ``address``, once a TCP connection to it succeeded.

    Raises ConfigurationError naming the address within ``timeout`` seconds: Ray's own clients
    retry for tens of seconds before they give up.
    """
    try:
        target = _gcs_host_port(address)
    except ValueError as exc:
        raise ConfigurationError(f"the Ray address {address!r} is not valid: {exc}") from None
    if target is None:
        raise ConfigurationError(
            f"no Ray cluster found for address {address!r}: RAY_ADDRESS is not set and no cluster was "
            "started on this machine.",
            hint="Start one with `ray start --head` or give the address it prints.",
        )
    host, port = target
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"cannot reach the Ray cluster at {address!r} ({host}:{port}): {exc.strerror or exc}",
            hint="Check that the cluster is running (`ray status`) and the address is right.",
        ) from None
    return host, port


def cluster_nodes(address: str = "auto", *, timeout: float = CONNECT_TIMEOUT_SECONDS) -> list[ClusterNode]:
    """The alive nodes of the Ray cluster at ``address``: id, host (IP address) and total resources.

    For ``auto`` and ``host:port`` the cluster's GCS is asked directly (no driver is started, so
    this is cheap and leaves no connection behind); for a ``ray://`` client address a short-lived
    client connection is made. An unreachable cluster raises ConfigurationError naming the address.
    """
    host, port = _reachable(address, timeout)
    try:
        if address.startswith("ray://"):
            context = ray.init(address, allow_multiple=True, log_to_driver=False, logging_level=logging.WARNING)
            try:
                with context:
                    raw = ray.nodes()
            finally:
                context.disconnect()
            return [
                ClusterNode.from_resources(n["NodeID"], n["NodeManagerAddress"], n.get("Resources", {}))
                for n in raw
                if n.get("Alive")
            ]
        from ray._raylet import GcsClient  # type: ignore[attr-defined]  # ray.nodes()'s client, without ray.init

        info = GcsClient(address=f"{host}:{port}").get_all_node_info(timeout=timeout)
    except Exception as exc:  # Ray raises RpcError, ConnectionError, RuntimeError ...
        raise ConfigurationError(
            f"cannot read the nodes of the Ray cluster at {address!r}: {type(exc).__name__}: {exc}",
            hint="Check that the cluster is running (`ray status`) and the address is right.",
        ) from None
    return [
        ClusterNode.from_resources(node_id.hex(), node.node_manager_address, dict(node.resources_total))
        for node_id, node in info.items()
        if node.state == 0  # ALIVE
    ]


class RayExecutor(Executor):
    """Runs tasks as subprocesses inside Ray tasks on the cluster at ``address``.

    A process holds one Ray connection: when this process is already connected (``ray.init``
    was called before), that connection is used as it is, ``address`` is not checked, and
    :meth:`close` leaves it open. :meth:`pid` is None: the step process runs on a Ray node.
    """

    def __init__(
        self,
        address: str = "auto",
        *,
        grace_seconds: float = TERMINATE_GRACE_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self._grace = grace_seconds
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self._finished: list[TaskResult] = []  # submit-time failures, reported by the next wait()
        self._shipped_done: queue.Queue[TaskResult] = queue.Queue()  # shipped tasks' results (their threads)
        self._sweepers: list[ray.ObjectRef[list[int]]] = []
        self._owns_connection = False
        self.address = address
        if ray.is_initialized():  # this process is already connected (e.g. by an earlier executor)
            return
        host, port = _reachable(address, connect_timeout)
        init_address = address if address.startswith("ray://") else f"{host}:{port}"
        try:
            ray.init(address=init_address, log_to_driver=False, logging_level=logging.WARNING)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError ...
            raise ConfigurationError(
                f"cannot connect to the Ray cluster at {address!r}: {type(exc).__name__}: {exc}"
            ) from None
        self._owns_connection = True

    def submit(self, task: TaskSpec) -> None:
        marker = uuid.uuid4().hex
        log_cap, _ = max_log_bytes()  # this process's HEADWATER_MAX_LOG_MB, carried to the worker
        args = (
            list(task.argv),
            task.cwd,
            self._env(task),
            task.log_path,
            task.timeout_seconds,
            self._grace,
            marker,
            log_cap,
        )
        ref: Any
        try:
            options = {**ray_options(task.resources), "name": f"headwater:{task.run_id}"}
            if task.ship is None:
                ref = _remote_run.options(**options).remote(*args)
            else:
                ref = _remote_shipped.options(**options).remote(*args, task.ship)
        except Exception as exc:  # a bad resource request, a lost connection
            message = f"could not submit the Ray task for {task.argv[0]!r}: {type(exc).__name__}: {exc}"
            with self._lock:
                self._finished.append(TaskResult(task.run_id, None, "launch_failed", message))
            return
        entry = _Running(task, ref, marker, shipped=task.ship is not None)
        with self._lock:
            self._running[task.run_id] = entry
        if entry.shipped:
            threading.Thread(target=self._consume, args=(entry,), name=f"ship-{task.run_id}", daemon=True).start()

    def _env(self, task: TaskSpec) -> dict[str, str]:
        """The task's environment; a ParallelRunStep's driver also gets the command that starts its node
        drivers on this cluster's nodes (headwater.engine.executors.ray_nodes), unless it is shipped."""
        env = dict(task.env)
        if task.ship is None and "headwater.runtime.parallel_driver" in task.argv:
            from headwater.engine.executors.ray_nodes import command

            env["HEADWATER_PARALLEL_NODE_LAUNCHER"] = json.dumps(command(ray.get_runtime_context().gcs_address))
        return env

    def _consume(self, entry: _Running) -> None:
        """A shipped task's stream: log and events appended here as they come, then its result."""
        try:
            result = self._result(entry, lambda: self._drain(entry))
            self._shipped_done.put(result)
        finally:
            entry.finished.set()
            with self._lock:
                self._running.pop(entry.task.run_id, None)
            if entry.forcer is not None:
                entry.forcer.cancel()

    def _drain(self, entry: _Running) -> dict[str, Any]:
        payload = entry.task.ship
        assert payload is not None
        files = {"log": entry.task.log_path, "events": payload["events_file"]}
        outcome: dict[str, Any] | None = None
        for ref in entry.ref:
            item: dict[str, Any] = ray.get(ref)
            for kind, data in item.items():
                if kind == "result":
                    outcome = data
                elif kind == "artifacts":
                    _extract(data, Path(payload["run_dir"]) / "wd")
                elif kind in files:
                    _append(files[kind], data)
        if outcome is None:
            message = "the Ray task ended without reporting how the step ended"
            return {"node": None, "returncode": None, "reason": "launch_failed", "message": message, "pid": None}
        return outcome

    def wait(self, timeout: float | None) -> list[TaskResult]:
        """As :meth:`Executor.wait`; with nothing running it returns at once (there is nothing to wait for).

        It waits on the tasks submitted before the call: call it from the thread that submits.
        """
        with self._lock:
            results, self._finished = self._finished, []
            plain = [entry.ref for entry in self._running.values() if not entry.shipped]
            shipped = any(entry.shipped for entry in self._running.values())
        results += self._take_shipped(0)
        if not plain and not shipped:
            return results
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 0.0 if results else (None if deadline is None else max(0.0, deadline - time.monotonic()))
            if not shipped:
                return results + self._collect(plain, left)
            if not plain:
                return results + self._take_shipped(left)
            results += self._collect(plain, _POLL_SECONDS if left is None else min(_POLL_SECONDS, left))
            results += self._take_shipped(0)
            if results or (deadline is not None and time.monotonic() >= deadline):
                return results

    def _take_shipped(self, timeout: float | None) -> list[TaskResult]:
        """Results of shipped tasks, waiting up to ``timeout`` for the first (None: until one comes)."""
        out: list[TaskResult] = []
        try:
            out.append(self._shipped_done.get(timeout=timeout) if timeout != 0 else self._shipped_done.get_nowait())
        except queue.Empty:
            return out
        while True:
            try:
                out.append(self._shipped_done.get_nowait())
            except queue.Empty:
                return out

    def _collect(self, refs: list[Any], timeout: float | None) -> list[TaskResult]:
        """Results of the (not shipped) tasks of ``refs`` that ended, waiting up to ``timeout`` for one."""
        results: list[TaskResult] = []
        if not refs:
            return results
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        done = {ref.hex() for ref in ready}
        with self._lock:
            entries = [e for e in self._running.values() if not e.shipped and e.ref.hex() in done]
            for entry in entries:
                del self._running[entry.task.run_id]
        for entry in entries:
            if entry.forcer is not None:
                entry.forcer.cancel()
            results.append(self._result(entry))
        return results

    def _result(self, entry: _Running, get: Callable[[], dict[str, Any]] | None = None) -> TaskResult:
        """How the task ended, from its outcome (``get``: how to read it; default ``ray.get``)."""
        run_id, task_id = entry.task.run_id, entry.task_id
        try:
            out: dict[str, Any] = get() if get is not None else ray.get(entry.ref)
        except TaskCancelledError:
            if entry.forced:
                self._sweep(entry.marker)
            return TaskResult(run_id, None, "canceled", "canceled", task_id=task_id)
        except RayError as exc:
            self._sweep(entry.marker)  # the step process may have outlived its worker
            if entry.stop_reason == "canceled":  # force-cancelled: its worker was killed on purpose
                return TaskResult(run_id, None, "canceled", "canceled", task_id=task_id)
            first_line = (str(exc).strip().splitlines() or [""])[0]
            message = f"the Ray worker running the step died ({type(exc).__name__}: {first_line}); not retried"
            try:
                with open(entry.task.log_path, "ab") as out_log:
                    out_log.write(f"[headwater] {message}\n".encode())
            except OSError:  # the log lives on another host
                pass
            return TaskResult(run_id, None, "worker_died", message, task_id=task_id)
        reason, message = out["reason"], out["message"]
        if entry.stop_reason is not None and reason == "exited":  # as LocalExecutor: our decision wins
            reason, message = entry.stop_reason, entry.stop_reason
        return TaskResult(
            run_id,
            out["returncode"],
            reason,
            message,
            out["pid"],
            node=out["node"],
            task_id=task_id,
            outputs=out.get("outputs"),
        )

    def _sweep(self, marker: str) -> None:
        """Start a sweep for ``marker`` on every alive node (not waited for; close() collects them)."""
        try:
            nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
            for node in nodes:
                strategy = NodeAffinitySchedulingStrategy(node_id=node, soft=False)
                self._sweepers.append(_remote_sweep.options(scheduling_strategy=strategy).remote(marker))
        except RayError:
            pass

    def _force(self, entry: _Running) -> None:
        """The cancelled task did not end in time: kill its worker, then sweep the step process."""
        if entry.shipped:
            ended = entry.finished.is_set()
        else:
            ready, _ = ray.wait([entry.ref], timeout=0)
            ended = bool(ready)
        if not ended:
            entry.forced = True
            ray.cancel(entry.ref, force=True)

    def cancel(self, run_id: str) -> None:
        with self._lock:
            entry = self._running.get(run_id)
            if entry is None or entry.stop_reason is not None:
                return
            entry.stop_reason = "canceled"
        ray.cancel(entry.ref, force=False)
        entry.forcer = threading.Timer(self._grace + _FORCE_MARGIN_SECONDS, self._force, (entry,))
        entry.forcer.daemon = True
        entry.forcer.start()

    def running(self) -> set[str]:
        with self._lock:
            return set(self._running)

    def close(self) -> None:
        if not ray.is_initialized():
            return
        with self._lock:
            entries = list(self._running.values())
        for entry in entries:
            self.cancel(entry.task.run_id)
        refs = [entry.ref for entry in entries if not entry.shipped]
        shipped = [entry for entry in entries if entry.shipped]
        if shipped:
            deadline = time.monotonic() + self._grace + _FORCE_MARGIN_SECONDS
            for entry in shipped:
                entry.finished.wait(max(0.0, deadline - time.monotonic()))
            for entry in shipped:
                if entry.forcer is not None:
                    entry.forcer.cancel()
                if not entry.finished.is_set():
                    entry.forced = True
                    ray.cancel(entry.ref, force=True)
            for entry in shipped:
                entry.finished.wait(_FORCE_MARGIN_SECONDS)
        if refs:
            _, left = ray.wait(refs, num_returns=len(refs), timeout=self._grace + _FORCE_MARGIN_SECONDS)
            for entry in entries:
                if entry.shipped:
                    continue
                if entry.forcer is not None:
                    entry.forcer.cancel()
                if entry.ref in left:
                    entry.forced = True
                    ray.cancel(entry.ref, force=True)
            if left:
                ray.wait(left, num_returns=len(left), timeout=_FORCE_MARGIN_SECONDS)
        for entry in entries:
            if entry.forced:
                self._sweep(entry.marker)
        with self._lock:
            self._running.clear()
        if self._sweepers:
            ray.wait(self._sweepers, num_returns=len(self._sweepers), timeout=_FORCE_MARGIN_SECONDS)
            self._sweepers.clear()
        if self._owns_connection:
            ray.shutdown()
            self._owns_connection = False
