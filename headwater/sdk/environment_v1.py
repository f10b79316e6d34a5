"""SDK v1 ``Environment`` members beyond describing packages: private wheels, local builds, Docker sources.

Attached to :class:`headwater.sdk.environment.Environment` (its ``add_private_pip_wheel``,
``build``, ``build_local``, ``from_docker_*``, ``from_existing_conda_environment``,
``get_image_details``, ``label``).

- **Private wheels** are copied into the workspace, content-addressed
  (``<workspace>/private-wheels/<sha256>/<file>``); the returned absolute path is the requirement
  line to add (SDK v1 returns a blob URL). A changed wheel gets a new path, so the environment's
  digest changes and no step is reused on the old wheel.
- **Builds** run Headwater's builder now (:func:`headwater.engine.environments.ensure_environment`,
  uv, into the workspace's ``environments/``), so the first step does not wait for it; they
  return an :class:`EnvironmentBuild` with SDK v1's ``wait_for_completion``.
- **Docker sources** (an image, a Dockerfile, a build context) are accepted and recorded on
  ``env.docker``, as every Docker setting is: Headwater has no container executor, and steps run
  on the Python the environment's packages resolve to (SDK v1 code keeps running; a package the
  image alone provided is then an ImportError in the step, which names it). Without a conda or
  pip file, SDK v1 makes such an environment user-managed: it runs on Headwater's own Python.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from headwater.errors import AlreadyExistsError, ConfigurationError, NotSupportedError

if TYPE_CHECKING:
    from headwater.sdk.environment import Environment
    from headwater.sdk.workspace import Workspace

__all__ = [
    "EnvironmentBuild",
    "add_private_pip_wheel",
    "build",
    "build_local",
    "from_docker_build_context",
    "from_docker_image",
    "from_dockerfile",
    "from_existing_conda_environment",
    "get_image_details",
    "label",
]


def add_private_pip_wheel(workspace: Workspace, file_path: str | os.PathLike[str], exist_ok: bool = False) -> str:
    """Keep a local wheel in the workspace; returns the path to add as a pip package.

    A wheel of the same file name and other content is an AlreadyExistsError unless
    ``exist_ok`` (then the stored one's path is returned, as SDK v1 returns the existing URL).
    """
    import hashlib

    from headwater.layout import PRIVATE_WHEELS_DIR

    source = Path(file_path)
    if not source.is_file():
        raise ConfigurationError(
            f"Environment.add_private_pip_wheel: no wheel file at {str(source)!r}",
            hint="Pass the path of a built wheel (python -m build --wheel writes one into dist/).",
        )
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    root = Path(workspace.folder) / PRIVATE_WHEELS_DIR
    target = root / digest / source.name
    if target.is_file():
        return str(target.absolute())
    existing = sorted(root.glob(f"*/{source.name}")) if root.is_dir() else []
    if existing:
        if exist_ok:
            return str(existing[0].absolute())
        raise AlreadyExistsError(
            "Private wheel",
            source.name,
            hint="Give the new build another version (a new file name), or pass exist_ok=True to use the stored one.",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{source.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return str(target.absolute())


@dataclass
class EnvironmentBuild:
    """A finished local build of an environment (SDK v1: the build's details, waited for)."""

    environment: str | None
    digest: str
    interpreter: str
    path: Path | None
    log: str = ""
    notices: list[str] = field(default_factory=list)
    status: str = "Succeeded"

    def wait_for_completion(self, show_output: bool = False) -> dict[str, Any]:
        """The build already ran: prints its log with ``show_output``; returns its details."""
        if show_output and self.log:
            print(self.log, end="" if self.log.endswith("\n") else "\n")
        return self.get_details()

    def get_details(self) -> dict[str, Any]:
        """``status``, the environment's ``digest``, the ``interpreter`` steps run on and its ``path``."""
        return {
            "status": self.status,
            "environment": self.environment,
            "digest": self.digest,
            "interpreter": self.interpreter,
            "path": None if self.path is None else str(self.path),
            "notices": list(self.notices),
        }


def build_local(
    self: Environment, workspace: Workspace, platform: str | None = None, **kwargs: Any
) -> EnvironmentBuild:
    """Build the environment now with Headwater's builder (``platform`` and Docker options are ignored)."""
    from headwater.engine.environments import ensure_environment
    from headwater.layout import WorkspaceLayout

    log = io.StringIO()
    built = ensure_environment(
        self.to_spec(), WorkspaceLayout(workspace.folder).environments, log=log, strict_python=workspace.strict_python
    )
    return EnvironmentBuild(self.name, built.digest, built.interpreter, built.path, log.getvalue(), built.notices)


def build(self: Environment, workspace: Workspace, image_build_compute: str | None = None) -> EnvironmentBuild:
    """SDK v1 builds an image in the cloud; Headwater builds the Python environment locally (see build_local)."""
    return build_local(self, workspace)


def _from_dependencies(
    name: str, conda_specification: str | os.PathLike[str] | None, pip_requirements: str | os.PathLike[str] | None
) -> Environment:
    from headwater.sdk.environment import Environment

    if conda_specification and pip_requirements:
        raise ConfigurationError(
            "Pass conda_specification or pip_requirements, not both",
            key="pip_requirements",
            hint="Put the pip packages under 'pip:' in the conda specification.",
        )
    if conda_specification:
        return Environment.from_conda_specification(name, conda_specification)
    if pip_requirements:
        return Environment.from_pip_requirements(name, pip_requirements)
    env = Environment(name)
    env.python.user_managed_dependencies = True
    return env


def from_docker_image(
    name: str,
    image: str,
    container_registry: Any = None,
    conda_specification: str | None = None,
    pip_requirements: str | None = None,
) -> Environment:
    """An environment on a Docker image: the image (and registry) recorded, the packages as given (module doc)."""
    env = _from_dependencies(name, conda_specification, pip_requirements)
    env.docker.base_dockerfile = None
    env.docker.build_context = None
    env.docker.base_image = image
    if container_registry:
        env.docker.base_image_registry = container_registry
    return env


def from_dockerfile(
    name: str, dockerfile: str, conda_specification: str | None = None, pip_requirements: str | None = None
) -> Environment:
    """An environment from a Dockerfile (its text or path, recorded), the packages as given (module doc)."""
    env = _from_dependencies(name, conda_specification, pip_requirements)
    env.docker.base_image = None
    env.docker.build_context = None
    env.docker.base_dockerfile = dockerfile
    return env


def from_docker_build_context(name: str, docker_build_context: Any) -> Environment:
    """An environment from a Docker build context (recorded); it runs on Headwater's Python (module doc)."""
    env = _from_dependencies(name, None, None)
    env.docker.base_image = None
    env.docker.build_context = docker_build_context
    return env


def from_existing_conda_environment(name: str, conda_environment_name: str) -> Environment | None:
    """The packages of a local conda environment (``conda env export --no-builds``), or None as in SDK v1.

    None (with a message, as SDK v1 prints) when conda is not installed or the export fails.
    """
    conda = shutil.which("conda")
    if conda is None:
        print("Conda is not installed here: cannot export the environment " + repr(conda_environment_name))
        return None
    command = [conda, "env", "export", "--no-builds", "--name", conda_environment_name]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        print(f"Exporting conda specifications failed with exit code: {done.returncode}", file=sys.stdout)
        return None
    import tempfile

    from headwater.sdk.environment import Environment

    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "environment.yml"
        spec.write_bytes(done.stdout)
        env = Environment.from_conda_specification(name, spec)
    conda_dependencies = env.python.conda_dependencies
    if conda_dependencies is not None:
        conda_dependencies._extra.pop("prefix", None)  # the exporting machine's path, no part of the spec
    return env


def get_image_details(self: Environment, workspace: Workspace) -> NoReturn:
    """Not supported: Headwater builds no Docker images."""
    raise NotSupportedError(
        "Environment.get_image_details is not supported: Headwater builds no Docker images.",
        hint="env.build_local(ws).get_details() says which interpreter and folder the environment was built into.",
    )


def label(workspace: Workspace, name: str, version: str, labels: list[str]) -> NoReturn:
    """Not supported: environment labels."""
    raise NotSupportedError(
        "Environment.label is not supported: registered environments have versions, not labels.",
        hint="Refer to a version with Environment.get(ws, name, version='2'), or leave version out for the latest.",
    )
