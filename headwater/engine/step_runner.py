"""One step's life inside the orchestrator: decide, prepare, launch, finish.

The orchestrator calls :meth:`StepRunner.decide` for a step whose dependencies are done; a step
that must run gets its environment built if it needs one, then :meth:`StepRunner.prepare` (inputs,
working copy, task) and :meth:`StepRunner.launch` (recorded as running, submitted to the
executor); when its task ends, :meth:`StepRunner.finish` commits its outputs or records why not.

:class:`StepRunner` owns every status write for step runs, so the transitions live in one place:
NotStarted → Queued → Running → Finished | Failed | Canceled, or NotStarted → Finished for a
reused step (with SDK v1's ``azureml.reusedrunid`` properties and the earlier run's outputs).
The step of a script run (``plan.kind == SCRIPT_RUN``) takes SDK v1's script-run words instead
(:data:`~headwater.plan.run_plan.SCRIPT_STATUSES`): Queued → Preparing (inputs, working
copy) → Running → Finalizing (outputs being saved) → Completed | Failed | Canceled.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from headwater.engine.executors.base import Executor, TaskResult, TaskSpec
from headwater.engine.ingest import ingest_events
from headwater.engine.launch import ResolvedInput, ResolvedOutput, build_task
from headwater.engine.model_check import discard_stale_progress, record_model_lookups
from headwater.engine.output_check import remember_committed, stored_output_digest
from headwater.engine.outputs import (
    apply_upload_options,
    check_output,
    commit_output,
    output_digest,
    resolve_output_path,
    staging_dir,
)
from headwater.engine.reuse_decider import ReuseDecider
from headwater.engine.step_models import register_requested_models
from headwater.engine.upstream_check import check_upstream
from headwater.engine.workdir import check_snapshot, prepare_workdir
from headwater.errors import DataAccessError, HeadwaterError
from headwater.layout import STD_LOG, RunLayout, WorkspaceLayout
from headwater.plan.reuse import StepDecision
from headwater.plan.run_plan import SCRIPT_RUN, RunPlan
from headwater.runtime.run_files import read_end_request
from headwater.status import StepOutcome, StepRunStatus, Verdict
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunOutputRecord, utcnow

__all__ = ["Decided", "LOG_TAIL_LINES", "Prepared", "StepRunner"]

LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class Decided:
    """What :meth:`StepRunner.decide` found: ``verdict`` 'done' (reused, recorded), 'failed' (could
    not start, recorded) or 'must-run' (nothing recorded yet), with the planner's decision and the
    resolved inputs of a step that must run."""

    verdict: Verdict
    decision: StepDecision | None = None
    inputs: list[ResolvedInput] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    """A step ready to launch (:meth:`StepRunner.prepare`): its task and what its record will say."""

    task: TaskSpec
    decision: StepDecision
    inputs: list[ResolvedInput]
    outputs: list[ResolvedOutput]
    shipped: bool  # Ray without a shared filesystem: the worker fetches inputs and commits outputs


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' when there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


class StepRunner(ReuseDecider):
    """Decisions and status transitions for the steps of one pipeline run."""

    def __init__(self, plan: RunPlan, store: MetadataStore, *, log: TextIO | None = None) -> None:
        super().__init__(plan, store)
        self.log = log
        self.offsets: dict[str, int] = {}  # node -> bytes of its events file already ingested
        self.statuses = plan.step_statuses
        self.noun = "Script" if plan.kind == SCRIPT_RUN else "Step"  # how messages name what failed
        self.interpreters: dict[str, str] = {}  # node -> the Python of its built environment

    # -- decide ------------------------------------------------------------------------------

    def decide(self, node: str) -> Decided:
        """Resolve the step's inputs and decide: reused (recorded as Finished at once, verdict
        'done'), could not start (recorded as Failed, 'failed'), or it must run ('must-run': nothing
        written; the caller builds its environment if needed, then :meth:`prepare` and :meth:`launch`)."""
        step = self.plan.spec.step(node)
        env_error = self.plan.steps[node].environment_error
        if env_error:
            return Decided(self._fail(node, env_error))
        try:
            check_upstream(self.plan, self.store, self.inputs.backend, self.cache, node)  # fixed destinations only
            resolved = self.inputs.resolve(node, self.run_dir(node))
            decision = self.reuse_decision(node, {i.name: i.digest for i in resolved})
        except HeadwaterError as exc:
            return Decided(self._fail(node, f"{self.noun} {step.name!r} could not start: {exc}"))
        if decision.reused:
            self.record_reused(node, decision)
            return Decided("done", decision)
        return Decided("must-run", decision, resolved)

    # -- transitions ---------------------------------------------------------------------------

    def mark_queued(self, node: str) -> None:
        run_id = self.plan.steps[node].run_id
        run = self.store.get_run(run_id)
        if run is not None and run.status == StepRunStatus.NotStarted:
            self.store.update_run(run_id, status=StepRunStatus.Queued)

    def mark_preparing(self, node: str) -> None:
        """The step is about to be decided and prepared to run now: a script run is Preparing (a
        step run has no such status; a step whose environment could not be resolved fails instead)."""
        if self.statuses.preparing is not None and not self.plan.steps[node].environment_error:
            self.store.update_run(self.plan.steps[node].run_id, status=self.statuses.preparing)

    def mark_canceled(self, node: str, reason: str) -> None:
        self.store.update_run(
            self.plan.steps[node].run_id, status=StepRunStatus.Canceled, ended_at=utcnow(), error={"message": reason}
        )

    def fail_build(self, node: str, error: Exception) -> Literal["failed"]:
        """The step's environment could not be built: it fails with the resolver's message."""
        step = self.plan.spec.step(node)
        message = f"{self.noun} {step.name!r} could not start: its environment could not be built. {error}"
        return self._fail(node, message)

    def _fail(self, node: str, message: str, **extra: Any) -> Literal["failed"]:
        self.store.update_run(
            self.plan.steps[node].run_id,
            status=StepRunStatus.Failed,
            ended_at=utcnow(),
            error={"message": message, **extra},
        )
        return "failed"

    # -- prepare and launch --------------------------------------------------------------------

    def prepare(self, node: str, decided: Decided) -> Prepared | None:
        """Make a step that must run ready to launch: staging folders for its outputs, its inputs
        (downloaded, mounted, or shipped to a Ray worker), its working copy and its task. None: it
        could not start (recorded as Failed)."""
        assert decided.verdict == "must-run" and decided.decision is not None, decided.verdict
        step = self.plan.spec.step(node)
        run_id = self.plan.steps[node].run_id
        run_dir = self.run_dir(node)
        resolved = decided.inputs
        outputs = []
        for o in step.outputs:
            staged = staging_dir(run_dir, o.name)
            staged.mkdir(parents=True, exist_ok=True)
            outputs.append(
                ResolvedOutput(
                    name=o.name,
                    staging=staged,
                    datastore=o.datastore or self.plan.default_datastore,
                    path=resolve_output_path(o, run_id),
                    legacy=o.legacy,
                )
            )
        # Ray without a shared filesystem: the worker fetches the inputs and commits the outputs
        staging = self.plan.ray_ship.get(step.compute_target or "")
        snapshot_id = self.plan.steps[node].snapshot_id
        if step.kind == "parallel":  # finished mini-batches scored with a model no longer current: dropped
            discard_stale_progress(
                self.store, WorkspaceLayout(self.ws_folder).parallel_progress(decided.decision.fingerprint)
            )
        try:
            notices = self.inputs.materialize(resolved, run_dir) if staging is None else []
            workdir = prepare_workdir(self.snapshots_root / snapshot_id, run_dir)
            task = build_task(
                self.plan,
                step,
                run_dir=run_dir,
                workdir=workdir,
                inputs=resolved,
                outputs=outputs,
                interpreter=self.interpreters.get(node),
                fingerprint=decided.decision.fingerprint,
            )
            if staging is not None:
                from headwater.engine.ship import ship_payload  # tarfile & co: Ray targets without a shared FS only

                payload, notices = ship_payload(
                    store=self.store,
                    resolver=self.inputs,
                    step=step,
                    run_dir=run_dir,
                    resolved=resolved,
                    outputs=outputs,
                    staging=staging,
                    snapshot_dir=self.snapshots_root / snapshot_id,
                    snapshot_id=snapshot_id,
                    workspace_folder=self.ws_folder,
                )
                task = dataclasses.replace(task, ship=payload)
        except (HeadwaterError, OSError) as exc:
            self.inputs.release(run_dir)
            self._fail(node, f"{self.noun} {step.name!r} could not start: {exc}")
            return None
        if notices:  # where the script's author looks (std_log) and with the other system notices
            with open(run_dir.joinpath(*STD_LOG), "a", encoding="utf-8") as fh:
                fh.writelines(f"[headwater] {n}\n" for n in notices)
            self._system_log(node, "data_access.txt", notices)
        return Prepared(task, decided.decision, resolved, outputs, shipped=staging is not None)

    def launch(self, node: str, prepared: Prepared, executor: Executor) -> None:
        """Record the step as running (its fingerprint, reason and definition), then submit its task."""
        step = self.plan.spec.step(node)
        run_id = self.plan.steps[node].run_id
        decision, task = prepared.decision, prepared.task
        definition = {
            "fingerprint_parts": decision.parts,
            "argv": list(task.argv),
            "inputs": {
                i.name: {"mode": i.mode, "path": i.path, "dataset_id": (i.dataset or {}).get("id")}
                for i in prepared.inputs
            },
            "outputs": {o.name: {"datastore": o.datastore, "path": o.path} for o in prepared.outputs},
        }
        with self.store.transaction():  # one commit on the way to the step's start
            self.store.update_run(
                run_id,
                status=self.statuses.running,
                started_at=utcnow(),
                fingerprint=decision.fingerprint,
                reason=decision.reason,
            )
            # Merged, not replaced: a script run's record also holds its plan and its orchestrator.
            self.store.merge_run_definition(run_id, definition)
            if self.statuses.runsource is not None:
                self.store.add_properties(run_id, {"azureml.runsource": self.statuses.runsource})
            for o in step.outputs:
                # written in place (DataTransferStep), or committed by the Ray worker as soon as the step
                # succeeds: no earlier run vouches for this path from now on
                if o.mode == "direct" or prepared.shipped:
                    self.store.supersede_run_outputs(
                        o.datastore or self.plan.default_datastore, resolve_output_path(o, run_id), keep_run_id=run_id
                    )
        executor.submit(task)
        pid = executor.pid(run_id)
        if pid is not None:  # lets a client stop the process if this orchestrator dies
            self.store.merge_run_definition(run_id, {"pid": pid})

    def ingest(self, node: str, *, final: bool = False) -> None:
        """Apply the step's new events (metrics, tags ...) to the store; problems go to system_logs."""
        run_id = self.plan.steps[node].run_id
        run_dir = self.run_dir(node)
        events = RunLayout(run_dir).events_file
        offset = self.offsets.get(node, 0)
        try:
            if events.stat().st_size <= offset and not final:
                return
        except FileNotFoundError:
            return
        done = ingest_events(self.store, run_id, self.plan.parent_run_id, events, offset, final=final)
        self.offsets[node] = done.offset
        if done.problems:
            self._system_log(node, "events.txt", done.problems)

    def note(self, node: str, name: str, lines: list[str]) -> None:
        """Append ``lines`` to the step's ``system_logs/<name>`` and to the orchestrator's log."""
        self._system_log(node, name, lines)

    def _system_log(self, node: str, name: str, lines: list[str]) -> None:
        folder = RunLayout(self.run_dir(node)).system_logs
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / name, "a", encoding="utf-8") as fh:
            fh.writelines(f"{utcnow()} {line}\n" for line in lines)
        self._say(f"step {self.plan.spec.step(node).name!r}: " + "; ".join(lines))

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log.write(f"{utcnow()} {text}\n")
            self.log.flush()

    def finish(self, node: str, result: TaskResult) -> StepOutcome:
        """Ingest the step's events, then commit its outputs (success) or record why it ended.

        Returns 'done', 'failed', 'canceled' or 'timeout' (the step is Canceled: it exceeded its
        max_run_duration_seconds, which stops its downstream steps as a failure does).
        """
        step = self.plan.spec.step(node)
        run_id = self.plan.steps[node].run_id
        run_dir = self.run_dir(node)
        self.inputs.release(run_dir)  # the step's process has ended: unmount its remote views
        self.ingest(node, final=True)
        ran_on = {}  # where it ran (a Ray node and task; a task whose worker died has no node)
        if result.node is not None:
            ran_on["headwater.ray.node"] = result.node
        if result.task_id is not None:
            ran_on["headwater.ray.task_id"] = result.task_id
        if ran_on:
            self.store.add_properties(run_id, ran_on)
        changed = check_snapshot(self.snapshots_root, self.plan.steps[node].snapshot_id)
        if changed:
            self._system_log(
                node,
                "snapshot.txt",
                [
                    "the step wrote into its working copy's files, which changed the stored snapshot ("
                    + ", ".join(changed[:5])
                    + "); the snapshot was discarded and is stored again on the next submit"
                ],
            )
        if result.reason in ("timeout", "canceled"):
            shutil.rmtree(RunLayout(run_dir).staging, ignore_errors=True)
            error: dict[str, Any] = {"message": result.message}
            if result.reason == "timeout":
                error["log_tail"] = log_tail(run_dir.joinpath(*STD_LOG))
            self.store.update_run(run_id, status=StepRunStatus.Canceled, ended_at=utcnow(), error=error)
            return "timeout" if result.reason == "timeout" else "canceled"
        if not result.succeeded:
            shutil.rmtree(RunLayout(run_dir).staging, ignore_errors=True)
            tail = log_tail(run_dir.joinpath(*STD_LOG))
            if result.reason == "launch_failed":
                message = f"{self.noun} {step.name!r} could not start: {result.message}"
            elif result.reason == "worker_died":
                message = f"{self.noun} {step.name!r} failed: {result.message}"
            else:
                message = f"{self.noun} {step.name!r} failed with exit code {result.returncode}"
            return self._fail(node, message, exit_code=result.returncode, log_tail=tail)
        asked = read_end_request(str(run_dir))  # the script called run.fail() or run.cancel()
        if asked is not None:
            shutil.rmtree(RunLayout(run_dir).staging, ignore_errors=True)
            if asked["status"] == StepRunStatus.Canceled:
                self.store.update_run(run_id, status=StepRunStatus.Canceled, ended_at=utcnow(), error=asked["error"])
                return "canceled"
            extra = {k: v for k, v in asked["error"].items() if k != "message"}
            message = asked["error"].get("message") or "the script called run.fail()"
            return self._fail(node, f"{self.noun} {step.name!r} failed: {message}", **extra)
        try:  # what it read from a fixed destination must not have changed under it
            check_upstream(self.plan, self.store, self.inputs.backend, self.cache, node, when="while it ran")
        except (HeadwaterError, OSError) as exc:
            shutil.rmtree(RunLayout(run_dir).staging, ignore_errors=True)
            return self._fail(node, f"{self.noun} {step.name!r} failed: {exc}")
        if self.statuses.finalizing is not None:
            self.store.update_run(run_id, status=self.statuses.finalizing)
        committed = result.outputs
        if committed is None and self.plan.ray_ship.get(step.compute_target or ""):
            # shipped: only its worker can commit (its staged files are there); it reported why it did not
            return self._fail(
                node,
                f"{self.noun} {step.name!r} succeeded but its outputs could not be saved: "
                f"{result.message or 'the Ray worker reported no outputs'}",
            )
        try:
            self._commit_outputs(node, run_dir, committed)
        except (HeadwaterError, OSError) as exc:
            return self._fail(node, f"{self.noun} {step.name!r} succeeded but its outputs could not be saved: {exc}")
        try:  # run.register_model(...) in the script: registered now that the step succeeded
            register_requested_models(self.store, self.ws_folder, run_id, run_dir, self.plan.experiment_name)
            record_model_lookups(self.store, run_id, run_dir)  # for reuse: the registry is asked again
        except (HeadwaterError, OSError) as exc:
            return self._fail(
                node, f"{self.noun} {step.name!r} succeeded but its models could not be registered: {exc}"
            )
        self.store.update_run(run_id, status=self.statuses.finished, ended_at=utcnow())
        return "done"

    def _commit_outputs(self, node: str, run_dir: Path, committed: dict[str, str] | None = None) -> None:
        """Commit the staged outputs and record them; ``committed``: a shipped step's outputs, already
        committed by its Ray worker (output name -> digest)."""
        step = self.plan.spec.step(node)
        run_id = self.plan.steps[node].run_id
        if committed is None:  # a link leading out of any output: none of them is committed
            for o in step.outputs:
                if o.mode != "direct":
                    check_output(staging_dir(run_dir, o.name), o.name)
        for o in step.outputs:
            datastore = o.datastore or self.plan.default_datastore
            path = resolve_output_path(o, run_id)
            backend = self.inputs.backend(datastore)
            # Earlier runs' records of this path stop being reusable *before* it is written: a
            # commit that fails halfway (a remote upload) must not leave them vouching for a mix.
            self.store.supersede_run_outputs(datastore, path, keep_run_id=run_id)
            if committed is not None:
                if o.name not in committed:
                    raise HeadwaterError(f"the Ray worker did not report output {o.name!r}")
                digest = committed[o.name]
            elif o.mode == "direct":  # written in place by the step itself (DataTransferStep): nothing staged
                found = stored_output_digest(backend, path, self.cache)  # the shape of a staged output's
                if found is None:
                    raise DataAccessError(
                        f"The output {path or '/'!r} on datastore {backend.name!r} ({backend.location}) "
                        "does not exist.",
                        path=path,
                    )
                digest = found
            else:
                staged = staging_dir(run_dir, o.name)
                staged.mkdir(parents=True, exist_ok=True)
                apply_upload_options(o, staged, backend, path)
                digest = output_digest(staged, self.cache)
                commit_output(staged, backend, path)
                remember_committed(backend, path, staged, self.cache)  # no re-read by the next reuse check
            self.store.put_run_output(RunOutputRecord(run_id, o.name, datastore, path, digest))
            if o.register:
                self.inputs.register_output(o, datastore, path, run_id)
