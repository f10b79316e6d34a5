"""Ray executor: each task is a subprocess inside a Ray task on a cluster worker.

This is the only Headwater module that imports ``ray``; whoever selects a Ray compute target
imports it lazily. The semantics are :class:`~headwater.engine.executors.local.LocalExecutor`'s:

* **Running.** ``submit`` starts one Ray task (``max_retries=0``; CPUs, GPUs and memory from
  ``task.resources``, see :func:`ray_options`) whose body starts the task's argv as a subprocess in its own session
  (process group), with the spec's cwd, environment (over the worker's own, so Ray's
  ``CUDA_VISIBLE_DEVICES`` reaches the step) and log file, and polls it. It returns the exit
  code, the Ray node id and the process id, so the result records where the step ran.
  Paths are used as they are: on a single-host cluster the worker sees the orchestrator's files.
  Moving snapshots, inputs, outputs and logs through a datastore for multi-host clusters is a
  later step (and so is shipping this module to workers without Headwater installed: the task
  body is stdlib-only, so it can be pickled by value then).
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

import logging
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, TaskCancelledError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from headwater.engine.executors.base import Executor, TaskResult, TaskSpec
from headwater.engine.executors.resources import ClusterNode
from headwater.errors import ConfigurationError

__all__ = ["RayExecutor", "TERMINATE_GRACE_SECONDS", "CONNECT_TIMEOUT_SECONDS", "cluster_nodes", "ray_options"]

TERMINATE_GRACE_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
_FORCE_MARGIN_SECONDS = 5.0  # after grace: how long a cancelled task may take before its worker is killed
_POLL_SECONDS = 0.1
_MARKER_ENV = "HEADWATER_RAY_TASK_MARKER"


# --- the worker side: stdlib only (plus the Ray runtime context) -------------------------------


def _stop_group(proc: subprocess.Popen[bytes], grace: float) -> int:
    """SIGTERM the process group led by ``proc``, SIGKILL it after ``grace``; return the exit code."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        code = proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        code = None
    try:  # also what the leader started and left behind in its group
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return proc.wait() if code is None else code


def _run_subprocess(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    log_path: str,
    timeout: float | None,
    grace: float,
    marker: str,
) -> dict[str, Any]:
    """The body of the Ray task: run ``argv`` to its end, a timeout or a cancellation."""
    outcome: dict[str, Any] = {
        "node": ray.get_runtime_context().get_node_id(),
        "returncode": None,
        "reason": "exited",
        "message": "",
        "pid": None,
    }
    log = Path(log_path)
    log.parent.mkdir(parents=True, exist_ok=True)
    proc: subprocess.Popen[bytes] | None = None
    try:
        try:
            with open(log, "ab", buffering=0) as out:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env={**os.environ, **env, _MARKER_ENV: marker},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
        except OSError as exc:
            message = f"could not start {argv[0]!r}: {exc.strerror or exc}"
            with open(log, "ab") as out:
                out.write(f"[headwater] {message}\n".encode())
            outcome.update(reason="launch_failed", message=message)
            return outcome
        outcome["pid"] = proc.pid
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                outcome["returncode"] = proc.wait(timeout=_POLL_SECONDS)
                return outcome
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() >= deadline:
                    outcome.update(reason="timeout", message=f"exceeded max_run_duration_seconds={timeout:g}")
                    outcome["returncode"] = _stop_group(proc, grace)
                    return outcome
    except KeyboardInterrupt:  # ray.cancel(ref): stop the step, then let Ray record the cancellation
        if proc is not None and proc.poll() is None:
            _stop_group(proc, grace)
        raise


def _sweep(marker: str) -> list[int]:
    """Kill the processes on this node whose environment carries ``marker``; return their pids."""
    needle = f"{_MARKER_ENV}={marker}".encode()
    killed: list[int] = []
    try:
        entries = list(os.scandir("/proc"))
    except OSError:  # not Linux: nothing to look at
        return killed
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(os.path.join(entry.path, "environ"), "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            os.kill(int(entry.name), signal.SIGKILL)
            killed.append(int(entry.name))
        except OSError:
            continue
    return killed


_remote_run = ray.remote(max_retries=0)(_run_subprocess)
_remote_sweep = ray.remote(max_retries=0, num_cpus=0)(_sweep)


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
    ref: ray.ObjectRef[dict[str, Any]]
    marker: str
    stop_reason: str | None = None  # 'canceled' once we decided to stop it
    forcer: threading.Timer | None = None
    forced: bool = False  # its worker was killed: the step process may be left, to sweep


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
        try:
            ref = _remote_run.options(**ray_options(task.resources), name=f"headwater:{task.run_id}").remote(
                list(task.argv), task.cwd, dict(task.env), task.log_path, task.timeout_seconds, self._grace, marker
            )
        except Exception as exc:  # a bad resource request, a lost connection
            message = f"could not submit the Ray task for {task.argv[0]!r}: {type(exc).__name__}: {exc}"
            with self._lock:
                self._finished.append(TaskResult(task.run_id, None, "launch_failed", message))
            return
        with self._lock:
            self._running[task.run_id] = _Running(task, ref, marker)

    def wait(self, timeout: float | None) -> list[TaskResult]:
        """As :meth:`Executor.wait`; with nothing running it returns at once (there is nothing to wait for).

        It waits on the tasks submitted before the call: call it from the thread that submits.
        """
        with self._lock:
            results, self._finished = self._finished, []
            refs = [entry.ref for entry in self._running.values()]
        if not refs:
            return results
        ready, _ = ray.wait(refs, num_returns=1, timeout=0 if results else timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        done = {ref.hex() for ref in ready}
        with self._lock:
            entries = [e for e in self._running.values() if e.ref.hex() in done]
            for entry in entries:
                del self._running[entry.task.run_id]
        for entry in entries:
            if entry.forcer is not None:
                entry.forcer.cancel()
            results.append(self._result(entry))
        return results

    def _result(self, entry: _Running) -> TaskResult:
        run_id, task_id = entry.task.run_id, entry.ref.task_id().hex()
        try:
            out: dict[str, Any] = ray.get(entry.ref)
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
        return TaskResult(run_id, out["returncode"], reason, message, out["pid"], node=out["node"], task_id=task_id)

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
        ready, _ = ray.wait([entry.ref], timeout=0)
        if not ready:
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
        refs = [entry.ref for entry in entries]
        if refs:
            _, left = ray.wait(refs, num_returns=len(refs), timeout=self._grace + _FORCE_MARGIN_SECONDS)
            for entry in entries:
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
