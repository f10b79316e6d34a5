"""A ParallelRunStep's worker processes as the driver sees them, and SDK v1's log tree (stdlib only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

__all__ = ["Logs", "Worker"]


class Logs:
    """SDK v1's log tree under ``./logs`` of the step's working directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        # a node driver's node (headwater.runtime.parallel_nodes.NAME_ENV), else this host
        self.node = os.environ.get("HEADWATER_PARALLEL_NODE_NAME") or socket.gethostname() or "localhost"
        self.started = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        for sub in ("sys", f"sys/node/{self.node}", f"user/stdout/{self.node}", f"user/stderr/{self.node}",
                    f"user/entry_script_log/{self.node}", f"user/error/{self.node}"):  # fmt: skip
            os.makedirs(os.path.join(root, sub), exist_ok=True)

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def master(self, text: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} {text}"
        with open(self.path("sys", "master_role.txt"), "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        print(f"[parallel] {text}", flush=True)

    def process(self, name: str, text: str) -> None:
        """A line of ``logs/sys/node/<node>/<processNNN>.txt``: what the driver saw of that worker."""
        with open(self.path("sys", "node", self.node, f"{name}.txt"), "a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} {text}\n")

    def start_meter(self, done: int, total: int) -> None:
        """Mini-batches are being scored from now on (``done`` by an earlier attempt): the rate and
        ETA count from here."""
        self.meter = (time.monotonic(), done, total)
        self.tick(done, 0, total, force=True)

    def rate(self, done: int, failed: int) -> tuple[float, float | None]:
        """Mini-batches per second since :meth:`start_meter`, and the seconds left at that rate (None: unknown)."""
        started, before, total = getattr(self, "meter", (time.monotonic(), done, 0))
        elapsed = time.monotonic() - started
        rate = (done + failed - before) / elapsed if elapsed > 0 else 0.0
        left = max(0, total - done - failed)
        return rate, (left / rate if rate > 0 else (0.0 if not left else None))

    def tick(self, done: int, failed: int, total: int, *, force: bool = False) -> None:
        """``logs/sys/job_progress.json`` (done, failed, total, rate, ETA), what
        ``wait_for_completion(show_output=True)`` draws its progress bar from; at most 5 times a second."""
        now = time.monotonic()
        if os.environ.get("HEADWATER_PARALLEL_NODE_ROLE") or (not force and now - getattr(self, "ticked", 0.0) < 0.2):
            return  # a node driver's counts are its node's: the step's bar is the coordinator's
        self.ticked = now
        rate, eta = self.rate(done, failed)
        path = self.path("sys", "job_progress.json")
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump({"done": done, "failed": failed, "total": total, "rate": rate, "eta": eta}, fh)
        os.replace(path + ".tmp", path)

    def overview(self, done: int, failed: int, failed_items: int, total: int) -> str:
        """A progress line: counts, then the rate and ETA."""
        rate, eta = self.rate(done, failed)
        when = "ETA unknown" if eta is None else f"ETA {_duration(eta)}"
        return (f"{done} of {total} mini-batches finished, {failed} failed, {failed_items} failed item(s); "
                f"{rate:.1f} mini-batches/s, {when}")  # fmt: skip

    def progress(self, text: str) -> None:
        """A line of ``logs/job_progress_overview.<start>.txt``, also printed to the step's log (which
        ``wait_for_completion(show_output=True)`` streams)."""
        with open(self.path(f"job_progress_overview.{self.started}.txt"), "a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} {text}\n")
        print(f"[parallel] progress: {text}", flush=True)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Worker:
    """A worker process: forked by ``starter`` (:mod:`headwater.runtime.parallel_warm`) where it
    can, else a fresh interpreter; the driver sends it JSON lines and reads its replies."""

    def __init__(
        self, number: int, logs: Logs, settings: str, output: str | None, level: str, starter: Any = None
    ) -> None:
        self.number = number
        self.name = f"process{number:03d}"
        env = dict(os.environ)
        env.update(
            {
                "HEADWATER_PARALLEL_LOG_DIR": logs.root,
                "HEADWATER_PARALLEL_NODE": logs.node,
                "HEADWATER_PARALLEL_PROCESS": self.name,
                "HEADWATER_PARALLEL_OUTPUT": output or "",
                "HEADWATER_PARALLEL_LOGGING_LEVEL": level,
            }
        )
        stdout = logs.path("user", "stdout", logs.node, f"{self.name}.stdout.txt")
        stderr = logs.path("user", "stderr", logs.node, f"{self.name}.stderr.txt")
        self.buffer = b""
        self.ready = False
        self.batch: dict[str, Any] | None = None
        self.deadline = 0.0
        self.conn: Any = None
        self.proc: Any
        forked = starter.start(env, settings, stdout, stderr) if starter is not None else None
        if forked is not None:
            self.proc, self.conn = forked
            self.commands = self.conn.makefile("w", encoding="utf-8")
            self.replies = self.conn.makefile("rb", buffering=0)
            return
        cmd_r, cmd_w = os.pipe()
        rep_r, rep_w = os.pipe()
        try:
            with open(stdout, "ab") as out, open(stderr, "ab") as err:
                self.proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "headwater.runtime.parallel_worker",
                        str(cmd_r),
                        str(rep_w),
                        settings,
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=env,
                    pass_fds=(cmd_r, rep_w),
                )
        finally:
            os.close(cmd_r)
            os.close(rep_w)
        self.commands = os.fdopen(cmd_w, "w", encoding="utf-8")
        self.replies = os.fdopen(rep_r, "rb", buffering=0)

    def send(self, message: dict[str, Any]) -> None:
        """Send ``message``; to a worker that is gone it is lost, and :meth:`read` then sees the end."""
        try:
            self.commands.write(json.dumps(message) + "\n")
            self.commands.flush()
        except BrokenPipeError:
            pass

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """The complete messages available now, and whether the pipe is closed (the worker is gone)."""
        try:
            chunk = self.replies.read(65536)
        except OSError:  # a forked worker's connection, reset
            chunk = b""
        if not chunk:
            return [], True
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], False

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.commands, self.replies, self.conn):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
