"""The rest of SDK v1's ``Run`` members: what each kind of run has in common, or why one has no meaning here.

:class:`RunMembers` is the base class of :class:`headwater.runtime.run.Run`, kept apart so that
module stays small. What a member reads it asks of the run (``get_status``, ``get_details``,
``get_file_names``, ``download_file``), so client-side runs (``headwater.sdk.runs``), which read
those from the store, get the same members with their own data. Cloud-only members raise
:class:`~headwater.errors.NotSupportedError` naming the member, why, and what to do. Stdlib only.
"""

from __future__ import annotations

import os

from headwater.errors import NotSupportedError
from headwater.runtime import statuses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RunMembers"]

_LOG_PREFIXES = ("user_logs/", "azureml-logs/", "system_logs/", "logs/")


class RunMembers:
    """SDK v1 ``Run`` members shared by every kind of run (see the module doc)."""

    # SDK v1's class constants (the paths of its run-history service, kept for code that reads them)
    DELIM = "#"
    EXPERIMENT_ID_PATH = "/experiments/id/{0}"
    EXPERIMENT_NAME_PATH = "/experiments/{0}"
    RUN_PATH = "/runs/{0}"
    TID_FMT = "&tid={0}"
    WORKSPACE_FMT = "?wsid=/subscriptions/{0}/resourcegroups/{1}/workspaces/{2}"

    _run_id: str
    _run_dir: str | None

    # -- what the run is -----------------------------------------------------------------------

    def get_status(self) -> str:
        """The run's status: a run seen from its own process is Running."""
        return statuses.RUNNING

    @property
    def status(self) -> str:
        """The run's status (``get_status()``)."""
        return self.get_status()

    def get_detailed_status(self) -> dict[str, Any]:
        """SDK v1's ``{'status': ..., 'details': ...}`` (no further details are kept here)."""
        return {"status": self.get_status(), "details": None}

    @property
    def tags(self) -> dict[str, str | None]:
        """The run's tags (``get_tags()``)."""
        return self.get_tags()  # type: ignore[attr-defined]

    @property
    def name(self) -> str | None:
        """The run's name (None when it has none)."""
        return None

    @property
    def display_name(self) -> str | None:
        """The run's display name: its name."""
        return self.name

    @property
    def description(self) -> str | None:
        """The run's description (Headwater keeps none)."""
        return None

    @property
    def number(self) -> int:
        """SDK v1's run number in its experiment; Headwater numbers no runs (always 0)."""
        return 0

    @property
    def type(self) -> str:
        """The run type (``azureml.StepRun``, ``azureml.PipelineRun``, ``azureml.scriptrun`` ...)."""
        return "azureml.Run"

    @property
    def identity(self) -> str:
        """A name for the run in logs: ``<class>#<run id>``."""
        return f"{type(self).__name__}{self.DELIM}{self._run_id}"

    @classmethod
    def get_docs_url(cls) -> str:
        """Where the class is documented: SDK v1's reference page (Headwater follows its API)."""
        return "https://learn.microsoft.com/python/api/azureml-core/azureml.core.run.run"

    def get_portal_url(self) -> str | None:
        """Where to look at the run: its folder (SDK v1: a studio URL); None for a run without one."""
        return self._run_dir

    @property
    def portal_url(self) -> str | None:
        """``get_portal_url()``."""
        return self.get_portal_url()

    # -- logs ----------------------------------------------------------------------------------

    def get_details_with_logs(self) -> dict[str, Any]:
        """``get_details()`` with the text of each log file instead of its location."""
        details: dict[str, Any] = self.get_details()  # type: ignore[attr-defined]
        logs = [n for n in self.get_file_names() if n.startswith(_LOG_PREFIXES)]  # type: ignore[attr-defined]
        details["logFiles"] = {name: self._read_file(name) for name in logs}
        return details

    def get_all_logs(self, destination: str | os.PathLike[str] | None = None) -> list[str]:
        """Copy the run's log files into ``destination`` (default ``./assets/<run id>``); returns their paths."""
        target = os.fspath(destination) if destination is not None else os.path.join("assets", self._run_id)
        if os.path.isfile(target):
            raise NotADirectoryError(f"get_all_logs(destination={target!r}): it exists and is not a folder.")
        out = []
        for name, text in self.get_details_with_logs()["logFiles"].items():
            path = os.path.join(target, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            out.append(path)
        return out

    def _read_file(self, name: str) -> str:
        from headwater.runtime.run_files import file_path

        if self._run_dir is None:
            return ""
        with open(file_path(self._run_dir, name, where=f"run {self._run_id}"), encoding="utf-8", errors="replace") as f:
            return f.read()

    # -- what has no local meaning here --------------------------------------------------------

    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        datasets: list[Any] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Register the run's file or folder ``model_path`` as a model version (in a step: when the step
        succeeds; on a finished run: now). A run outside any workspace (offline) has no files to register."""
        raise NotSupportedError(
            f"Run.register_model({model_name!r}): this run is not in a workspace (an offline run).",
            hint="Register the file with Model.register(ws, model_path, model_name), or run the script as a step.",
        )

    def _unsupported(self, member: str, why: str, hint: str) -> NotSupportedError:
        return NotSupportedError(f"Run.{member}(): {why}", hint=hint)

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, run_type: str | None = None, populate: bool = False
    ) -> dict[str, Any]:
        """Metrics are read from the workspace's store, which a step never opens."""
        raise self._unsupported(
            "get_metrics",
            f"run {self._run_id}'s metrics are in the workspace's store, which is not read from here.",
            "Read them from a client: Run.get(ws, run_id).get_metrics(); inside a step, keep the values "
            "you log in variables.",
        )

    def wait_for_completion(
        self, show_output: bool = False, wait_post_processing: bool = False, raise_on_error: bool = True
    ) -> Any:
        """A run cannot wait for itself to end."""
        raise self._unsupported(
            "wait_for_completion",
            f"run {self._run_id} is the run of this process; it ends when the process does.",
            "Wait for a run from a client: Run.get(ws, run_id).wait_for_completion().",
        )

    def get_environment(self) -> Any:
        """The run's environment is recorded with its pipeline or script run."""
        raise self._unsupported(
            "get_environment",
            "the run's environment is not kept with the run object.",
            "Read it from the step's RunConfiguration (step.runconfig.environment), or from the "
            "registered environment: Environment.get(ws, name).",
        )

    def get_snapshot_id(self) -> str | None:
        """The id (digest) of the run's code snapshot, when it has one."""
        record = getattr(self, "_record", None)
        return getattr(record, "snapshot_id", None)

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None) -> str:
        """SDK v1 downloads a run's snapshot as a zip file; Headwater keeps snapshots as folders."""
        raise self._unsupported(
            "restore_snapshot",
            "Headwater keeps a run's code snapshot as a folder of the workspace, not as a zip to download.",
            "Copy its files from <workspace folder>/snapshots/<run.get_snapshot_id()>/ (on a client: "
            "Run.get(ws, run_id).get_snapshot_id()).",
        )

    def take_snapshot(self, file_or_folder_path: str | os.PathLike[str]) -> str:
        """SDK v1 uploads a snapshot of a folder; Headwater snapshots the source folder of a submitted run."""
        raise self._unsupported(
            "take_snapshot",
            "Headwater takes snapshots only of the source folder of a submitted run.",
            "Submit the folder with ScriptRunConfig(source_directory=...) or a PythonScriptStep; or keep "
            "files with run.upload_folder(name, path).",
        )

    def clean(self) -> None:
        """SDK v1 removes the run's files from its compute target; a local run's folder stays until `headwater gc`."""
        raise self._unsupported(
            "clean",
            "a run's files stay in its run folder, which the workspace keeps.",
            "Remove old runs' files with `headwater gc --older-than 30d`.",
        )

    def get_secret(self, name: str) -> str:
        """SDK v1 reads the workspace's Key Vault, which Headwater does not have."""
        raise self._unsupported(
            "get_secret",
            "Headwater has no key vault.",
            f"Pass the secret to the step in an environment variable (os.environ[{name!r}]), set where the "
            "pipeline is submitted (RunConfiguration.environment_variables) or on the machine.",
        )

    def get_secrets(self, secrets: Any) -> dict[str, str]:
        """See :meth:`get_secret`."""
        raise self._unsupported(
            "get_secrets",
            "Headwater has no key vault.",
            "Pass secrets to the step in environment variables (RunConfiguration.environment_variables).",
        )

    @classmethod
    def get_submitted_run(cls, **kwargs: Any) -> Any:
        """Deprecated in SDK v1: the same as ``Run.get_context()``."""
        return cls.get_context(**kwargs)  # type: ignore[attr-defined]

    @staticmethod
    def list(
        experiment: Any,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        status: str | None = None,
        include_children: bool = False,
        _rehydrate_runs: bool = True,
    ) -> Any:
        """The experiment's runs (``experiment.get_runs``), also filtered by ``status``."""
        runs = experiment.get_runs(type=type, tags=tags, properties=properties, include_children=include_children)
        return (r for r in runs if status is None or r.get_status() == status)

    @staticmethod
    def list_by_compute(
        compute: Any, type: str | None = None, tags: Any = None, properties: Any = None, status: str | None = None
    ) -> Any:
        """SDK v1 asks a compute target for its runs; Headwater's compute targets keep no run list."""
        raise NotSupportedError(
            "Run.list_by_compute(): Headwater's compute targets keep no list of runs.",
            hint="List an experiment's runs with Experiment(ws, name).get_runs(), or all runs with "
            "`headwater run list`.",
        )

    @staticmethod
    def add_type_provider(runtype: str, run_factory: Any) -> None:
        """SDK v1 registers a factory for a cloud run type; Headwater makes its own run objects."""
        raise NotSupportedError(
            f"Run.add_type_provider({runtype!r}): Headwater makes its run objects itself.",
            hint="Get runs with Run.get(ws, run_id) or Experiment.get_runs(); they are already of the "
            "right class (PipelineRun, StepRun, ScriptRun).",
        )
