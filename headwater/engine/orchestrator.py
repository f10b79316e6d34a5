"""The orchestrator: one per pipeline run, a loop over the ready set.

For each step whose dependencies are done it asks the planner for a decision (reuse or run);
reused steps finish at once with the earlier run's outputs, others are launched through the
executor when a slot is free. It sleeps until a step ends (or the heartbeat is due), ingests the
step's events, commits its outputs on success, and decides what that unblocks. Every status
transition is written to the store before it is acted on.

Run it as ``python -m headwater.engine.orchestrator <plan.json>``; ``submit`` does that, detached.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, TextIO

from headwater.engine.executors.base import Executor, TaskResult
from headwater.engine.ingest import ingest_events
from headwater.engine.plan_file import RunPlan
from headwater.engine.step_runner import StepRunner
from headwater.graph.analysis import dependencies, downstream, topological_order
from headwater.store.metadata import MetadataStore
from headwater.store.records import utcnow

__all__ = ["Orchestrator", "main", "HEARTBEAT_SECONDS", "CANCEL_FILE"]

HEARTBEAT_SECONDS = 2.0
CANCEL_FILE = "cancel.requested"


class Orchestrator:
    """Runs one pipeline run to its end."""

    def __init__(self, plan: RunPlan, store: MetadataStore, executor: Executor, *, log: TextIO | None = None) -> None:
        self.plan = plan
        self.store = store
        self.executor = executor
        self.log = log
        self.runner = StepRunner(plan, store, log=log)
        self.order = topological_order(plan.spec)
        self.deps = dependencies(plan.spec)
        self.state: dict[str, str] = dict.fromkeys(self.order, "waiting")  # waiting|running|done|failed|canceled
        self.by_run_id = {plan.steps[n].run_id: n for n in self.order}
        self.cancel_requested = threading.Event()
        self.stop_launching = False
        self.run_dir = Path(plan.workspace.folder) / "runs" / plan.pipeline_run_id
        self._canceling = False
        self.max_concurrency = plan.max_concurrency or (os.cpu_count() or 1)

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log.write(f"{utcnow()} {text}\n")
            self.log.flush()

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> str:
        """Run every step; return the pipeline's final status."""
        pid = self.plan.pipeline_run_id
        self.store.update_run(pid, status="Running", started_at=utcnow(), heartbeat_at=utcnow())
        beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        beat.start()
        try:
            self._loop()
        except BaseException as exc:
            self._say("orchestrator crashed:\n" + traceback.format_exc())
            self.executor.close()
            self._cancel_remaining(f"the orchestrator failed: {exc}")
            self.store.update_run(
                pid, status="Failed", ended_at=utcnow(), error={"message": f"orchestrator failed: {exc}"}
            )
            raise
        finally:
            self.cancel_requested.set()  # stops the heartbeat thread
            beat.join(timeout=HEARTBEAT_SECONDS * 2)
        return self._finish()

    def _heartbeat(self) -> None:
        while not self.cancel_requested.wait(HEARTBEAT_SECONDS):
            try:
                self.store.update_run(self.plan.pipeline_run_id, heartbeat_at=utcnow())
            except Exception as exc:  # a missed beat is not fatal; the next one may succeed
                self._say(f"heartbeat failed: {exc}")
            if (self.run_dir / CANCEL_FILE).exists():
                self.request_cancel()

    def request_cancel(self) -> None:
        if not self.stop_launching:
            self._say("cancel requested")
        self.stop_launching = True
        self._canceling = True
        for run_id in self.executor.running():
            self.executor.cancel(run_id)

    def _loop(self) -> None:
        while True:
            if self._canceling:
                self._cancel_remaining("the pipeline run was canceled")
            if not self.stop_launching:
                self._launch_ready()
            if not self.executor.running():
                if self.stop_launching or not self._launch_possible():
                    self._cancel_remaining("it cannot start: an upstream step did not finish")
                    return
                continue
            for result in self.executor.wait(timeout=0.25):
                self._on_result(result)
            if (self.run_dir / CANCEL_FILE).exists() and not self._canceling:
                self.request_cancel()

    def _launch_possible(self) -> bool:
        return any(self.state[n] == "waiting" and self._ready(n) for n in self.order)

    def _ready(self, node: str) -> bool:
        return all(self.state[d] == "done" for d in self.deps[node])

    def _launch_ready(self) -> None:
        progressed = True
        while progressed and not self.stop_launching:
            progressed = False
            for node in self.order:
                if self.state[node] != "waiting" or not self._ready(node):
                    continue
                if len(self.executor.running()) >= self.max_concurrency:
                    self.runner.mark_queued(node)
                    return
                outcome = self.runner.start(node, self.executor)
                self.state[node] = outcome
                if outcome == "failed":
                    self._after_failure(node)
                progressed = True

    def _on_result(self, result: TaskResult) -> None:
        node = self.by_run_id[result.run_id]
        outcome = self.runner.finish(node, result)
        self.state[node] = outcome
        if outcome == "failed":
            self._after_failure(node)

    def _after_failure(self, node: str) -> None:
        name = self.plan.spec.step(node).name
        blocked = downstream(self.plan.spec, node)
        for n in self.order:
            if n in blocked and self.state[n] == "waiting":
                self.state[n] = "canceled"
                self.runner.mark_canceled(n, f"not started: upstream step {name!r} failed")
        if not self.plan.continue_on_step_failure:
            self.stop_launching = True

    def _cancel_remaining(self, reason: str) -> None:
        for n in self.order:
            if self.state[n] == "waiting":
                self.state[n] = "canceled"
                self.runner.mark_canceled(n, reason)

    def _finish(self) -> str:
        states = set(self.state.values())
        if "failed" in states:
            status = "Failed"
        elif self._canceling or "canceled" in states:
            status = "Canceled"
        else:
            status = "Finished"
        error = None
        if status == "Failed":
            failed = [self.plan.spec.step(n).name for n in self.order if self.state[n] == "failed"]
            error = {"message": "step(s) failed: " + ", ".join(repr(f) for f in failed), "steps": failed}
        self.store.update_run(self.plan.pipeline_run_id, status=status, ended_at=utcnow(), error=error)
        self._say(f"pipeline run {status}")
        return status


def main(argv: list[str] | None = None) -> int:
    """Entry point of the detached orchestrator process."""
    args = sys.argv[1:] if argv is None else argv
    try:
        os.setsid()  # detach from the submitter's terminal: Ctrl-C there must not cancel the run
    except OSError:
        pass  # already a session leader
    plan_path = Path(args[0])
    plan = RunPlan.load(plan_path)
    log_dir = plan_path.parent / "system_logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    from headwater.engine.executors.local import LocalExecutor

    with open(log_dir / "orchestrator.log", "a", encoding="utf-8") as log, MetadataStore.open(
        plan.workspace.metadata_url
    ) as store, LocalExecutor() as executor:
        orch = Orchestrator(plan, store, executor, log=log)

        def on_term(signum: int, frame: Any) -> None:
            orch.request_cancel()

        signal.signal(signal.SIGTERM, on_term)
        try:
            status = orch.run()
        finally:
            orch.runner.close()
    return 0 if status == "Finished" else 1



if __name__ == "__main__":
    sys.exit(main())
