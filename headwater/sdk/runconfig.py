"""Run configuration files: what ``RunConfiguration.save`` writes and ``RunConfiguration.load`` reads.

SDK v1's format: YAML at ``<project>/.azureml/<name>.runconfig`` with camelCase keys. Headwater
writes the keys below and reads them back (unknown keys, e.g. SDK v1's ``spark`` or ``hdi``
sections, are ignored)::

    script: train.py
    arguments: [--lr, '0.1']
    target: local
    framework: Python
    communicator: None
    nodeCount: 1
    maxRunDurationSeconds: null
    environmentVariables: {}
    command: null
    docker: {useDocker: false, sharedVolumes: true, arguments: [], shmSize: 2g}
    amlcompute: {vmSize: STANDARD_NC6, vmPriority: null, retainCluster: false, name: null, clusterMaxNodeCount: 1}
    environment:
      name: train-env
      version: null
      environmentVariables: {}
      python:
        interpreterPath: python
        userManagedDependencies: false
        condaDependencies: {name: ..., dependencies: [..., {pip: [...]}], channels: [...]}
      docker: {enabled: false, baseImage: ..., baseDockerfile: null, shmSize: null}
      inferencingStackVersion: null

With ``separate_environment_yaml=True`` the conda specification goes to
``<name>_conda_dependencies.yml`` beside the file and ``python.condaDependenciesFile`` names it
(relative paths are looked up beside the file, then in the project folder).

``amlcompute`` is SDK v1's :class:`AmlComputeConfiguration`: the step's own cluster settings.
Headwater uses its ``vm_size`` as the step's resource request, ahead of its compute target's
(``docs/compute.md``); the other settings are kept and written back, not used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError, NotFoundError, NotSupportedError
from headwater.sdk.conda_dependencies import CondaDependencies
from headwater.sdk.environment import DockerConfiguration, Environment, RunConfiguration
from headwater.sdk.environment_files import environment_from_dict, environment_to_dict

__all__ = [
    "UnsupportedSection",
    "RUNCONFIG_SUFFIX",
    "AmlComputeConfiguration",
    "amlcompute_of",
    "delete_run_configuration",
    "load_run_configuration",
    "save_run_configuration",
    "step_vm_size",
]

RUNCONFIG_SUFFIX = ".runconfig"
_FOLDERS = (".azureml", "aml_config", ".")


class UnsupportedSection:
    """A ``RunConfiguration`` section SDK v1 has and Headwater does not run (``spark``, ``hdi``).

    It is there, so code that merely passes a RunConfiguration around works; reading or setting
    one of its settings raises NotSupportedError saying what to do instead. Assigning another
    object to ``run_config.spark`` is accepted and ignored, as the section is never used.
    """

    def __init__(self, section: str, advice: str) -> None:
        object.__setattr__(self, "_section", section)
        object.__setattr__(self, "_advice", advice)

    def _error(self, setting: str) -> NotSupportedError:
        return NotSupportedError(
            f"RunConfiguration.{self._section}.{setting} is not supported by Headwater.", hint=self._advice
        )

    def __getattr__(self, setting: str) -> Any:
        if setting.startswith("_"):
            raise AttributeError(setting)
        raise self._error(setting)

    def __setattr__(self, setting: str, value: Any) -> None:
        raise self._error(setting)

    def __repr__(self) -> str:
        return f"<RunConfiguration.{self._section}: not supported by Headwater>"


SPARK_ADVICE = "Spark jobs are not supported: use pandas/pyarrow in a PythonScriptStep."
HDI_ADVICE = "HDInsight is an Azure service: run the job in a PythonScriptStep or a CommandStep."


class AmlComputeConfiguration:
    """``RunConfiguration.amlcompute`` (SDK v1: ``azureml.core.runconfig.AmlComputeConfiguration``).

    ``vm_size`` is the step's own resource request (``STANDARD_NC6``: 6 CPUs and a GPU), used
    ahead of its compute target's ``vm_size``, lowered to what the target's node has with a
    warning (see ``docs/compute.md``); the other settings are recorded, not used.
    """

    def __init__(
        self,
        vm_size: str | None = None,
        vm_priority: str | None = None,
        retain_cluster: bool = False,
        name: str | None = None,
        cluster_max_node_count: int = 1,
    ) -> None:
        self.vm_size = vm_size
        self.vm_priority = vm_priority
        self.retain_cluster = retain_cluster
        self.name = name
        self.cluster_max_node_count = cluster_max_node_count

    # SDK v1 spells these two with a leading underscore
    @property
    def _retain_cluster(self) -> bool:
        return self.retain_cluster

    @property
    def _cluster_max_node_count(self) -> int:
        return self.cluster_max_node_count

    def to_dict(self) -> dict[str, Any]:
        """The ``amlcompute`` section of a ``.runconfig`` file (SDK v1's camelCase keys)."""
        return {
            "vmSize": self.vm_size,
            "vmPriority": self.vm_priority,
            "retainCluster": self.retain_cluster,
            "name": self.name,
            "clusterMaxNodeCount": self.cluster_max_node_count,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> AmlComputeConfiguration:
        """The configuration :meth:`to_dict` (or SDK v1) wrote; missing keys take the defaults."""
        count = data.get("clusterMaxNodeCount")
        return AmlComputeConfiguration(
            vm_size=data.get("vmSize") or None,
            vm_priority=data.get("vmPriority") or None,
            retain_cluster=bool(data.get("retainCluster", False)),
            name=data.get("name") or None,
            cluster_max_node_count=1 if count is None else int(count),
        )

    def __repr__(self) -> str:
        return f"AmlComputeConfiguration(vm_size={self.vm_size!r}, vm_priority={self.vm_priority!r})"


def amlcompute_of(rc: Any) -> AmlComputeConfiguration:
    """``rc.amlcompute`` (a fresh, empty configuration when ``rc`` has none)."""
    found = getattr(rc, "amlcompute", None)
    return found if isinstance(found, AmlComputeConfiguration) else AmlComputeConfiguration()


def step_vm_size(rc: Any) -> str | None:
    """The step's own ``vm_size`` from its run configuration (``rc.amlcompute.vm_size``), None when unset."""
    size = amlcompute_of(rc).vm_size
    return str(size).strip() or None if size else None


def _plain(value: Any) -> Any:
    """Arguments as YAML-safe values (pipeline objects become their text)."""
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _target_file(rc: RunConfiguration, path: str | os.PathLike[str] | None, name: str | None) -> Path:
    if path is not None and (str(path).endswith(RUNCONFIG_SUFFIX) or Path(path).is_file()):
        return Path(path)
    name = name or rc._name
    if not name:
        raise ConfigurationError(
            "RunConfiguration.save() needs a name", hint="Pass name='train', or a path ending in '.runconfig'."
        )
    base = Path(path) if path is not None else Path(rc._path) if rc._path is not None else Path.cwd()
    return base / ".azureml" / (name if name.endswith(RUNCONFIG_SUFFIX) else name + RUNCONFIG_SUFFIX)


def save_run_configuration(
    rc: RunConfiguration,
    path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    separate_environment_yaml: bool = False,
) -> Path:
    """Write ``rc`` as a ``.runconfig`` file; returns where."""
    import yaml

    target = _target_file(rc, path, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    env = rc.environment
    cd = env.python.conda_dependencies
    separate = cd is not None and separate_environment_yaml
    environment = environment_to_dict(env, conda=not separate)
    if cd is not None and separate:
        conda_file = target.with_name(target.name[: -len(RUNCONFIG_SUFFIX)] + "_conda_dependencies.yml")
        cd.save(conda_file)
        environment["python"]["condaDependenciesFile"] = conda_file.name
    data = {
        "script": rc.script,
        "arguments": [_plain(a) for a in rc.arguments],
        "target": rc.target,
        "framework": rc.framework,
        "communicator": rc.communicator,
        "nodeCount": rc.node_count,
        "maxRunDurationSeconds": rc.max_run_duration_seconds,
        "environmentVariables": dict(rc.environment_variables),
        "command": rc.command,
        "docker": {
            "useDocker": rc.docker.use_docker,
            "sharedVolumes": rc.docker.shared_volumes,
            "arguments": list(rc.docker.arguments),
            "shmSize": rc.docker.shm_size,
        },
        "amlcompute": amlcompute_of(rc).to_dict(),
        "environment": environment,
    }
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), encoding="utf-8")
    os.replace(tmp, target)
    return target


def _find_file(path: str | os.PathLike[str], name: str | None) -> Path:
    given = Path(path)
    if given.is_file():
        return given
    if not name:
        raise ConfigurationError(
            f"RunConfiguration.load() needs a name to look in {given}",
            hint="Pass name='train', or the path of a '.runconfig' file.",
        )
    for folder in _FOLDERS:
        for candidate in (name, name + RUNCONFIG_SUFFIX):
            file = given / folder / candidate
            if file.is_file():
                return file
    known = sorted(p.name[: -len(RUNCONFIG_SUFFIX)] for f in _FOLDERS for p in (given / f).glob("*" + RUNCONFIG_SUFFIX))
    raise NotFoundError("Run configuration", name, where=str(given), candidates=known)


def delete_run_configuration(path: str | os.PathLike[str], name: str) -> None:
    """Remove the file :func:`load_run_configuration` would read for ``(path, name)``."""
    _find_file(path, name).unlink()


def load_run_configuration(path: str | os.PathLike[str], name: str | None = None) -> RunConfiguration:
    """Read a ``.runconfig`` file (see the module docstring for where it is looked for)."""
    import yaml

    file = _find_file(path, name)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read the run configuration: {exc}", path=str(file)) from exc
    if not isinstance(data, dict):
        raise ConfigurationError("A run configuration must be a mapping", path=str(file))
    rc = RunConfiguration(
        script=data.get("script"),
        arguments=list(data.get("arguments") or []),
        framework=data.get("framework"),
        communicator=data.get("communicator"),
        command=data.get("command"),
        _path=str(file.parent.parent) if file.parent.name in (".azureml", "aml_config") else str(file.parent),
        _name=file.name[: -len(RUNCONFIG_SUFFIX)] if file.name.endswith(RUNCONFIG_SUFFIX) else file.name,
    )
    rc.target = data.get("target") or "local"
    rc.node_count = int(data.get("nodeCount") or 1)
    rc.max_run_duration_seconds = data.get("maxRunDurationSeconds")
    rc.environment_variables = {str(k): str(v) for k, v in (data.get("environmentVariables") or {}).items()}
    docker = data.get("docker") or {}
    rc.docker = DockerConfiguration(
        use_docker=bool(docker.get("useDocker", False)),
        shared_volumes=bool(docker.get("sharedVolumes", True)),
        arguments=list(docker.get("arguments") or []),
        shm_size=docker.get("shmSize", "2g"),
    )
    rc.environment = _environment(data.get("environment") or {}, file)
    rc.amlcompute = AmlComputeConfiguration.from_dict(data.get("amlcompute") or {})
    return rc


def _environment(data: dict[str, Any], file: Path) -> Environment:
    env = environment_from_dict(data, where=str(file))
    python = data.get("python") or {}
    if python.get("condaDependenciesFile"):
        rel = Path(str(python["condaDependenciesFile"]))
        candidates = [rel] if rel.is_absolute() else [file.parent / rel, file.parent.parent / rel]
        found = next((c for c in candidates if c.is_file()), candidates[0])
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=found)
    return env
