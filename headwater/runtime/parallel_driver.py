"""A ParallelRunStep's process (stdlib only): plan mini-batches, run them in worker processes,
retry, apply the error thresholds, write the results and SDK v1's log files.

``python -m headwater.runtime.parallel_driver --scoring_module_name score.py --mini_batch_size 10
... [user arguments] --input_fds_0 <path> ...`` (the arguments SDK v1's ``amlbi_main.py`` gets).

Workers (:mod:`headwater.runtime.parallel_worker`) take the next mini-batch as soon as they are
free; they are forked from a warm worker server where they can be
(:mod:`headwater.runtime.parallel_warm`), else started as fresh interpreters. A ``run()`` call
that outlives ``run_invocation_timeout`` has its worker killed and replaced; a mini-batch is tried
``run_max_try`` times. A finished mini-batch is recorded in the progress folder
(``HEADWATER_PARALLEL_PROGRESS``, keyed by the step's fingerprint), so a resumed run, or the same
step run again with the same inputs, does not score it again. When a threshold is exceeded the
step fails with one message naming the failed mini-batches, the first failures' exception and
traceback, and ``logs/user/error.txt`` which holds all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections import deque
from typing import Any

from headwater.runtime import parallel_nodes as nodes
from headwater.runtime import parallel_warm as warm
from headwater.runtime.parallel_batches import (
    describe,
    failed_items,
    file_batches,
    list_files,
    parse_size,
    partition_batches,
    tabular_batches,
)
from headwater.runtime.parallel_claims import CLAIMS_DIR, claim, lock_progress
from headwater.runtime.parallel_perf import PerfMonitor
from headwater.runtime.parallel_processes import Logs, Worker

__all__ = ["main", "parse_arguments"]

PROGRESS_ENV = "HEADWATER_PARALLEL_PROGRESS"
SHOWN_FAILURES = 3
#: How long init() + shutdown() of a worker may take at the end before it is killed.
SHUTDOWN_SECONDS = 60


def parse_arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """SDK v1's driver arguments; the rest are the user's (and the inputs)."""
    p = argparse.ArgumentParser(prog="parallel_driver", add_help=False)
    p.add_argument("--scoring_module_name", required=True)
    p.add_argument("--mini_batch_size", default="0")
    p.add_argument("--error_threshold", type=int, default=-1)
    p.add_argument("--allowed_failed_count", type=int, default=None)
    p.add_argument("--allowed_failed_percent", type=float, default=None)
    p.add_argument("--output_action", default="append_row")
    p.add_argument("--logging_level", default="INFO")
    p.add_argument("--run_invocation_timeout", type=float, default=60)
    p.add_argument("--run_max_try", type=int, default=3)
    p.add_argument("--node_count", type=int, default=1)
    p.add_argument("--process_count_per_node", type=int, default=None)
    p.add_argument("--append_row_file_name", default="parallel_run_step.txt")
    p.add_argument("--output", default=None)
    p.add_argument("--partition_keys", default=None)
    p.add_argument("--resource_monitor_interval", type=float, default=600)  # logs/perf; 0: off
    args, rest = p.parse_known_args(argv)
    inputs = []
    for i, word in enumerate(rest):
        for flag in ("--input_fds_", "--input_ds_"):
            if word.startswith(flag) and i + 1 < len(rest):
                inputs.append(("tabular" if flag == "--input_ds_" else "file", rest[i + 1]))
    args.inputs = inputs
    return args, rest


class Driver:
    """The whole job (see the module docstring)."""

    def __init__(self, args: argparse.Namespace, rest: list[str], argv: list[str]) -> None:
        self.args = args
        self.rest = rest
        self.logs = Logs(os.path.join(os.getcwd(), "logs"))
        self.perf = PerfMonitor(self.logs.root, self.logs.node, args.resource_monitor_interval)
        self.argv = list(argv)
        folder = os.environ.get(PROGRESS_ENV) or os.path.join(os.getcwd(), ".parallel_progress")
        self.node_role = nodes.is_node()  # one of the node drivers of a multi-node run: its coordinator locked it
        self.progress = folder if self.node_role else self._claim(folder)
        os.makedirs(os.path.join(self.progress, "rows"), exist_ok=True)
        os.makedirs(os.path.join(self.progress, "done"), exist_ok=True)
        self.settings = os.path.join(self.progress, f"settings.{os.getpid()}.json")
        self.tries: dict[int, int] = {}
        self.failures: list[dict[str, Any]] = []  # every failed try
        self.failed: dict[int, dict[str, Any]] = {}  # mini-batches failed for good
        self.failed_items = 0
        self.done: dict[int, dict[str, Any]] = {}
        self.mine: set[int] = set()  # (node role) the mini-batches this node driver claimed
        self._published: tuple[list[int], int] = ([], 0)  # (node role) the failures other nodes know of
        self.starter: warm.Starter | None = None  # forks warm workers (headwater.runtime.parallel_warm)

    def _claim(self, folder: str) -> str:
        """``folder``, locked for this driver's life; a private folder when another live driver of the
        same step (same fingerprint, another run) holds it: the two never mix their mini-batches."""
        self._lock = lock_progress(folder)  # held until the process ends
        if self._lock is None:
            private = f"{folder}.{os.getpid()}"
            self.logs.master(f"another run of this step is using {folder}: its progress is kept in {private}")
            return private
        return folder

    # -- planning ------------------------------------------------------------------------------

    def _context_inputs(self) -> dict[str, Any]:
        from headwater.runtime.context import CONTEXT_ENV, load_context

        path = os.environ.get(CONTEXT_ENV)
        return dict(load_context(path).input_datasets) if path else {}

    def plan(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        refs = self._context_inputs()
        readers: dict[str, Any] = {}
        sources = []
        for kind, value in self.args.inputs:
            name, definition = value, {}  # type: tuple[str, dict[str, Any]]
            for ref in refs.values():
                if value in (ref.path, os.environ.get(ref.name)):
                    name, definition = ref.name, (ref.dataset or {}).get("definition") or {}
            readers[name] = definition.get("reader") or {}
            sources.append((kind, name, value, definition.get("partition_format")))
        batches: list[dict[str, Any]] = []
        size = parse_size(str(self.args.mini_batch_size or "0"))
        if self.args.partition_keys:
            keys = json.loads(self.args.partition_keys)
            kind = sources[0][0]
            batches = partition_batches([(n, list_files(v), f) for _, n, v, f in sources], keys, kind)
            for b in batches:
                b["input"] = sources[0][1]
                for item in b["items"] if kind == "tabular" else []:
                    item["columns"] = dict(b["partition"])
            return batches, readers
        for kind, name, value, fmt in sources:
            files = list_files(value)
            if kind == "file":
                new = file_batches([p for p, _ in files], size, len(batches))
            else:
                new = tabular_batches([p for p, _ in files], size, readers[name], len(batches))
                if fmt:
                    from headwater.runtime.parallel_batches import partition_values

                    by_path = {p: partition_values(fmt, rel) or {} for p, rel in files}
                    for b in new:
                        for item in b["items"]:
                            item["columns"] = by_path[item["path"]]
            for b in new:
                b["input"] = name
            batches += new
        return batches, readers

    def _worker(self, number: int) -> Worker:
        return Worker(number, self.logs, self.settings, self.args.output, self.args.logging_level, self.starter)

    # -- running -------------------------------------------------------------------------------

    def _load_done(self, total: int) -> None:
        folder = os.path.join(self.progress, "done")
        for name in os.listdir(folder):
            if name.endswith(".json"):
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    record = json.load(fh)
                if record.get("total") == total:
                    self.done[int(name[:-5])] = record

    def _record_done(self, index: int, reply: dict[str, Any], total: int) -> None:
        record = {"items": reply["items"], "returned": reply["returned"], "total": total}
        path = os.path.join(self.progress, "done", f"{index}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        os.replace(path + ".tmp", path)
        self.done[index] = record

    def _workers_wanted(self) -> int:
        per_node = self.args.process_count_per_node or os.cpu_count() or 1
        return max(1, per_node * (1 if self.node_role else max(1, self.args.node_count)))

    def _take(self, pending: deque[dict[str, Any]]) -> dict[str, Any] | None:
        """The next mini-batch to score; a node driver first claims it (another node may have)."""
        while pending:
            batch = pending.popleft()
            index = batch["index"]
            if not self.node_role or index in self.mine or claim(self.progress, index, self.logs.node):
                self.mine.add(index)
                return batch
        return None

    def run(self) -> int:
        batches, readers = self.plan()
        total = len(batches)
        self._load_done(total)
        pending: deque[dict[str, Any]] = deque(b for b in batches if b["index"] not in self.done)
        self.logs.master(
            f"{total} mini-batches planned; {len(self.done)} finished by an earlier attempt; "
            f"{len(pending)} to run with {min(self._workers_wanted(), max(1, len(pending)))} worker process(es)"
        )
        with open(self.settings, "w", encoding="utf-8") as fh:
            settings = {"entry_script": self.args.scoring_module_name, "argv": self.rest, "readers": readers,
                        "output_action": self.args.output_action, "progress": self.progress}  # fmt: skip
            json.dump(settings, fh)
        self.logs.start_meter(len(self.done), total)
        aborted = None
        if pending and not self.node_role and self.args.node_count > 1 and nodes.launcher():
            aborted = self._run_nodes(total)
            pending = deque(b for b in pending if b["index"] not in self.done and b["index"] not in self.failed)
            if pending and not aborted:
                self.logs.master(f"{len(pending)} mini-batch(es) no node finished: scoring them here")
        aborted = aborted or (self._loop(pending, total) if pending else None)
        os.unlink(self.settings)
        if self.node_role:
            nodes.write_report(self.progress, f"{self.logs.node}.{os.getpid()}", {
                "failed": self.failed, "failures": self.failures, "failed_items": self.failed_items,
                "aborted": aborted, "scored": sorted(self.mine & set(self.done)),
            })  # fmt: skip
            self.logs.master(f"node {self.logs.node}: {len(self.mine & set(self.done))} mini-batch(es) scored")
            return 0
        return self._finish(batches, total, aborted)

    def _run_nodes(self, total: int) -> str | None:
        """Score the mini-batches with ``node_count`` node drivers (:mod:`headwater.runtime.parallel_nodes`)
        and take over their results; the first node's reason to abort, if any."""
        for sub in (CLAIMS_DIR, nodes.NODES_DIR):  # an earlier attempt's (this driver holds the folder)
            shutil.rmtree(os.path.join(self.progress, sub), ignore_errors=True)
        count = self.args.node_count
        self.logs.master(f"starting {count} node driver(s), {self._workers_wanted() // count} worker(s) each")
        argv = [sys.executable, "-m", "headwater.runtime.parallel_driver", *self.argv]
        ticks = lambda: self.logs.tick(nodes.done_count(self.progress), nodes.live_totals(self.progress)[0], total)  # noqa: E731
        code = nodes.launch(nodes.launcher(), count, self.logs.root, argv, self.progress, ticks)
        reports = nodes.read_reports(self.progress)
        self.logs.master(f"node drivers ended (launcher exit code {code}); {len(reports)} reported")
        aborted = None
        for report in reports.values():
            self.failed.update({int(k): v for k, v in report["failed"].items()})
            self.failures += report["failures"]
            self.failed_items += report["failed_items"]
            aborted = aborted or report["aborted"]
        self._load_done(total)
        return aborted

    def _loop(self, pending: deque[dict[str, Any]], total: int) -> str | None:
        count = min(self._workers_wanted(), len(pending))
        self.starter = warm.starter(dict(os.environ), self.args.scoring_module_name)
        numbers = iter(range(10**6))
        workers = [self._worker(next(numbers)) for _ in range(count)]
        selector = selectors.DefaultSelector()
        for w in workers:
            selector.register(w.replies, selectors.EVENT_READ, w)
        timeout = float(self.args.run_invocation_timeout)
        last_note = last_check = 0.0
        try:
            while pending or any(w.batch is not None for w in workers):
                for w in workers:
                    if w.ready and w.batch is None and pending:
                        w.batch = self._take(pending)
                        if w.batch is None:
                            break
                        w.deadline = time.monotonic() + timeout
                        w.send({"batch": w.batch})
                busy = [w.deadline for w in workers if w.batch is not None]
                wait = max(0.0, min(busy) - time.monotonic()) if busy else 1.0
                for key, _ in selector.select(timeout=min(wait, 1.0)):
                    w = key.data
                    messages, closed = w.read()
                    for m in messages:
                        problem = self._handle(w, m, pending, total)
                        if problem:
                            return problem
                    if closed:
                        selector.unregister(w.replies)
                        w.kill()
                        if not w.ready:
                            return f"A worker process exited with code {w.proc.returncode} before init() finished."
                        reason = f"the worker process died (exit code {w.proc.returncode})"
                        problem = self._replace(w, workers, selector, numbers, pending, reason, total)
                        if problem:
                            return problem
                now = time.monotonic()
                for w in list(workers):
                    if w.batch is not None and now > w.deadline:
                        selector.unregister(w.replies)
                        w.kill()
                        reason = (
                            f"run() did not return within run_invocation_timeout={self.args.run_invocation_timeout:g}s"
                        )
                        problem = self._replace(w, workers, selector, numbers, pending, reason, total)
                        if problem:
                            return problem
                if self.node_role and now - last_check > 0.2:  # another node's failures count too
                    last_check = now
                    problem = self._check(total)
                    if problem:
                        return problem
                self.perf.due(workers)
                if now - last_note > 5:
                    last_note = now
                    self.logs.progress(self._overview(total))
            return None
        finally:
            self.perf.due(workers, force=True)
            for w in workers:  # one still in init() reads its stop after init(): shutdown() pairs with it
                if w.proc.poll() is None and w.batch is None:
                    try:
                        w.send({"stop": True})
                    except OSError:
                        pass
            for w in workers:
                try:
                    w.proc.wait(timeout=SHUTDOWN_SECONDS if w.batch is None else 0)
                except subprocess.TimeoutExpired:
                    pass
                w.kill()
            selector.close()
            if self.starter is not None:
                self.starter.close()

    def _handle(self, w: Worker, m: dict[str, Any], pending: deque[dict[str, Any]], total: int) -> str | None:
        if "init_error" in m:
            self.failures.append(
                {"batch": None, "process": w.name, "error": m["init_error"], "traceback": m["traceback"]}
            )
            return f"init() of the entry script failed in {w.name}: {m['init_error']}"
        if m.get("ready"):
            w.ready = True
            self.logs.process(w.name, f"pid {w.proc.pid}: init() done")
            return None
        batch, w.batch = w.batch, None
        assert batch is not None and batch["index"] == m["index"], (batch, m)
        self.logs.process(w.name, f"mini-batch {batch['index']}: " + ("done" if m["ok"] else "failed: " + m["error"]))
        self.logs.tick(len(self.done) + m["ok"], len(self.failed), total)
        if m["ok"]:
            self._record_done(batch["index"], m, total)
            self.failed_items += max(0, m["items"] - m["returned"])
            return self._check(total)
        return self._failed_try(batch, w.name, m["error"], m.get("traceback", ""), pending, total, m.get("items"))

    def _replace(self, w: Worker, workers: list[Worker], selector: Any, numbers: Any, pending: Any,
                 reason: str, total: int) -> str | None:  # fmt: skip
        batch, w.batch = w.batch, None
        new = self._worker(next(numbers))
        workers[workers.index(w)] = new
        selector.register(new.replies, selectors.EVENT_READ, new)
        self.logs.master(f"{w.name} replaced by {new.name}: {reason}")
        self.logs.process(w.name, f"killed: {reason}")
        if batch is None:
            return None
        return self._failed_try(batch, w.name, reason, "", pending, total)

    def _failed_try(
        self,
        batch: dict[str, Any],
        process: str,
        error: str,
        tb: str,
        pending: Any,
        total: int,
        read: int | None = None,
    ) -> str | None:
        index = batch["index"]
        self.tries[index] = self.tries.get(index, 0) + 1
        self.failures.append({"batch": index, "process": process, "error": error, "traceback": tb,
                              "try": self.tries[index], "items": describe(batch)})  # fmt: skip
        self._write_error(process, f"mini-batch {index} (try {self.tries[index]}): {error}\n{tb}")
        if self.tries[index] < self.args.run_max_try:
            pending.append(batch)
            return None
        self.failed[index] = batch
        self.failed_items += failed_items(batch, read)
        return self._check(total)

    def _check(self, total: int) -> str | None:
        a = self.args
        batches, items, where = len(self.failed), self.failed_items, ""
        if self.node_role:  # the thresholds are the job's: summed over every node driver
            if (sorted(self.failed), items) != self._published:
                self._published = (sorted(self.failed), items)
                nodes.publish_counts(self.progress, f"{self.logs.node}.{os.getpid()}", *self._published)
            batches, items = nodes.live_totals(self.progress)
            where = " across all nodes"
        if a.error_threshold != -1 and items > a.error_threshold:
            return f"{items} failed item(s){where} exceed error_threshold={a.error_threshold}"
        if a.allowed_failed_count not in (None, -1) and batches > a.allowed_failed_count:
            return f"{batches} failed mini-batch(es){where} exceed allowed_failed_count={a.allowed_failed_count}"
        if a.allowed_failed_percent is not None and total and 100.0 * batches / total > a.allowed_failed_percent:
            share = f"{batches} failed mini-batch(es) of {total} ({100.0 * batches / total:.1f}%){where}"
            return f"{share} exceed allowed_failed_percent={a.allowed_failed_percent:g}"  # failures only grow
        return None

    def _overview(self, total: int) -> str:
        self.logs.tick(len(self.done), len(self.failed), total, force=True)
        return self.logs.overview(len(self.done), len(self.failed), self.failed_items, total)

    def _write_error(self, process: str, text: str) -> None:
        for path in (
            self.logs.path("user", "error.txt"),
            self.logs.path("user", "error", self.logs.node, f"{process}.txt"),
        ):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text.rstrip() + "\n\n")

    # -- the end -------------------------------------------------------------------------------

    def _finish(self, batches: list[dict[str, Any]], total: int, aborted: str | None) -> int:
        aborted = aborted or self._check(total)
        items = sum(r["items"] for r in self.done.values())
        returned = sum(r["returned"] for r in self.done.values())
        summary = [
            f"mini-batches: {total} total, {len(self.done)} succeeded, {len(self.failed)} failed",
            f"items: {items} processed in succeeded mini-batches, {returned} returned, {self.failed_items} failed",
        ]
        self.logs.progress(self._overview(total))
        if aborted:
            message = self._failure_message(aborted)
            with open(self.logs.path("job_result.txt"), "w", encoding="utf-8") as fh:
                fh.write("\n".join(["Failed: " + aborted, *summary]) + "\n")
            self.logs.master("job failed: " + aborted)
            from headwater.runtime.context import CONTEXT_ENV, load_context
            from headwater.runtime.run_files import request_end
            from headwater.runtime.statuses import FAILED

            path = os.environ.get(CONTEXT_ENV)
            if not path:
                sys.stderr.write(message + "\n")
                return 1
            request_end(
                load_context(path).run_dir, FAILED, {"message": message, "failed_mini_batches": sorted(self.failed)}
            )
            return 0
        if self.args.output_action == "append_row" and self.args.output:
            os.makedirs(self.args.output, exist_ok=True)
            target = os.path.join(self.args.output, self.args.append_row_file_name or "parallel_run_step.txt")
            with open(target, "wb") as out:
                for b in batches:
                    rows = os.path.join(self.progress, "rows", f"{b['index']}.txt")
                    if b["index"] in self.done and os.path.isfile(rows):
                        with open(rows, "rb") as fh:
                            shutil.copyfileobj(fh, out)
        with open(self.logs.path("job_result.txt"), "w", encoding="utf-8") as fh:
            fh.write("\n".join(["Succeeded", *summary]) + "\n")
        self.logs.master("job succeeded: " + "; ".join(summary))
        if os.environ.get(PROGRESS_ENV):
            shutil.rmtree(self.progress, ignore_errors=True)
        return 0

    def _failure_message(self, aborted: str) -> str:
        failed = sorted(self.failed)
        shown = [f for f in self.failures if f["batch"] is None or f["batch"] in self.failed][
            :SHOWN_FAILURES
        ] or self.failures[:SHOWN_FAILURES]
        lines = [f"ParallelRunStep aborted: {aborted}."]
        if failed:
            more = f" (and {len(failed) - 20} more)" if len(failed) > 20 else ""
            lines.append(f"Failed mini-batches: {', '.join(str(i) for i in failed[:20])}{more}.")
        for f in shown:
            where = (
                "init()"
                if f["batch"] is None
                else f"mini-batch {f['batch']} ({f.get('items', '')}, try {f.get('try')})"
            )
            lines.append(f"{where} in {f['process']}: {f['error']}")
            if f.get("traceback"):
                lines.append(f["traceback"].rstrip())
        lines.append(f"Every failure is in {self.logs.path('user', 'error.txt')}; per process in logs/user/error/.")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args, rest = parse_arguments(sys.argv[1:] if argv is None else argv)
    return Driver(args, rest, sys.argv[1:] if argv is None else argv).run()


if __name__ == "__main__":
    sys.exit(main())
