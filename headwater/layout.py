"""Every path of a workspace folder and of a run folder, named in one place.

::

    <workspace>/                         WorkspaceLayout
      workspace.json                     what the workspace is (written last: a complete workspace)
      metadata.db                        the SQLite metadata store (unless metadata_url names another)
      secrets.json                       datastore credentials (the only file holding secrets)
      datastores/<name>/                 the default datastores' files
      snapshots/<digest>/ <digest>.json  stored source snapshots and their manifests
      environments/<digest>/             built step environments
      environments/.headwater-runtime/   a link to the installed package, for built environments
      private-wheels/<sha256>/<file>.whl wheels added with Environment.add_private_pip_wheel
      models/<sha[:2]>/<sha256>          registered models' files, once per content, read-only
      locks/outputs/<digest>.lock        leases on fixed output destinations
      parallel/progress/<fingerprint>/   a ParallelRunStep's finished mini-batches (removed on success)
      locks/server.start.lock            held while a process starts the workspace's server
      locks/server.owner.lock            held by the running `headwater serve` for its whole life
      server.json                        where the running `headwater serve` answers (no secret)
      logs/server.log                    an autostarted server's output
      cache/digests.db                   the file-digest cache
      runs/<run id>/                     one folder per run: RunLayout

    <workspace>/runs/<run id>/           RunLayout
      plan.json  plan.attempt<N>.json    the run plan (a pipeline or script run), per resume attempt
      cancel.requested                   present: the orchestrator is asked to cancel
      end.requested                      the step's script asked to end Failed/Canceled (run.fail()/cancel())
      orchestrator.lock  resume.lock     held by the run's orchestrator / by a resume
      context.json                       the step contract (headwater.runtime.context)
      events.jsonl                       the step's metrics, tags and files, as JSON lines
      user_logs/std_log.txt              the step's stdout and stderr (SDK v1's common runtime name)
      user_logs/.std_log.txt.tail        a capped log's last half, until the step ends
      azureml-logs/70_driver_log.txt     the same file under SDK v1's classic name
      system_logs/                       orchestrator.log, environment_build.log, mount_<input>.txt, ...
      staging/<output>/                  outputs being written; committed only when the step succeeds
      inputs/<input>/                    downloaded inputs
      wd/  (outputs/, logs/)             the step's working copy of its snapshot
      artifacts/<name>                   files uploaded with run.upload_file

Stdlib only and cheap to import, so that every layer (store, plan, engine, ops, sdk, cli) can use
it. The step-side runtime does not import it (it avoids even :mod:`pathlib`); the few names it uses
itself (``artifacts``) are checked against these by a test.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ARTIFACTS_DIR",
    "CANCEL_FILE",
    "CONTEXT_FILE",
    "DATASTORES_DIR",
    "DIGEST_CACHE",
    "DRIVER_LOG",
    "ENVIRONMENTS_DIR",
    "END_REQUEST_FILE",
    "ENVIRONMENT_BUILD_LOG",
    "EVENTS_FILE",
    "INPUTS_DIR",
    "PARALLEL_PROGRESS_DIR",
    "METADATA_DB",
    "MODELS_DIR",
    "ORCHESTRATOR_LOCK",
    "ORCHESTRATOR_LOG",
    "OUTPUT_LOCKS_DIR",
    "PLAN_FILE",
    "RESUME_LOCK",
    "RUNS_DIR",
    "PRIVATE_WHEELS_DIR",
    "RUNTIME_LINK_DIR",
    "SECRETS_FILE",
    "SERVER_FILE",
    "SERVER_LOG",
    "SERVER_OWNER_LOCK",
    "SERVER_START_LOCK",
    "SNAPSHOTS_DIR",
    "STAGING_DIR",
    "STD_LOG",
    "SYSTEM_LOGS_DIR",
    "WORKDIR",
    "WORKDIR_FOLDERS",
    "WORKSPACE_FILE",
    "RunLayout",
    "WorkspaceLayout",
    "log_ring",
]

# -- names inside a workspace folder ------------------------------------------------------------------
WORKSPACE_FILE = "workspace.json"
METADATA_DB = "metadata.db"
SECRETS_FILE = "secrets.json"
DATASTORES_DIR = "datastores"
RUNS_DIR = "runs"
SNAPSHOTS_DIR = "snapshots"
ENVIRONMENTS_DIR = "environments"
RUNTIME_LINK_DIR = ".headwater-runtime"
PRIVATE_WHEELS_DIR = "private-wheels"
#: Registered models' files, stored once per content (sha256) and never changed.
MODELS_DIR = "models"
OUTPUT_LOCKS_DIR = ("locks", "outputs")
PARALLEL_PROGRESS_DIR = ("parallel", "progress")
DIGEST_CACHE = ("cache", "digests.db")
#: The running server's record (url, pid, port ...; never a token).
SERVER_FILE = "server.json"
SERVER_LOG = ("logs", "server.log")
SERVER_START_LOCK = ("locks", "server.start.lock")
SERVER_OWNER_LOCK = ("locks", "server.owner.lock")

# -- names inside a run folder ------------------------------------------------------------------------
PLAN_FILE = "plan.json"
CANCEL_FILE = "cancel.requested"
#: Written by ``run.fail()``/``run.cancel()`` in a step (the runtime's own copy is tested to agree).
END_REQUEST_FILE = "end.requested"
ORCHESTRATOR_LOCK = "orchestrator.lock"
RESUME_LOCK = "resume.lock"
CONTEXT_FILE = "context.json"
EVENTS_FILE = "events.jsonl"
#: Where a step's stdout and stderr go (SDK v1's "common runtime" name) ...
STD_LOG = ("user_logs", "std_log.txt")
#: ... and the same file under SDK v1's classic name, which older tools and notebooks look for.
DRIVER_LOG = ("azureml-logs", "70_driver_log.txt")
SYSTEM_LOGS_DIR = "system_logs"
ORCHESTRATOR_LOG = "orchestrator.log"
ENVIRONMENT_BUILD_LOG = "environment_build.log"
STAGING_DIR = "staging"
INPUTS_DIR = "inputs"
WORKDIR = "wd"
#: The folders a step's working directory starts with (SDK v1's ``./outputs`` and ``./logs``).
WORKDIR_FOLDERS = ("outputs", "logs")
#: Files uploaded with ``run.upload_file`` (the runtime's own copy of this name is tested to agree).
ARTIFACTS_DIR = "artifacts"


def log_ring(log: Path) -> Path:
    """The ring file next to a capped log that holds the cap's last half until the step ends."""
    return log.with_name(f".{log.name}.tail")


class WorkspaceLayout:
    """The paths of one workspace folder (nothing is created or checked)."""

    __slots__ = ("folder",)

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"WorkspaceLayout({str(self.folder)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkspaceLayout) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)

    @property
    def workspace_file(self) -> Path:
        return self.folder / WORKSPACE_FILE

    @property
    def metadata_db(self) -> Path:
        """The SQLite metadata store, when the workspace has no ``metadata_url``."""
        return self.folder / METADATA_DB

    @property
    def secrets_file(self) -> Path:
        return self.folder / SECRETS_FILE

    @property
    def datastores(self) -> Path:
        return self.folder / DATASTORES_DIR

    def datastore(self, name: str) -> Path:
        """The folder of a default (workspace-local) datastore."""
        return self.datastores / name

    @property
    def runs(self) -> Path:
        return self.folder / RUNS_DIR

    def run(self, run_id: str) -> RunLayout:
        """The folder of run ``run_id`` (a pipeline, step or script run)."""
        return RunLayout(self.runs / run_id)

    @property
    def snapshots(self) -> Path:
        return self.folder / SNAPSHOTS_DIR

    def snapshot_manifest(self, digest: str) -> Path:
        """The manifest stored beside snapshot ``digest``."""
        return self.snapshots / f"{digest}.json"

    @property
    def environments(self) -> Path:
        return self.folder / ENVIRONMENTS_DIR

    @property
    def runtime_link_dir(self) -> Path:
        """A folder whose only entry links to the installed ``headwater`` package (for built environments)."""
        return self.environments / RUNTIME_LINK_DIR

    def parallel_progress(self, fingerprint: str) -> Path:
        """A ParallelRunStep's finished mini-batches, by the step's fingerprint: a run of the same step
        with the same inputs (resumed, or submitted again after a failure) does not score them again."""
        return self.folder.joinpath(*PARALLEL_PROGRESS_DIR, fingerprint)

    @property
    def models(self) -> Path:
        """Registered models' files, content-addressed (see :meth:`model_file`)."""
        return self.folder / MODELS_DIR

    def model_file(self, digest: str) -> Path:
        """Where the model file whose content has sha256 ``digest`` is stored."""
        return self.models / digest[:2] / digest

    @property
    def output_locks(self) -> Path:
        """Leases on fixed output destinations, one ``<digest>.lock`` each."""
        return self.folder.joinpath(*OUTPUT_LOCKS_DIR)

    @property
    def digest_cache(self) -> Path:
        return self.folder.joinpath(*DIGEST_CACHE)

    @property
    def server_file(self) -> Path:
        """``server.json``: where the workspace's running ``headwater serve`` answers."""
        return self.folder / SERVER_FILE

    @property
    def server_log(self) -> Path:
        """The output of a server started in the background (autostarted)."""
        return self.folder.joinpath(*SERVER_LOG)

    @property
    def server_start_lock(self) -> Path:
        """Held while a process starts the server, so that concurrent starters start only one."""
        return self.folder.joinpath(*SERVER_START_LOCK)

    @property
    def server_owner_lock(self) -> Path:
        """Held by the running server for its whole life: free means no server runs."""
        return self.folder.joinpath(*SERVER_OWNER_LOCK)


class RunLayout:
    """The paths of one run folder, ``<workspace>/runs/<run id>`` (nothing is created or checked)."""

    __slots__ = ("folder",)

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @classmethod
    def of(cls, workspace_folder: str | os.PathLike[str], run_id: str) -> RunLayout:
        """The folder of run ``run_id`` in the workspace at ``workspace_folder``."""
        return WorkspaceLayout(workspace_folder).run(run_id)

    def __repr__(self) -> str:
        return f"RunLayout({str(self.folder)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunLayout) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)

    @property
    def plan(self) -> Path:
        return self.folder / PLAN_FILE

    def plan_attempt(self, attempt: int) -> Path:
        """The plan a resume writes for its attempt number ``attempt``."""
        return self.folder / f"plan.attempt{attempt}.json"

    @property
    def cancel_file(self) -> Path:
        return self.folder / CANCEL_FILE

    @property
    def orchestrator_lock(self) -> Path:
        return self.folder / ORCHESTRATOR_LOCK

    @property
    def resume_lock(self) -> Path:
        return self.folder / RESUME_LOCK

    @property
    def context_file(self) -> Path:
        return self.folder / CONTEXT_FILE

    @property
    def events_file(self) -> Path:
        return self.folder / EVENTS_FILE

    @property
    def std_log(self) -> Path:
        return self.folder.joinpath(*STD_LOG)

    @property
    def std_log_ring(self) -> Path:
        """The ring file of a capped ``std_log.txt`` (see :func:`log_ring`)."""
        return log_ring(self.std_log)

    @property
    def driver_log(self) -> Path:
        return self.folder.joinpath(*DRIVER_LOG)

    @property
    def system_logs(self) -> Path:
        return self.folder / SYSTEM_LOGS_DIR

    def system_log(self, name: str) -> Path:
        """A file in ``system_logs/`` (``data_access.txt``, ``mount_<input>.txt``, ...)."""
        return self.system_logs / name

    @property
    def orchestrator_log(self) -> Path:
        return self.system_logs / ORCHESTRATOR_LOG

    @property
    def environment_build_log(self) -> Path:
        return self.system_logs / ENVIRONMENT_BUILD_LOG

    @property
    def staging(self) -> Path:
        return self.folder / STAGING_DIR

    def staged_output(self, output_name: str) -> Path:
        """Where output ``output_name`` is written until it is committed."""
        return self.staging / output_name

    @property
    def inputs(self) -> Path:
        return self.folder / INPUTS_DIR

    @property
    def workdir(self) -> Path:
        """The step's working directory: its copy of the snapshot."""
        return self.folder / WORKDIR

    @property
    def artifacts(self) -> Path:
        return self.folder / ARTIFACTS_DIR
