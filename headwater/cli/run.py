"""``headwater run list|show|logs|cancel|resume``: pipeline runs and their steps.

A run is named by its id or by a unique prefix of it (as git names commits); a prefix that
matches several runs is an error that lists them.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options
from headwater.status import TERMINAL, PipelineRunStatus, StepRunStatus

if TYPE_CHECKING:
    from pathlib import Path

    from headwater.sdk.log_files import LogFollower
    from headwater.sdk.runs import StepRun
    from headwater.sdk.script_run import ScriptRun
    from headwater.sdk.workspace import Workspace
    from headwater.store.records import RunRecord

__all__ = ["ENDED", "RunGroup", "resolve_run", "run"]

#: How often ``run logs --follow`` looks for new output.
POLL_SECONDS = 0.25
_sleep = time.sleep  # tests replace this to act between two polls
#: Statuses after which a run (any of SDK v1's three vocabularies) changes no more.
ENDED = TERMINAL  # how runs end (headwater.status)


class RunGroup(click.Group):
    """The ``run`` group: ``list``, ``show``, ``logs``, ``cancel`` — and ``run SCRIPT [ARGS]``.

    A first argument that is not a subcommand (or is ``-m``) is a script to run with the azureml
    compatibility layer active; it and everything after it go to the script untouched.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and (args[0] == "-m" or (args[0] not in self.commands and not args[0].startswith("-"))):
            args = [_SCRIPT_COMMAND, *args]
        return super().parse_args(ctx, args)


_SCRIPT_COMMAND = "__script__"


@click.group(cls=RunGroup)
def run() -> None:
    """Run a script with the azureml compatibility layer (`headwater run SCRIPT [ARGS]`,
    `headwater run -m MODULE [ARGS]`), or list, inspect, follow and cancel runs."""


@run.command(
    _SCRIPT_COMMAND,
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False, "help_option_names": []},
)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def script_cmd(argv: tuple[str, ...]) -> int:
    """Run SCRIPT (or -m MODULE) as ``python`` would, with ``import azureml...`` served by Headwater."""
    import traceback
    from pathlib import Path

    from headwater.compat.activate import activate, run_script
    from headwater.errors import NotFoundError

    module = argv[0] == "-m"
    rest = list(argv[1:])
    if module:
        if not rest:
            raise click.UsageError("-m needs a module name.")
        target, args = rest[0], rest[1:]
    else:
        target, args = argv[0], rest
        if not Path(target).exists():
            raise NotFoundError("Script", target, hint="Give the path of a Python file, or -m MODULE.")
    activate()  # refuses before anything runs when the real SDK is installed
    try:
        run_script(target, args, module=module)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:  # the script's own error: a traceback, as `python SCRIPT` prints it
        traceback.print_exc()
        return 1
    return 0


def resolve_run(ws: Workspace, prefix: str) -> RunRecord:
    """The run whose id is ``prefix``, or the only one whose id starts with it."""
    from headwater.cli.errors import AmbiguousRunIdError
    from headwater.errors import NotFoundError

    if not prefix.strip():
        raise click.BadParameter("give a run id or the start of one", param_hint="RUN_ID")
    store = ws.metadata_store
    record = store.get_run(prefix)
    if record is not None:
        return record
    matches = [r for r in store.list_runs() if r.id.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousRunIdError(prefix, [r.id for r in matches])
    raise NotFoundError("Run", prefix, where=f"workspace {ws.name!r}", hint="List runs with `headwater run list`.")


@run.command("list")
@click.option("--experiment", "-e", "experiment", metavar="NAME", help="Only runs of this experiment.")
@click.option(
    "--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, metavar="N", help="Show at most N runs."
)
@click.option("--all", "show_all", is_flag=True, help="Show every run (no --limit).")
@workspace_options
@json_option
def list_cmd(
    experiment: str | None, limit: int, show_all: bool, workspace_name: str | None, folder: str | None, as_json: bool
) -> None:
    """List top-level runs, newest first."""
    from headwater.errors import NotFoundError
    from headwater.sdk.runs import run_from_record

    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        experiments = {e.id: e.name for e in store.list_experiments()}
        experiment_id = None
        if experiment is not None:
            found = store.get_experiment(experiment)
            if found is None:
                raise NotFoundError(
                    "Experiment", experiment, where=f"workspace {ws.name!r}", candidates=experiments.values()
                )
            experiment_id = found.id
        records = store.list_runs(experiment_id=experiment_id, top_level=True, limit=None if show_all else limit)
        # A live status check (it notices a dead orchestrator), only for runs that have not ended.
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "experiment": experiments.get(r.experiment_id, "?"),
                "kind": r.kind,
                "status": r.status if r.status in ENDED else run_from_record(ws, r).get_status(),
                "created_at": r.created_at,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "duration_seconds": output.duration_seconds(r.started_at, r.ended_at),
            }
            for r in records
        ]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["id", "experiment", "status", "started", "duration"],
        [
            [
                r["id"],
                r["experiment"],
                r["status"],
                output.format_time(r["started_at"]),
                output.format_duration(r["duration_seconds"]),
            ]
            for r in rows
        ],
        styles={"status": output.STATUS_STYLES.get},
    )


def _run_summary(run_obj: Any) -> dict[str, Any]:
    """The JSON view of a pipeline or step run, from SDK v1's ``get_details()``."""
    details = run_obj.get_details()
    props = details.get("properties", {})
    reused_id = props.get("azureml.reusedrunid")
    started, ended = details.get("startTimeUtc"), details.get("endTimeUtc")
    return {
        "id": details["runId"],
        "name": run_obj.name,
        "status": details["status"],
        "started_at": started,
        "ended_at": ended,
        "duration_seconds": None if reused_id or not started else output.duration_seconds(started, ended),
        "reused": reused_id is not None,
        "reused_run_id": reused_id,
        "reason": details.get("reuseReason"),
        "error": (details.get("error") or {}).get("message"),
    }


def _reuse_label(step: dict[str, Any]) -> str:
    if step["reused"]:
        return "reused"
    return "ran" if step["started_at"] else "-"


def _studio_url(ws_folder: Path, run_id: str) -> str | None:
    """The run's page in the studio of the workspace's running server (None when none runs)."""
    from headwater.ops.server_process import running_server
    from headwater.ops.studio_links import run_url

    info = running_server(ws_folder)
    return None if info is None else run_url(info.url, run_id)


@run.command("show")
@click.argument("run_id")
@workspace_options
@json_option
def show_cmd(run_id: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show a run: its status and, for a pipeline run, each step and why it ran or was reused."""
    from headwater.sdk.runs import run_from_record

    with open_workspace(workspace_name, folder) as ws:
        record = resolve_run(ws, run_id)
        run_obj = run_from_record(ws, record)
        run_obj.get_status()  # for a pipeline run: notices a dead orchestrator
        data = _run_summary(run_obj)
        data["kind"] = record.kind
        data["experiment"] = run_obj.experiment.name
        if record.kind == "pipeline":
            data["steps"] = [_run_summary(step) for step in run_obj.get_children()]
        else:
            data["pipeline_run_id"] = record.parent_id
        data["studio_url"] = _studio_url(ws.folder, record.id)
    if as_json:
        output.emit_json(data)
        return
    pairs = [("run", data["id"]), ("kind", record.kind), ("experiment", data["experiment"])]
    if record.kind == "pipeline" and data["name"]:
        pairs.append(("description", str(data["name"])))
    if record.parent_id:
        pairs += [("pipeline run", record.parent_id), ("step", str(data["name"]))]
    pairs += [
        ("status", data["status"]),
        ("started", output.format_time(data["started_at"])),
        ("duration", output.format_duration(data["duration_seconds"])),
    ]
    if record.kind == "step":
        pairs += [("reuse", _reuse_label(data)), ("reason", data["reason"] or "-")]
    if data["error"]:
        pairs.append(("error", data["error"]))
    if data["studio_url"]:
        pairs.append(("studio", data["studio_url"]))
    output.fields(pairs)
    steps = data.get("steps")
    if not steps:
        return
    output.echo()
    output.table(
        ["step", "status", "duration", "reuse", "reason"],
        [
            [
                str(s["name"]),
                s["status"],
                output.format_duration(s["duration_seconds"]),
                _reuse_label(s),
                s["reason"] or "-",
            ]
            for s in steps
        ],
        styles={"status": output.STATUS_STYLES.get},
    )
    problems = [s for s in steps if s["error"] and s["status"] in (StepRunStatus.Failed, StepRunStatus.Canceled)]
    if problems:
        output.echo()
        for s in problems:
            output.echo(f"{s['name']} {s['status'].lower()}: {s['error']}")
        if any(s["status"] == StepRunStatus.Failed for s in problems):
            output.echo(f"See a step's log: headwater run logs {data['id'][:8]} --step NAME")
        if data["status"] in (PipelineRunStatus.Failed, PipelineRunStatus.Canceled):
            output.echo(f"Continue it (finished steps are kept): headwater run resume {data['id'][:8]}")


def _log_of(ws: Workspace, step: StepRun | ScriptRun) -> tuple[Path, str | None]:
    """A step's log file, and for a reused step the id of the run whose log it is."""
    from headwater.sdk.runs import StepRun, run_from_record

    reused_id = step.get_properties().get("azureml.reusedrunid")
    if reused_id:
        earlier = ws.metadata_store.get_run(reused_id)
        if earlier is not None:
            original = run_from_record(ws, earlier)
            if isinstance(original, StepRun):
                return original._log_path(), reused_id
    return step._log_path(), None


class _LogPrinter:
    """Prints what steps logged since the last call, ``tail``-style, a chunk at a time.

    With ``headers`` each step's output comes under ``==> name <==``, repeated whenever the output
    switches to another step (parallel steps, followed). While a step runs only whole lines are
    printed; once it ended, the rest. Memory stays one chunk per step whatever a log's size.
    """

    def __init__(self, ws: Workspace, steps: list[StepRun | ScriptRun], *, headers: bool) -> None:
        self.ws = ws
        self.steps = steps
        self.headers = headers
        self.followers: dict[str, LogFollower] = {}
        self.current: str | None = None  # the step whose output was printed last
        self.at_line_start = True

    def pump(self, *, ended: bool) -> None:
        """Print new output of every step; ``ended``: the run ended, print everything left."""
        from headwater.sdk.log_files import LogFollower

        for step in self.steps:
            path, reused_from = _log_of(self.ws, step)
            first = step.id not in self.followers
            follower = self.followers.setdefault(step.id, LogFollower(path))
            done = ended or step.get_status() in ENDED

            def write(text: str, step: StepRun | ScriptRun = step, reused_from: str | None = reused_from) -> None:
                if self.headers and self.current != step.id:
                    self._header(step, reused_from)
                self._write(text)

            follower.pump(write, whole_lines=not done, final=done)
            if self.headers and first and ended and self.current != step.id:  # an empty log: its header
                self._header(step, reused_from)

    def _header(self, step: StepRun | ScriptRun, reused_from: str | None) -> None:
        if self.current is not None:
            self._write("" if self.at_line_start else "\n")
            self._write("\n")
        note = f" (reused: the log of run {reused_from})" if reused_from else ""
        self._write(f"==> {step.name}{note} <==\n")
        self.current = step.id

    def _write(self, text: str) -> None:
        if text:
            output.echo(text, nl=False)
            self.at_line_start = text.endswith("\n")


@run.command("logs")
@click.argument("run_id")
@click.option("--step", "step_name", metavar="NAME", help="Only this step of a pipeline run.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until the run ends.")
@workspace_options
def logs_cmd(run_id: str, step_name: str | None, follow: bool, workspace_name: str | None, folder: str | None) -> None:
    """Print a step's or script run's log (user_logs/std_log.txt), or every step's log of a pipeline run."""
    from headwater.errors import HeadwaterError, NotFoundError
    from headwater.sdk.runs import PipelineRun, StepRun, run_from_record
    from headwater.sdk.script_run import ScriptRun

    with open_workspace(workspace_name, folder) as ws:
        record = resolve_run(ws, run_id)
        run_obj = run_from_record(ws, record)
        pipeline: PipelineRun | ScriptRun | None
        steps: list[StepRun | ScriptRun]
        if isinstance(run_obj, ScriptRun):
            if step_name is not None:
                raise click.UsageError(f"{record.id} is a script run; --step is for a pipeline run.")
            pipeline, steps, headers = run_obj, [run_obj], False
        elif isinstance(run_obj, StepRun):
            if step_name is not None:
                raise click.UsageError(f"{record.id} is a step run; --step is for a pipeline run.")
            pipeline = run_obj.parent
            steps, headers = [run_obj], False
        elif isinstance(run_obj, PipelineRun):
            pipeline = run_obj
            steps = list(run_obj.get_children())
            if step_name is not None:
                names = [s.name for s in steps]
                steps = [s for s in steps if s.name == step_name]
                if not steps:
                    raise NotFoundError("Step", step_name, where=f"run {record.id}", candidates=[str(n) for n in names])
            headers = step_name is None
        else:
            raise HeadwaterError(
                f"Run {record.id} is a {record.kind} run; logs are kept for pipeline, step and script runs."
            )
        printer = _LogPrinter(ws, steps, headers=headers)
        while True:
            ended = not follow or pipeline is None or pipeline.get_status() in ENDED
            printer.pump(ended=ended)
            if ended:
                return
            _sleep(POLL_SECONDS)


@run.command("cancel")
@click.argument("run_id")
@workspace_options
def cancel_cmd(run_id: str, workspace_name: str | None, folder: str | None) -> None:
    """Cancel a pipeline run (running steps are stopped and nothing new starts), a script run, or an
    interactive run (Experiment.start_logging)."""
    from headwater.errors import HeadwaterError
    from headwater.sdk.runs import run_from_record

    with open_workspace(workspace_name, folder) as ws:
        record = resolve_run(ws, run_id)
        if record.kind not in ("pipeline", "script", "interactive"):
            raise HeadwaterError(
                f"Run {record.id} is a {record.kind} run, not a pipeline, script or interactive run.",
                hint=f"Cancel its pipeline run: headwater run cancel {record.parent_id}" if record.parent_id else None,
            )
        pipeline = run_from_record(ws, record)
        status = pipeline.get_status()
        if status in ENDED:
            output.echo(f"Run {record.id} has already ended ({status}); nothing to cancel.")
            return
        pipeline.cancel()
        output.echo(f"Cancel requested for run {record.id} (it was {status}).")


@run.command("resume")
@click.argument("run_id")
@workspace_options
def resume_cmd(run_id: str, workspace_name: str | None, folder: str | None) -> None:
    """Continue a pipeline or script run whose orchestrator stopped (it died, a step failed, or it was
    canceled): same run id, finished steps kept, the others run again with the run's original plan."""
    from headwater.ops.resume import resume_run

    with open_workspace(workspace_name, folder) as ws:
        record = resolve_run(ws, run_id)
        resumed = resume_run(ws.metadata_store, ws.folder, record.id)
    kept = ", ".join(resumed.kept) or "none"
    again = ", ".join(resumed.rerun) or "none"
    output.echo(f"Resumed run {record.id} (attempt {resumed.attempt}): steps kept: {kept}; run again: {again}.")
    output.echo(f"Follow it: headwater run logs {record.id[:8]} --follow")
