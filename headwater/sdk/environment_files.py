"""An Environment as files: ``save_to_directory`` / ``load_from_directory`` (SDK v1's layout).

SDK v1 writes a folder holding::

    azureml_environment.json   the definition, camelCase keys (python.condaDependencies: null)
    conda_dependencies.yml     python.conda_dependencies, when there is one
    BaseDockerfile             docker.base_dockerfile, when there is one (docker.baseDockerfile: null)

Headwater writes the same files and reads them back, and reads SDK v1's own: keys Headwater does
not model (``spark``, ``r``, ``databricks``, ``docker.baseImageRegistry``, ...) are ignored on
reading. :func:`environment_to_dict` / :func:`environment_from_dict` are also the ``environment``
section of a ``.runconfig`` file (:mod:`headwater.sdk.runconfig`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from headwater.errors import AlreadyExistsError, ConfigurationError, NotFoundError
from headwater.sdk.conda_dependencies import CondaDependencies
from headwater.sdk.environment import Environment

__all__ = [
    "BASE_DOCKERFILE_FILE",
    "CONDA_FILE",
    "DEFINITION_FILE",
    "environment_from_dict",
    "environment_to_dict",
    "load_environment",
    "save_environment",
]

DEFINITION_FILE = "azureml_environment.json"
CONDA_FILE = "conda_dependencies.yml"
BASE_DOCKERFILE_FILE = "BaseDockerfile"


def environment_to_dict(env: Environment, *, conda: bool = True) -> dict[str, Any]:
    """``env`` as SDK v1's camelCase dict; ``conda=False`` leaves ``python.condaDependencies`` out."""
    cd = env.python.conda_dependencies
    python: dict[str, Any] = {
        "interpreterPath": env.python.interpreter_path,
        "userManagedDependencies": bool(env.python.user_managed_dependencies),
        "baseCondaEnvironment": env.python.base_conda_environment,
    }
    if conda:
        python["condaDependencies"] = cd._structure() if cd is not None else None
    return {
        "name": env.name,
        "version": env.version,
        "environmentVariables": dict(env.environment_variables or {}),
        "python": python,
        "docker": {
            "enabled": bool(env.docker.enabled),
            "baseImage": env.docker.base_image,
            "baseDockerfile": env.docker.base_dockerfile,
            "shmSize": env.docker.shm_size,
        },
        "inferencingStackVersion": env.inferencing_stack_version,
    }


def environment_from_dict(data: dict[str, Any], *, where: str | None = None) -> Environment:
    """The Environment a camelCase dict describes; ``python.condaDependencies`` as a structure or null."""
    if not isinstance(data, dict):
        raise ConfigurationError("An environment definition must be a JSON object", path=where)
    env = Environment(data.get("name"))
    version = data.get("version")
    env.version = None if version is None else str(version)
    env.environment_variables = {str(k): str(v) for k, v in (data.get("environmentVariables") or {}).items()}
    env.inferencing_stack_version = data.get("inferencingStackVersion")
    python = data.get("python") or {}
    env.python.interpreter_path = str(python.get("interpreterPath") or "python")
    env.python.user_managed_dependencies = bool(python.get("userManagedDependencies", False))
    env.python.base_conda_environment = python.get("baseCondaEnvironment")
    if isinstance(python.get("condaDependencies"), dict):
        env.python.conda_dependencies = CondaDependencies(_underlying_structure=python["condaDependencies"])
    elif "condaDependencies" in python:
        env.python.conda_dependencies = None
    docker = data.get("docker") or {}
    env.docker.enabled = bool(docker.get("enabled", False))
    env.docker.base_image = docker.get("baseImage", env.docker.base_image)
    env.docker.base_dockerfile = docker.get("baseDockerfile")
    env.docker.shm_size = docker.get("shmSize")
    return env


def save_environment(env: Environment, path: Path, *, overwrite: bool = False) -> None:
    """Write ``env`` into the folder ``path`` (see the module doc); an existing folder needs ``overwrite``."""
    if path.exists() and not overwrite:
        raise AlreadyExistsError(
            "Directory", str(path), hint="Pass overwrite=True to write over it, or choose another path."
        )
    if path.exists() and not path.is_dir():
        raise ConfigurationError("save_to_directory() needs a folder, not a file", path=str(path))
    path.mkdir(parents=True, exist_ok=True)
    data = environment_to_dict(env)
    cd = env.python.conda_dependencies
    if cd is not None:
        cd.save(path / CONDA_FILE)
        data["python"]["condaDependencies"] = None
    elif (path / CONDA_FILE).exists():  # overwrite: a stale file would be read back
        (path / CONDA_FILE).unlink()
    if env.docker.base_dockerfile:
        (path / BASE_DOCKERFILE_FILE).write_text(str(env.docker.base_dockerfile), encoding="utf-8")
        data["docker"]["baseDockerfile"] = None
    elif (path / BASE_DOCKERFILE_FILE).exists():
        (path / BASE_DOCKERFILE_FILE).unlink()
    target = path / DEFINITION_FILE
    tmp = path / f".{DEFINITION_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")
    os.replace(tmp, target)


def load_environment(path: Path) -> Environment:
    """The Environment saved in the folder ``path`` (by Headwater or by SDK v1)."""
    file = path / DEFINITION_FILE
    if not file.is_file():
        raise NotFoundError(
            "Environment definition",
            DEFINITION_FILE,
            where=str(path),
            hint="Point at a folder written by Environment.save_to_directory().",
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"Cannot read the environment definition: {exc}", path=str(file)) from exc
    env = environment_from_dict(data, where=str(file))
    if (path / CONDA_FILE).is_file():
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=path / CONDA_FILE)
    if (path / BASE_DOCKERFILE_FILE).is_file():
        env.docker.base_dockerfile = (path / BASE_DOCKERFILE_FILE).read_text(encoding="utf-8")
    return env
