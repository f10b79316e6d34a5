"""``Environment`` and ``RunConfiguration`` (SDK v1: ``azureml.core.Environment``, ``azureml.core.runconfig``).

An environment is metadata: which Python packages a step needs (``python.conda_dependencies``),
whether Headwater manages them (``python.user_managed_dependencies``) and which interpreter to
use otherwise (``python.interpreter_path``), plus environment variables. Docker settings are
accepted and recorded, not used. :meth:`Environment.to_spec` turns it into the plain dict the
planner works on (:mod:`headwater.plan.environments`: digest, "does this Python satisfy it").

Registered environments are versioned in the metadata store ("1", "2", ... as SDK v1's strings);
a new version only when the definition changed. :meth:`Environment.get` also knows the curated
``AzureML-*`` names (:mod:`headwater.sdk.curated_environments`); ``AzureML-`` and ``Microsoft``
prefixes are reserved.
"""

from __future__ import annotations

import builtins
import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError, NotFoundError, NotSupportedError
from headwater.plan.environments import environment_digest, normalize_spec
from headwater.sdk import environment_v1 as _v1
from headwater.sdk.conda_dependencies import DEFAULT_CHANNELS, CondaDependencies, read_requirements
from headwater.sdk.curated_environments import CURATED_ENVIRONMENTS, CuratedEnvironment

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.records import EnvironmentRecord

__all__ = [
    "DEFAULT_CPU_IMAGE",
    "DockerConfiguration",
    "DockerSection",
    "Environment",
    "PythonSection",
    "RESERVED_PREFIXES",
    "RunConfiguration",
]

#: SDK v1's default base image (recorded on ``Environment.docker.base_image``, not used).
DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:20230509.v1"
#: Environment names nobody may register (SDK v1: kept for curated environments).
RESERVED_PREFIXES = ("AzureML-", "Microsoft")


class PythonSection:
    """``Environment.python``: packages, who manages them, and the interpreter."""

    def __init__(self, **kwargs: Any) -> None:
        #: With ``user_managed_dependencies=True``: the Python to run (``'python'``: the one running Headwater).
        self.interpreter_path: str = "python"
        #: True: use ``interpreter_path`` as it is; nothing is checked or installed.
        self.user_managed_dependencies: bool = False
        self.conda_dependencies: CondaDependencies | None = CondaDependencies()
        self.base_conda_environment: str | None = None
        #: SDK v1's path of a conda file in the source directory; recorded (set conda_dependencies instead).
        self.conda_dependencies_file: str | None = None
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return (
            f"PythonSection(interpreter_path={self.interpreter_path!r}, "
            f"user_managed_dependencies={self.user_managed_dependencies!r}, "
            f"conda_dependencies={self.conda_dependencies!r})"
        )


class DockerSection:
    """``Environment.docker``: recorded in the spec, not used (Headwater runs no containers yet)."""

    def __init__(self, **kwargs: Any) -> None:
        self.enabled: bool = False
        self.base_image: str | None = DEFAULT_CPU_IMAGE
        self.base_dockerfile: str | None = None
        self.shm_size: str | None = None
        #: SDK v1's Docker build context, run arguments, registry and (deprecated) GPU switch; recorded.
        self.build_context: Any = None
        self.arguments: builtins.list[str] = []
        self.shared_volumes: bool = True
        self.gpu_support: bool = False
        self.base_image_registry: Any = None
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"DockerSection(enabled={self.enabled!r}, base_image={self.base_image!r})"


class Environment:
    """A named, versionable description of what a step's Python needs (SDK v1: ``Environment``)."""

    def __init__(self, name: str | None, **kwargs: Any) -> None:
        """``name`` names it for registration; SDK v1's private keyword arguments are ignored."""
        self.name = name
        #: ``None`` until registered; then SDK v1's version string (``'1'``, ``'2'``, ...).
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None

    # -- spec ----------------------------------------------------------------------------------

    def to_spec(self) -> dict[str, Any]:
        """The plain JSON dict the planner works on (see :mod:`headwater.plan.environments`)."""
        cd = self.python.conda_dependencies
        parts = cd._spec_parts() if cd is not None else {}
        docker = self.docker
        return normalize_spec(
            {
                "name": self.name,
                "version": None if self.version is None else str(self.version),
                **parts,
                "user_managed_dependencies": bool(self.python.user_managed_dependencies),
                "interpreter_path": str(self.python.interpreter_path or "python"),
                "environment_variables": dict(self.environment_variables or {}),
                "docker": {
                    "enabled": bool(docker.enabled),
                    "base_image": docker.base_image,
                    "base_dockerfile": docker.base_dockerfile,
                    "shm_size": docker.shm_size,
                    **_docker_extras(docker),
                },
                "inferencing_stack_version": self.inferencing_stack_version,
            }
        )

    @staticmethod
    def from_spec(spec: dict[str, Any]) -> Environment:
        """The Environment a :meth:`to_spec` dict describes (its packages exactly, no defaults added)."""
        full = normalize_spec(spec)
        env = Environment(full["name"])
        env.version = None if full["version"] is None else str(full["version"])
        env.python.conda_dependencies = CondaDependencies._from_spec_parts(full)
        env.python.user_managed_dependencies = bool(full["user_managed_dependencies"])
        env.python.interpreter_path = str(full["interpreter_path"])
        env.environment_variables = dict(full["environment_variables"])
        for key, value in full["docker"].items():
            setattr(env.docker, key, value)
        env.inferencing_stack_version = full["inferencing_stack_version"]
        return env

    @staticmethod
    def _from_record(record: EnvironmentRecord) -> Environment:
        return Environment.from_spec({**record.definition, "name": record.name, "version": str(record.version)})

    @staticmethod
    def _from_curated(curated: CuratedEnvironment) -> Environment:
        env = Environment(curated.name)
        env.version = curated.version
        env.python.conda_dependencies = CondaDependencies(
            _underlying_structure={
                "name": curated.name,
                "dependencies": [{"pip": list(curated.pip_packages)}],
                "channels": list(DEFAULT_CHANNELS),
            }
        )
        return env

    # -- construction from files ---------------------------------------------------------------

    from_docker_image = staticmethod(_v1.from_docker_image)
    from_dockerfile = staticmethod(_v1.from_dockerfile)
    from_docker_build_context = staticmethod(_v1.from_docker_build_context)
    from_existing_conda_environment = staticmethod(_v1.from_existing_conda_environment)
    add_private_pip_wheel = staticmethod(_v1.add_private_pip_wheel)
    label = staticmethod(_v1.label)
    build = _v1.build
    build_local = _v1.build_local
    get_image_details = _v1.get_image_details

    @staticmethod
    def from_pip_requirements(
        name: str, file_path: str | os.PathLike[str], pip_version: str | None = None
    ) -> Environment:
        """An environment with exactly the requirements of a pip requirements file.

        Comments, line continuations and ``-r other.txt`` are understood; option lines
        (``--index-url``, ``--extra-index-url``, ``-e ...``) become pip options. ``pip_version``
        pins pip (recorded; pip itself is never checked).
        """
        packages, options = read_requirements(Path(file_path))
        cd = CondaDependencies(_underlying_structure={"name": name, "channels": list(DEFAULT_CHANNELS)})
        for option in options:
            cd.set_pip_option(option)
        for package in packages:
            cd.add_pip_package(package)
        if pip_version:
            cd.add_conda_package(f"pip={pip_version}")
        env = Environment(name)
        env.python.conda_dependencies = cd
        return env

    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """An environment from a conda environment YAML file (channels, conda packages, ``pip:``)."""
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=file_path)
        return env

    # -- the workspace -------------------------------------------------------------------------

    @staticmethod
    def get(workspace: Workspace, name: str, version: str | None = None, label: str | None = None) -> Environment:
        """A registered environment (latest version unless ``version``), or a curated one.

        Unknown names raise NotFoundError suggesting close names, curated ones included.
        """
        if label is not None:
            raise NotSupportedError(
                f"Environment labels are not supported (label={label!r}).",
                hint="Pass version= instead, or leave both out for the latest version.",
            )
        number = _version_number(version)
        record = workspace.metadata_store.get_environment(name, number) if number != -1 else None
        if record is not None:
            return Environment._from_record(record)
        curated = CURATED_ENVIRONMENTS.get(name)
        if curated is not None and (version is None or str(version) == curated.version):
            return Environment._from_curated(curated)
        registered = [r.name for r in workspace.metadata_store.list_environments()]
        if version is not None and (name in registered or curated is not None):
            latest = workspace.metadata_store.get_environment(name)
            latest_version = curated.version if curated is not None else str(latest.version if latest else "")
            raise NotFoundError(
                "Environment version",
                f"{name}:{version}",
                where=f"workspace {workspace.name!r}",
                hint=f"The latest version is {latest_version!r}; leave version out to get it.",
            )
        raise NotFoundError(
            "Environment",
            name,
            where=f"workspace {workspace.name!r}",
            candidates=[*registered, *CURATED_ENVIRONMENTS],
            hint="Register it first with env.register(ws), or use a curated one such as 'AzureML-Minimal'.",
        )

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """Every environment ``get`` finds by name: the curated ones and the registered ones (latest versions)."""
        found = {name: Environment._from_curated(c) for name, c in CURATED_ENVIRONMENTS.items()}
        found.update({r.name: Environment._from_record(r) for r in workspace.metadata_store.list_environments()})
        return dict(sorted(found.items()))

    def register(self, workspace: Workspace) -> Environment:
        """Register this definition under its name; returns the registered Environment.

        The first registration is version ``'1'``; registering a changed definition adds the next
        version, an unchanged one returns the existing version. Names starting with ``AzureML-``
        or ``Microsoft`` are reserved.
        """
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("An environment needs a name to be registered", key="name")
        if self.name.startswith(RESERVED_PREFIXES):
            raise ConfigurationError(
                f"Environment names starting with 'AzureML-' or 'Microsoft' are reserved: {self.name!r}",
                key="name",
                hint="Register it under another name, e.g. env.clone('my-env').register(ws).",
            )
        spec = self.to_spec()
        definition = {k: v for k, v in spec.items() if k not in ("name", "version")}
        record = workspace.metadata_store.register_environment(self.name, definition, environment_digest(spec))
        return Environment._from_record(record)

    # -- folders (SDK v1: azureml_environment.json + conda_dependencies.yml) ----------------------

    def save_to_directory(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        """Write this definition into the folder ``path`` as SDK v1 does.

        ``azureml_environment.json`` holds the definition, ``conda_dependencies.yml`` the packages
        (and ``BaseDockerfile`` a docker file, when set). An existing folder raises
        AlreadyExistsError unless ``overwrite``. :meth:`load_from_directory` reads it back.
        """
        from headwater.sdk.environment_files import save_environment

        save_environment(self, Path(path), overwrite=overwrite)

    @staticmethod
    def load_from_directory(path: str | os.PathLike[str]) -> Environment:
        """The Environment :meth:`save_to_directory` (Headwater's or SDK v1's) wrote into ``path``."""
        from headwater.sdk.environment_files import load_environment

        return load_environment(Path(path))

    def clone(self, new_name: str) -> Environment:
        """A deep copy under ``new_name``, not registered (version ``None``)."""
        twin = copy.deepcopy(self)
        twin.name = new_name
        twin.version = None
        return twin

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r})"


def _docker_extras(docker: DockerSection) -> dict[str, Any]:
    """Docker settings beyond the basic four, only where set (so older specs keep their bytes)."""
    extras: dict[str, Any] = {}
    if docker.build_context is not None:
        extras["build_context"] = str(getattr(docker.build_context, "location", docker.build_context))
    if docker.arguments:
        extras["arguments"] = [str(a) for a in docker.arguments]
    if docker.shared_volumes is not True:
        extras["shared_volumes"] = bool(docker.shared_volumes)
    if docker.gpu_support:
        extras["gpu_support"] = True
    registry = docker.base_image_registry
    address = registry if isinstance(registry, str) else getattr(registry, "address", None)
    if address:
        extras["base_image_registry"] = str(address)  # never the credentials: no secret in specs
    return extras


def _version_number(version: str | int | None) -> int | None:
    """SDK v1's version string as the store's number; ``-1`` for text that is no version."""
    if version is None:
        return None
    try:
        return int(str(version))
    except ValueError:
        return -1


class DockerConfiguration:
    """``RunConfiguration.docker`` (SDK v1: ``azureml.core.runconfig.DockerConfiguration``): recorded, not used."""

    def __init__(
        self,
        use_docker: bool = False,
        shared_volumes: bool = True,
        arguments: builtins.list[str] | None = [],  # noqa: B006  (SDK v1's default; copied, never mutated)
        shm_size: str | None = "2g",
    ) -> None:
        self.use_docker = use_docker
        self.shared_volumes = shared_volumes
        self.arguments: builtins.list[str] = builtins.list(arguments or [])
        self.shm_size = shm_size

    def __repr__(self) -> str:
        return f"DockerConfiguration(use_docker={self.use_docker!r}, shm_size={self.shm_size!r})"


class RunConfiguration:
    """How a step runs (SDK v1: ``RunConfiguration``): its environment, target, variables.

    ``environment`` is always an :class:`Environment` (``conda_dependencies=`` sets its
    ``python.conda_dependencies``); ``target`` is a compute target name (``'local'`` by default;
    a ComputeTarget or ``(name, type)`` tuple is stored by name); ``environment_variables`` are
    merged over the environment's own when the step runs. :meth:`save` and :meth:`load` use
    SDK v1's ``.azureml/<name>.runconfig`` YAML files (:mod:`headwater.sdk.runconfig`).
    """

    def __init__(
        self,
        script: str | None = None,
        arguments: builtins.list[Any] | None = None,
        framework: str | None = None,
        communicator: str | None = None,
        conda_dependencies: CondaDependencies | None = None,
        _history_enabled: bool | None = None,
        _path: str | os.PathLike[str] | None = None,
        _name: str | None = None,
        command: str | builtins.list[str] | None = None,
    ) -> None:
        self.script = script
        self.arguments: builtins.list[Any] = builtins.list(arguments or [])
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.command = command
        self._target = "local"
        self._environment = Environment(None)
        if conda_dependencies is not None:
            self._environment.python.conda_dependencies = conda_dependencies
        self.docker = DockerConfiguration()
        self.node_count = 1
        self.max_run_duration_seconds: int | None = None
        self.environment_variables: dict[str, str] = {}
        from headwater.sdk.runconfig import HDI_ADVICE, SPARK_ADVICE, AmlComputeConfiguration, UnsupportedSection

        self.amlcompute = AmlComputeConfiguration()  # (runconfig imports this module)
        self.spark: Any = UnsupportedSection("spark", SPARK_ADVICE)
        self.hdi: Any = UnsupportedSection("hdi", HDI_ADVICE)
        self.history_enabled = True if _history_enabled is None else _history_enabled
        #: Deprecated in SDK v1 and without effect there too; kept so code that sets it runs.
        self.auto_prepare_environment = True
        self._path = _path
        self._name = _name

    @property
    def target(self) -> str:
        """The compute target's name (``'local'`` unless set)."""
        return self._target

    @target.setter
    def target(self, value: Any) -> None:
        if isinstance(value, tuple) and value:
            value = value[0]
        name = value if isinstance(value, str) else getattr(value, "name", None)
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"RunConfiguration.target must be a compute target or its name, not {value!r}", key="target"
            )
        self._target = name

    @property
    def environment(self) -> Environment:
        """The step's environment (always an Environment)."""
        return self._environment

    @environment.setter
    def environment(self, value: Environment) -> None:
        if not isinstance(value, Environment):
            raise ConfigurationError(
                f"RunConfiguration.environment must be an Environment, not {type(value).__name__}",
                key="environment",
                hint="Use Environment.get(ws, name) or Environment(name).",
            )
        self._environment = value

    def save(
        self,
        path: str | os.PathLike[str] | None = None,
        name: str | None = None,
        separate_environment_yaml: bool = False,
    ) -> None:
        """Write ``<path>/.azureml/<name>.runconfig`` (or to ``path`` when it names a ``.runconfig`` file)."""
        from headwater.sdk.runconfig import save_run_configuration

        save_run_configuration(self, path, name, separate_environment_yaml)

    @staticmethod
    def load(path: str | os.PathLike[str], name: str | None = None) -> RunConfiguration:
        """Read a ``.runconfig`` file: ``path`` itself, or ``<path>/.azureml/<name>.runconfig``
        (then ``aml_config/`` and ``path`` itself, as SDK v1 looks)."""
        from headwater.sdk.runconfig import load_run_configuration

        return load_run_configuration(path, name)

    @staticmethod
    def delete(path: str | os.PathLike[str], name: str) -> None:
        """Delete the ``.runconfig`` file :meth:`load` would read (NotFoundError, naming the ones there, if none)."""
        from headwater.sdk.runconfig import delete_run_configuration

        delete_run_configuration(path, name)

    def __repr__(self) -> str:
        return f"RunConfiguration(target={self._target!r}, environment={self._environment!r})"
