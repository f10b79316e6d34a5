"""Leases on fixed output destinations: runs that write the same path take turns.

An output whose destination has no ``{run-id}`` in it (``OutputFileDatasetConfig(destination=
(store, "fixed/out"))``) is written to the same datastore path by every run. Two runs doing that
at once would read each other's bytes: run A's consumer could open what run B's producer
committed a moment later. So a run takes a **lease** on each of its fixed destinations before the
step that writes it starts (or is reused), and keeps it until that step and every step of the run
that reads the output have ended; a run that wants a lease another run holds waits, its step
Queued, and the orchestrator's log and the step's ``system_logs/leases.txt`` say which run holds it.

A lease is an exclusive ``flock`` on ``<workspace>/locks/outputs/<sha256 of datastore and
path>.lock``: the kernel releases it when the orchestrator ends, however it ends, so a crashed
run never blocks the others. A run takes **all** its fixed-destination leases at once (all or
nothing, never blocking), the first time one of them is needed, so two runs that share several
destinations cannot each hold one and wait for the other. The orchestrator tries again on its
next turn of the loop; nothing here ever blocks it.

The leases coordinate the orchestrators of one workspace folder (one machine). Runs elsewhere
that write the same remote path (a workspace shared through PostgreSQL) are not serialized; the
consumer-side digest check (:func:`headwater.engine.upstream_check.check_upstream`) catches what
they would mix up.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import posixpath
from collections.abc import Mapping
from pathlib import Path

from headwater.engine.outputs import resolve_output_path
from headwater.layout import WorkspaceLayout
from headwater.plan.run_plan import RunPlan
from headwater.status import StepState

__all__ = ["DestinationLeases", "fixed_destination", "is_fixed"]

Key = tuple[str, str]  # (datastore, path)
_FINAL: tuple[StepState, ...] = ("done", "failed", "canceled")


def is_fixed(path_template: str) -> bool:
    """Whether every run writes an output with this path template to the same place."""
    return "{run-id}" not in path_template


def fixed_destination(plan: RunPlan, node: str, output: str) -> Key | None:
    """``(datastore, path)`` of a step's output when its destination is fixed, else None."""
    for o in plan.spec.step(node).outputs:
        if o.name == output and is_fixed(o.path_template):
            path = resolve_output_path(o, plan.steps[node].run_id)
            return (o.datastore or plan.default_datastore, posixpath.normpath("/" + path).lstrip("/"))
    return None


class DestinationLeases:
    """The fixed-destination leases of one run, taken all at once and released as their users end."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.folder = WorkspaceLayout(plan.workspace.folder).output_locks
        self.users: dict[Key, set[str]] = {}  # destination -> its producer and the steps reading it
        self.producing: dict[str, set[Key]] = {}  # node -> fixed destinations it writes
        consumers: dict[str, set[str]] = {}  # output name -> nodes reading it
        for step in plan.spec.steps:
            for i in step.inputs:
                name = i.source.get("output")
                if name is not None:
                    consumers.setdefault(name, set()).add(step.node_id)
        for step in plan.spec.steps:
            for o in step.outputs:
                key = fixed_destination(plan, step.node_id, o.name)
                if key is not None:
                    self.producing.setdefault(step.node_id, set()).add(key)
                    self.users.setdefault(key, set()).update({step.node_id, *consumers.get(o.name, ())})
        self.held: dict[Key, int] = {}  # destination -> the open lock file
        self.taken = False  # all leases were taken once (some may have been released since)

    def __bool__(self) -> bool:
        return bool(self.users)

    def try_take(self, node: str) -> str | None:
        """None when ``node`` may start (it writes no fixed destination, or the run holds the
        leases); else why it must wait, naming the destination and the run holding it."""
        if self.taken or node not in self.producing:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        got: dict[Key, int] = {}
        for key in sorted(self.users):
            fd = os.open(self._lock_path(key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                for other in got.values():
                    _release(other)
                datastore, path = key
                return (
                    f"waiting for output destination {path!r} on datastore {datastore!r}, which run "
                    f"{holder or '(unknown)'} is writing or reading; destinations without {{run-id}} "
                    "are used by one run at a time"
                )
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"run_id": self.plan.pipeline_run_id, "pid": os.getpid()}).encode(), 0)
            got[key] = fd
        self.held = got
        self.taken = True
        return None

    def release_finished(self, state: Mapping[str, StepState]) -> list[Key]:
        """Release each lease whose producer and consumers have all ended; returns those released."""
        done = [key for key in self.held if all(state.get(n) in _FINAL for n in self.users[key])]
        for key in done:
            _release(self.held.pop(key))
        return done

    def close(self) -> None:
        """Release every lease still held (the run is over)."""
        for fd in self.held.values():
            _release(fd)
        self.held.clear()

    def _lock_path(self, key: Key) -> Path:
        digest = hashlib.sha256("\0".join(key).encode("utf-8")).hexdigest()
        return self.folder / f"{digest}.lock"


def _holder(fd: int) -> str | None:
    """The run id the holder wrote into its lock file (best effort: it may be rewriting it)."""
    try:
        data = os.pread(fd, 4096, 0)
        return str(json.loads(data)["run_id"]) if data else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _release(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
