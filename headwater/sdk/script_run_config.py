"""``ScriptRunConfig`` (SDK v1: ``azureml.core.ScriptRunConfig``): one script, submitted on its own.

``Experiment(ws, name).submit(ScriptRunConfig(...))`` runs the script once and returns a
:class:`~headwater.sdk.script_run.ScriptRun`. It runs on the pipeline engine: the configuration
becomes a one-step plan (a PythonScriptStep, or a CommandStep for ``command=``, with
``allow_reuse=False``: SDK v1 never reuses a script run), submitted as a *script run*. That run is
a single record whose id is also the step's, so ``Run.get_context()`` in the script is the
ScriptRun itself (``run.parent`` is None) and what it logs lands on it. Its statuses are SDK v1's
script-run words: NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed, Canceled.

Arguments may hold what a step's arguments may: ``dataset.as_named_input('x').as_mount()``,
``OutputFileDatasetConfig`` (committed to its datastore when the script succeeds), literals.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError, GraphValidationError, NotSupportedError
from headwater.graph.analysis import validate
from headwater.sdk.environment import DockerConfiguration, Environment, RunConfiguration

if TYPE_CHECKING:
    from headwater.sdk.script_run import ScriptRun
    from headwater.sdk.steps import PipelineStep
    from headwater.sdk.workspace import Workspace

__all__ = ["ScriptRunConfig"]


class ScriptRunConfig:
    """What to run in a single script run: a script (or command), its folder, arguments and configuration.

    The SDK v1 signature. ``compute_target``, ``environment``, ``max_run_duration_seconds`` and
    ``docker_runtime_config`` are stored on :attr:`run_config` (a new
    :class:`~headwater.sdk.environment.RunConfiguration` when none is given), as SDK v1 does, so
    setting ``src.run_config.environment = env`` later works too. ``distributed_job_config``
    and ``resume_from`` are not supported (NotSupportedError); ``_telemetry_values`` is ignored.
    """

    #: SDK v1's default limit on a run's duration: 30 days.
    MAX_DURATION_SECONDS_DEFAULT = 2592000
    #: SDK v1's separator of chained logging identities (``ScriptRunConfig#...``).
    DELIM = "#"

    @property
    def identity(self) -> str:
        """SDK v1's logging identity of the object: its class name."""
        return type(self).__name__

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        script: str | None = None,
        arguments: list[Any] | None = None,
        run_config: RunConfiguration | None = None,
        _telemetry_values: Any = None,
        compute_target: Any = None,
        environment: Environment | None = None,
        distributed_job_config: Any = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | None = MAX_DURATION_SECONDS_DEFAULT,
        command: str | list[Any] | None = None,
        docker_runtime_config: DockerConfiguration | None = None,
    ) -> None:
        if distributed_job_config is not None:
            raise NotSupportedError(
                "ScriptRunConfig(distributed_job_config=...): distributed (multi-node) jobs are not supported yet.",
                hint="Leave distributed_job_config out: the script runs as one process.",
            )
        if resume_from is not None:
            raise NotSupportedError(
                "ScriptRunConfig(resume_from=...) is not supported.",
                hint="Pass the checkpoint folder to the script as an input "
                "(Dataset.File.from_files(...).as_named_input('checkpoint').as_download()).",
            )
        if script is not None and command is not None:
            raise ConfigurationError(
                "ScriptRunConfig takes a script or a command, not both.",
                hint="Put the script in the command (command=['python', 'train.py', ...]) or leave command out.",
            )
        if run_config is not None and not isinstance(run_config, RunConfiguration):
            raise ConfigurationError(
                f"ScriptRunConfig's run_config must be a RunConfiguration, not {type(run_config).__name__}",
                key="run_config",
            )
        self.source_directory = None if source_directory is None else os.fspath(source_directory)
        self.script = script
        self.command = command
        self.arguments: list[Any] = list(arguments or [])
        self.run_config = run_config if run_config is not None else RunConfiguration()
        rc = self.run_config
        if script is not None:
            rc.script = script
        if command is not None:
            rc.command = command
        if arguments is not None:
            rc.arguments = list(arguments)
        if compute_target is not None:
            rc.target = compute_target
        if environment is not None:
            rc.environment = environment
        if docker_runtime_config is not None:
            rc.docker = docker_runtime_config
        if max_run_duration_seconds != self.MAX_DURATION_SECONDS_DEFAULT or rc.max_run_duration_seconds is None:
            rc.max_run_duration_seconds = max_run_duration_seconds

    def __repr__(self) -> str:
        rc = self.run_config
        what = f"script={rc.script!r}" if rc.script else f"command={rc.command!r}"
        return f"ScriptRunConfig(source_directory={self.source_directory!r}, {what})"

    # -- submitting ------------------------------------------------------------------------------

    def _step(self) -> PipelineStep:
        """The configuration as the one step of a script run's plan (never reused)."""
        from headwater.sdk.steps import CommandStep, PythonScriptStep

        rc = self.run_config
        source = self.source_directory if self.source_directory is not None else "."
        if rc.command:
            words = [rc.command] if isinstance(rc.command, str) else list(rc.command)
            if rc.arguments:
                words += list(rc.arguments)
            text = str(words[0]).split() + [str(w) for w in words[1:]]
            # The run's name: the command's first word, or the script a `python x.py ...` command runs.
            name = text[1] if len(text) > 1 and text[0] in ("python", "python3") else text[0] if text else "command"
            return CommandStep(command=words, name=name, source_directory=source, runconfig=rc, allow_reuse=False)
        if not rc.script:
            raise ConfigurationError(
                "ScriptRunConfig needs a script (or a command) to run.",
                hint="Pass script='train.py' (a file in source_directory), or command=[...].",
            )
        return PythonScriptStep(
            script_name=rc.script,
            name=rc.script,
            arguments=list(rc.arguments),
            source_directory=source,
            runconfig=rc,
            allow_reuse=False,
        )

    def _submit(
        self,
        workspace: Workspace,
        experiment_name: str,
        *,
        tags: dict[str, str] | None,
        parent_run_id: str | None = None,
    ) -> ScriptRun:
        """Record and start the script run; returns at once."""
        from headwater.ops.submit import SubmitOptions, submit_script
        from headwater.sdk.pipeline_build import build_spec
        from headwater.sdk.script_run import ScriptRun

        spec = build_spec(
            workspace, self._step(), default_datastore=None, default_source_directory=None, cwd=os.getcwd()
        ).spec
        problems = validate(spec)
        if spec.parameters:
            problems.append(
                f"A ScriptRunConfig cannot use pipeline parameters ({', '.join(sorted(spec.parameters))}): "
                "pass the values as arguments, or run the script as a PythonScriptStep in a Pipeline."
            )
        if problems:
            raise GraphValidationError(problems, what="script run")
        run_id = submit_script(
            workspace.metadata_store,
            workspace._ref(),
            spec,
            SubmitOptions(
                experiment_name=experiment_name,
                pipeline_parameters={},
                tags=tags,
                parent_run_id=parent_run_id,
                terminate_grace_seconds=float(os.environ.get("HEADWATER_TERMINATE_GRACE_SECONDS", "10") or 10),
            ),
        )
        return ScriptRun._get(workspace, run_id)
