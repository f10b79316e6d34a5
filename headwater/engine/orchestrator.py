"""The orchestrator: one per pipeline run (or script run: a one-step plan), a loop over the ready set.

For each step whose dependencies are done it asks the planner for a decision (reuse or run);
reused steps finish at once with the earlier run's outputs, others are launched through the
executor when a slot is free. It sleeps until a step ends (or the heartbeat is due), ingests the
step's events, commits its outputs on success, and decides what that unblocks. Every status
transition is written to the store before it is acted on.

Run it as ``python -m headwater.engine.orchestrator <plan.json>``; ``submit`` does that, detached.
``resume`` adds ``--resume``: steps whose runs Finished in an earlier attempt are kept as done.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from headwater.engine.destination_leases import DestinationLeases
from headwater.engine.env_builds import BUILD_ENDED, BUILD_STARTED, EnvironmentBuilds, record_build_time
from headwater.engine.environments import BuiltEnvironment
from headwater.engine.executors.base import Executor, TaskResult
from headwater.engine.executors.process_tree import become_subreaper
from headwater.engine.liveness import LockBusyError, claim_store_lock, hold_run_lock
from headwater.engine.step_runner import StepRunner
from headwater.errors import EnvironmentBuildError
from headwater.graph.analysis import dependencies, downstream, topological_order
from headwater.layout import CANCEL_FILE, ENVIRONMENTS_DIR, RunLayout, WorkspaceLayout
from headwater.plan.run_plan import SCRIPT_RUN, RunPlan
from headwater.status import SUCCEEDED, PipelineRunStatus, ScriptRunStatus, StepOutcome, StepState
from headwater.store.metadata import MetadataStore
from headwater.store.records import utcnow

__all__ = ["Orchestrator", "main", "HEARTBEAT_SECONDS", "CANCEL_FILE", "PLAN_WAIT_SECONDS"]

HEARTBEAT_SECONDS = 2.0
#: How often a run waiting for another run's lease on a fixed output destination tries again.
LEASE_POLL_SECONDS = 0.1
#: How long a freshly started orchestrator waits for submit to write the run plan.
PLAN_WAIT_SECONDS = 120.0


class Orchestrator:
    """Runs one pipeline run to its end."""

    def __init__(
        self,
        plan: RunPlan,
        store: MetadataStore,
        executor: Executor,
        *,
        log: TextIO | None = None,
        resume: bool = False,
    ) -> None:
        self.plan = plan
        self.resume = resume  # an earlier attempt recorded the run: its Finished steps are kept
        self.store = store
        self.executor = executor
        self.log = log
        self.runner = StepRunner(plan, store, log=log)
        self.order = topological_order(plan.spec)
        self.deps = dependencies(plan.spec)
        self.state: dict[str, StepState] = dict.fromkeys(self.order, "waiting")
        self.by_run_id = {plan.steps[n].run_id: n for n in self.order}
        self.stopped = threading.Event()  # set when the loop is over: stops the heartbeat thread
        self.cancel_asked = False  # set by request_cancel (a signal handler, the heartbeat thread)
        self.stop_launching = False
        self.run_dir = WorkspaceLayout(plan.workspace.folder).run(plan.pipeline_run_id).folder
        self._canceling = False
        self.max_concurrency = plan.max_concurrency or (os.cpu_count() or 1)
        # Launched steps whose result is not handled yet. The executor forgets a process as soon
        # as it exits; counting from here keeps limits and the recorded times consistent, and no
        # result is left unread when the loop decides it is done.
        self.active: set[str] = set()
        self.leases = DestinationLeases(plan)  # fixed output destinations: one run at a time
        self.lease_waits: set[str] = set()  # steps told they wait for another run's lease
        self.builds = EnvironmentBuilds(
            Path(plan.workspace.folder) / ENVIRONMENTS_DIR,
            lambda node: WorkspaceLayout(plan.workspace.folder).run(plan.steps[node].run_id).system_logs,
            strict_python=plan.workspace.strict_python,
        )

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log.write(f"{utcnow()} {text}\n")
            self.log.flush()

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> str:
        """Run every step; return the pipeline's final status."""
        pid = self.plan.pipeline_run_id
        if self.resume:
            self._keep_finished()
        if self.plan.kind == SCRIPT_RUN:  # the run is its one step: the step runner moves it on from here
            self.store.update_run(pid, status=ScriptRunStatus.Queued, heartbeat_at=utcnow())
        else:
            started: dict[str, Any] = {} if self.resume else {"started_at": utcnow()}  # a resumed run keeps its start
            self.store.update_run(pid, status=PipelineRunStatus.Running, heartbeat_at=utcnow(), **started)
        beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        beat.start()
        try:
            self._loop()
        except BaseException as exc:
            self._say("orchestrator crashed:\n" + traceback.format_exc())
            self.executor.close()
            for n in self.order:
                if self.state[n] == "running":  # stopped by close(); their results are not read
                    self.state[n] = "canceled"
                    self.runner.mark_canceled(n, f"the orchestrator failed: {exc}")
            self._cancel_remaining(f"the orchestrator failed: {exc}")
            error = {"message": f"orchestrator failed: {exc}"}
            self.store.update_run(pid, status=PipelineRunStatus.Failed, ended_at=utcnow(), error=error)
            raise
        finally:
            self.leases.close()
            self.stopped.set()
            beat.join(timeout=HEARTBEAT_SECONDS * 2)
        return self._finish()

    def _keep_finished(self) -> None:
        """Resume: a step whose run Finished in an earlier attempt (ran or reused) is done; its
        committed outputs, recorded on its run, are what its consumers read."""
        finished = self.plan.step_statuses.finished
        for node in self.order:
            record = self.store.get_run(self.plan.steps[node].run_id)
            if record is not None and record.status == finished:
                self.state[node] = "done"
        kept = [self.plan.spec.step(n).name for n in self.order if self.state[n] == "done"]
        self._say("resumed; steps kept from the earlier attempt: " + (", ".join(map(repr, kept)) or "none"))

    def _heartbeat(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                self.store.update_run(self.plan.pipeline_run_id, heartbeat_at=utcnow())
            except Exception as exc:  # a missed beat is not fatal; the next one may succeed
                self._say(f"heartbeat failed: {exc}")
            if RunLayout(self.run_dir).cancel_file.exists():
                self.request_cancel()

    def request_cancel(self) -> None:
        """Ask the loop to cancel the run. Only sets a flag, so it is safe from a signal handler
        and from another thread; the loop stops the running steps and everything launched later."""
        self.cancel_asked = True

    def _loop(self) -> None:
        while True:
            if not self.cancel_asked and RunLayout(self.run_dir).cancel_file.exists():
                self.request_cancel()  # also before anything was launched
            if self.cancel_asked and not self._canceling:
                self._say("cancel requested")
                self._canceling = self.stop_launching = True
            if self._canceling:
                for run_id in sorted(self.active):
                    self.executor.cancel(run_id)  # SIGTERM, then SIGKILL; repeated calls do nothing
                self._cancel_remaining("the pipeline run was canceled")
            self.leases.release_finished(self.state)
            if not self.stop_launching:
                self._launch_ready()
            building = "building" in self.state.values()
            if not self.active and not building:
                if self.stop_launching or not self._launch_possible():
                    self._cancel_remaining("it cannot start: an upstream step did not finish")
                    return
                time.sleep(LEASE_POLL_SECONDS)  # only a step waiting for another run's lease is left
                continue
            results = self.executor.wait(timeout=0.05 if building else 0.25) if self.active else []
            for result in results:
                self._on_result(result)
            if building:
                for nodes, outcome in self.builds.collect(timeout=0 if self.active else 0.25):
                    self._on_build(nodes, outcome)
            if not results:
                self._ingest_running()

    def _on_build(self, nodes: list[str], outcome: BuiltEnvironment | EnvironmentBuildError) -> None:
        """An environment build ended: its steps can start, or they fail with the build's message."""
        for node in nodes:
            if self.state[node] != "building":
                continue  # canceled meanwhile
            record_build_time(self.store, self.plan.steps[node].run_id, BUILD_ENDED)
            if isinstance(outcome, EnvironmentBuildError):
                self.state[node] = self.runner.fail_build(node, outcome)
                self._after_failure(node)
            else:
                self.runner.interpreters[node] = outcome.interpreter
                self.state[node] = "waiting"

    def _launch_possible(self) -> bool:
        return any(self.state[n] == "waiting" and self._ready(n) for n in self.order)

    def _ready(self, node: str) -> bool:
        return all(self.state[d] == "done" for d in self.deps[node])

    def _launch_ready(self) -> None:
        progressed = True
        while progressed and not self.stop_launching:
            progressed = False
            for node in self.order:
                if self.state[node] != "waiting" or not self._ready(node) or not self._leased(node):
                    continue
                sp = self.plan.steps[node]
                if sp.needs_build and node not in self.runner.interpreters:
                    # Reused steps need no environment: decide first, build only for a step that runs
                    # (decided again once built: the inputs are read when it starts).
                    verdict = self.runner.decide(node).verdict
                    if verdict != "must-run":
                        self._ended(node, verdict)
                        progressed = True
                        continue
                    self.runner.mark_queued(node)  # Queued while its environment is built
                    self.state[node] = "building"
                    record_build_time(self.store, sp.run_id, BUILD_STARTED)
                    self.builds.request(node, sp.environment_digest, self.plan.spec.step(node).environment)
                    continue
                running = self.active
                if self.plan.max_concurrency and len(running) >= self.plan.max_concurrency:
                    self.runner.mark_queued(node)
                    return
                if not self._target_has_room(node, running):
                    self.runner.mark_queued(node)
                    continue
                self._start(node)
                progressed = True

    def _start(self, node: str) -> None:
        """Decide, then prepare and launch the step unless it was reused or could not start."""
        self.runner.mark_preparing(node)
        decided = self.runner.decide(node)
        if decided.verdict != "must-run":
            self._ended(node, decided.verdict)
            return
        prepared = self.runner.prepare(node, decided)
        if prepared is None:
            self._ended(node, "failed")
            return
        self.runner.launch(node, prepared, self.executor)
        self.state[node] = "running"
        self.active.add(self.plan.steps[node].run_id)

    def _leased(self, node: str) -> bool:
        """Whether the run holds its fixed-destination leases, if ``node`` needs them (it writes one);
        else the step waits Queued, and its system log says which run holds the lease."""
        why = self.leases.try_take(node)
        if why is None:
            if node in self.lease_waits:
                self.lease_waits.discard(node)
                self.runner.note(node, "leases.txt", ["the run now holds its output destinations' leases"])
            return True
        if node not in self.lease_waits:
            self.lease_waits.add(node)
            self.runner.mark_queued(node)
            self.runner.note(node, "leases.txt", [why])
        return False

    def _target_has_room(self, node: str, running: set[str]) -> bool:
        """Whether the step's pool has a free slot: an AmlCompute runs up to its ``max_nodes`` steps;
        every other step shares the local pool (``max_concurrency``, default: the machine's cores).
        An explicit ``max_concurrency`` also caps the whole run (checked by the caller)."""
        limits = self.plan.target_concurrency
        target = self.plan.spec.step(node).compute_target or ""
        limit = limits.get(target)
        targets = [self.plan.spec.step(self.by_run_id[r]).compute_target or "" for r in running]
        if limit is None:
            return sum(1 for t in targets if t not in limits) < self.max_concurrency
        busy = sum(1 for t in targets if t == target)
        return busy < limit

    def _on_result(self, result: TaskResult) -> None:
        node = self.by_run_id[result.run_id]
        self.active.discard(result.run_id)
        self._ended(node, self.runner.finish(node, result))

    def _ended(self, node: str, outcome: StepOutcome) -> None:
        """The step ended (reused, finished, failed, canceled): what that blocks."""
        if outcome == "timeout":  # Canceled, and it counts as the pipeline's failure
            self.state[node] = "failed"
            self._after_failure(node, "exceeded its max_run_duration_seconds")
            return
        self.state[node] = outcome
        if outcome == "failed":
            self._after_failure(node)
        elif outcome == "canceled" and not self._canceling:  # its script called run.cancel()
            self._after_failure(node, "was canceled")

    def _ingest_running(self) -> None:
        """Metrics and tags of running steps reach the store while they run, not only at the end."""
        for run_id in list(self.active):
            try:
                self.runner.ingest(self.by_run_id[run_id])
            except Exception as exc:  # the final ingest, when the step ends, tries again
                self._say(f"ingesting the events of {run_id} failed: {exc}")

    def _after_failure(self, node: str, what: str = "failed") -> None:
        name = self.plan.spec.step(node).name
        blocked = downstream(self.plan.spec, node)
        for n in self.order:
            if n in blocked and self.state[n] == "waiting":
                self.state[n] = "canceled"
                self.runner.mark_canceled(n, f"not started: upstream step {name!r} {what}")
        if not self.plan.continue_on_step_failure:
            self.stop_launching = True

    def _cancel_remaining(self, reason: str) -> None:
        for n in self.order:
            if self.state[n] in ("waiting", "building"):
                self.state[n] = "canceled"
                self.runner.mark_canceled(n, reason)

    def _finish(self) -> str:
        if self.plan.kind == SCRIPT_RUN:
            return self._finish_script()
        states = set(self.state.values())
        if self._canceling:
            status = PipelineRunStatus.Canceled  # what was asked for, even if a step had failed before
        elif "failed" in states:
            status = PipelineRunStatus.Failed
        elif "canceled" in states:
            status = PipelineRunStatus.Canceled
        else:
            status = PipelineRunStatus.Finished
        error = None
        if status == PipelineRunStatus.Failed:
            failed = [self.plan.spec.step(n).name for n in self.order if self.state[n] == "failed"]
            error = {"message": "step(s) failed: " + ", ".join(repr(f) for f in failed), "steps": failed}
        self.store.update_run(self.plan.pipeline_run_id, status=status, ended_at=utcnow(), error=error)
        self._say(f"pipeline run {status}")
        return status

    def _finish_script(self) -> str:
        """A script run's record is its step's: the step runner already wrote how it ended."""
        record = self.store.get_run(self.plan.pipeline_run_id)
        status = record.status if record is not None else ScriptRunStatus.Failed
        self._say(f"script run {status}")
        return status


def main(argv: list[str] | None = None) -> int:
    """Entry point of the detached orchestrator process."""
    args = sys.argv[1:] if argv is None else argv
    try:
        os.setsid()  # detach from the submitter's terminal: Ctrl-C there must not cancel the run
    except OSError:
        pass  # already a session leader
    plan_path = Path(args[0])
    resume = "--resume" in args[1:]  # started by headwater.ops.resume
    try:  # held until this process is gone: how readers tell a dead orchestrator from a stalled one
        lock = hold_run_lock(plan_path.parent)
    except LockBusyError as exc:
        print(f"not starting: {exc}", file=sys.stderr)
        return 2
    become_subreaper()  # a step's orphaned descendants stay under this process, to be found and stopped
    from headwater.engine.executors.local import LocalExecutor
    from headwater.engine.executors.routing import RoutingExecutor
    from headwater.engine.executors.step_guard import step_guard

    step_guard()  # stops our steps should this process die; started while submit still writes the plan

    # submit starts this process while it is still recording the run (so the two overlap) and
    # writes the plan last: wait for it. A submit that fails on the way removes nothing, so give up
    # after a while.
    deadline = time.monotonic() + PLAN_WAIT_SECONDS
    while not plan_path.exists():
        if time.monotonic() > deadline:
            print(f"no plan appeared at {plan_path} within {PLAN_WAIT_SECONDS:g} s; nothing to run", file=sys.stderr)
            return 2
        time.sleep(0.002)
    plan = RunPlan.load(plan_path)
    log_path = RunLayout(plan_path.parent).orchestrator_log
    log_path.parent.mkdir(parents=True, exist_ok=True)

    with (
        open(log_path, "a", encoding="utf-8") as log,
        MetadataStore.open(plan.workspace.metadata_url) as store,
        RoutingExecutor(
            LocalExecutor(grace_seconds=plan.terminate_grace_seconds),
            plan.ray_targets,
            grace_seconds=plan.terminate_grace_seconds,
            resources={sp.run_id: sp.resources for sp in plan.steps.values() if sp.resources},
        ) as executor,
    ):
        claim_store_lock(store, plan.pipeline_run_id)  # PostgreSQL: for readers on other machines
        orch = Orchestrator(plan, store, executor, log=log, resume=resume)

        def on_term(signum: int, frame: Any) -> None:
            orch.request_cancel()

        signal.signal(signal.SIGTERM, on_term)
        try:
            status = orch.run()
        finally:
            orch.runner.close()
    os.close(lock)  # the run has its final status: nothing is left to guard
    return 0 if status in SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
