"""``CondaDependencies``: an environment's packages (SDK v1: ``azureml.core.conda_dependencies``).

It holds what a conda environment file holds: a name, channels, conda packages (``python=3.11``
among them) and a ``pip:`` list of requirement lines and pip options. It reads and writes that
YAML format; PyYAML is imported only when a file is read or written.

Differences from SDK v1, all deliberate:

- Python is not pinned unless you ask (``python_version=``, :meth:`set_python_version`): an
  unpinned environment runs on the Python that runs Headwater. ``create()``'s ``python_version``
  shows SDK v1's default (``'3.10.18'``) in its signature, but that default is a marker that
  leaves Python unpinned, so environments (and their digests, hence reuse) are what they were;
  pass the version explicitly to pin it.
- The default channel is ``conda-forge`` only.
- ``pin_sdk_version`` is accepted and changes nothing: Headwater provides every ``azureml-*``
  package itself, so there is no SDK version to pin.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError

__all__ = ["CondaDependencies"]

DEFAULT_NAME = "project_environment"
DEFAULT_CHANNELS = ("conda-forge",)
#: What a bare ``CondaDependencies()`` lists, as in SDK v1.
DEFAULT_PIP_PACKAGES = ("azureml-defaults",)
_SINGLE_VALUED_OPTIONS = ("--index-url", "-i")
#: SDK v1 1.61's ``PYTHON_DEFAULT_VERSION``, and the versions its ``add_*_package`` helpers pin.
SDK_PYTHON_DEFAULT = "3.10.18"
_CNTK_VERSION = "2.7"
_TENSORFLOW_VERSION = "2.2.0"
_CORE_TYPES = ("cpu", "gpu")
_HEADER = "# Conda environment specification, written by Headwater (SDK v1: CondaDependencies).\n"


def _pip_key(line: str) -> str:
    """The distribution a pip line is about (canonical name), or the whole line for bare URLs."""
    text = line.strip()
    if "://" in text and " @ " not in text and "@" not in text.split("://", 1)[0]:
        return text
    match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else text


def _conda_key(package: str) -> str:
    text = package.strip().split("::", 1)[-1]
    match = re.match(r"([A-Za-z0-9_.\-]+)", text)
    return (match.group(1) if match else text).lower()


def _option_flag(option: str) -> str:
    return re.split(r"[\s=]", option.strip(), maxsplit=1)[0]


class _UnpinnedPython(str):
    """``create()``'s default ``python_version``: reads as SDK v1's ``'3.10.18'``, means "leave Python unpinned"."""

    __slots__ = ()


#: The marker default (compared by identity: an explicit ``'3.10.18'`` does pin 3.10.18).
_SDK_DEFAULT_PYTHON = _UnpinnedPython(SDK_PYTHON_DEFAULT)


def _check_core_type(core_type: str) -> None:
    if core_type not in _CORE_TYPES:
        raise ConfigurationError(
            f"Invalid core type {core_type!r}", key="core_type", hint="Pass core_type='cpu' or core_type='gpu'."
        )


class CondaDependencies:
    """The conda and pip packages of an environment (SDK v1: ``CondaDependencies``).

    ``CondaDependencies()`` is SDK v1's default: ``azureml-defaults`` (provided by Headwater) and
    nothing else. ``CondaDependencies(path)`` reads a conda environment YAML file.
    """

    #: SDK v1's cache of :meth:`get_default_number_of_packages` (0 until that is called).
    DEFAULT_NUMBER_OF_CONDA_PACKAGES = 0
    DEFAULT_NUMBER_OF_PIP_PACKAGES = 0

    def __init__(
        self,
        conda_dependencies_file_path: str | os.PathLike[str] | None = None,
        _underlying_structure: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(conda_dependencies_file_path) if conda_dependencies_file_path is not None else None
        if self._path is not None:
            structure = self._read_yaml(self._path)
        elif _underlying_structure is not None:
            structure = _underlying_structure
        else:
            structure = {
                "name": DEFAULT_NAME,
                "dependencies": [{"pip": list(DEFAULT_PIP_PACKAGES)}],
                "channels": list(DEFAULT_CHANNELS),
            }
        self._load(structure, where=str(self._path) if self._path else None)

    # -- construction --------------------------------------------------------------------------

    @staticmethod
    def create(
        pip_indexurl: str | None = None,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = _SDK_DEFAULT_PYTHON,
        pin_sdk_version: bool = True,
    ) -> CondaDependencies:
        """The default dependencies plus these packages (SDK v1 signature).

        ``pip_indexurl`` is an index URL or a whole pip option line (``--extra-index-url ...``);
        ``pin_sdk_version`` changes nothing. Python is pinned only when ``python_version`` is
        passed: the default (shown as SDK v1's ``'3.10.18'``) leaves it unpinned, so the
        environment runs on Headwater's Python as before (see the module docstring).
        """
        cd = CondaDependencies()
        if pip_indexurl:
            cd.set_pip_option(pip_indexurl if pip_indexurl.startswith("-") else f"--index-url {pip_indexurl}")
        if python_version and python_version is not _SDK_DEFAULT_PYTHON:
            cd.set_python_version(python_version)
        for pip_package in pip_packages or ():
            cd.add_pip_package(pip_package)
        for conda_package in conda_packages or ():
            cd.add_conda_package(conda_package)
        return cd

    @staticmethod
    def merge_requirements(requirements: Iterable[str]) -> list[str]:
        """Requirement lines merged per distribution: ``['a>1', 'a<3', 'b']`` becomes ``['a>1,<3', 'b']``."""
        merged: dict[str, list[str]] = {}
        for requirement in requirements:
            text = requirement.strip()
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?", text)
            name = match.group(0) if match else text
            merged.setdefault(name, [])
            rest = text[len(name) :].strip()
            if rest:
                merged[name].append(rest)
        return [name + ",".join(constraints) for name, constraints in merged.items()]

    @staticmethod
    def sdk_origin_url() -> str:
        """The package index pip uses here (``PIP_INDEX_URL``, else PyPI's), as SDK v1 reports its origin index."""
        return os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"

    def get_default_number_of_packages(self) -> tuple[int, int]:
        """How many conda and pip packages a bare ``CondaDependencies()`` lists: ``(0, 1)`` (``azureml-defaults``)."""
        if self.DEFAULT_NUMBER_OF_CONDA_PACKAGES == 0 and self.DEFAULT_NUMBER_OF_PIP_PACKAGES == 0:
            default = CondaDependencies()
            self.DEFAULT_NUMBER_OF_CONDA_PACKAGES = len(default._conda)
            self.DEFAULT_NUMBER_OF_PIP_PACKAGES = len(default._pip)
        return self.DEFAULT_NUMBER_OF_CONDA_PACKAGES, self.DEFAULT_NUMBER_OF_PIP_PACKAGES

    @staticmethod
    def _read_yaml(path: Path) -> dict[str, Any]:
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the conda specification: {exc}", path=str(path)) from exc
        except yaml.YAMLError as exc:
            raise ConfigurationError(
                f"The conda specification is not valid YAML: {exc}",
                path=str(path),
                hint="It should look like 'name: ...', 'channels: [...]', 'dependencies: [..., {pip: [...]}]'.",
            ) from exc
        return data if data is not None else {}

    def _load(self, data: Any, *, where: str | None) -> None:
        if not isinstance(data, dict):
            raise ConfigurationError(
                "A conda specification must be a mapping with 'dependencies'", path=where, key="dependencies"
            )
        self._name = str(data.get("name") or DEFAULT_NAME)
        self._channels = [str(c).strip() for c in data.get("channels") or []]
        self._conda: list[str] = []
        self._pip: list[str] = []
        self._pip_options: list[str] = []
        for dep in data.get("dependencies") or []:
            if isinstance(dep, dict):
                for line in dep.get("pip") or []:
                    text = str(line).strip()
                    (self._pip_options if text.startswith("-") else self._pip).append(text)
            elif str(dep).strip():
                self._conda.append(str(dep).strip())
        self._extra = {k: v for k, v in data.items() if k not in ("name", "channels", "dependencies")}

    # -- pip -----------------------------------------------------------------------------------

    @property
    def pip_packages(self) -> list[str]:
        """The pip requirement lines (options excluded), in order."""
        return list(self._pip)

    @property
    def pip_options(self) -> list[str]:
        """The pip option lines (``--index-url ...``, ``--extra-index-url ...``)."""
        return list(self._pip_options)

    def add_pip_package(self, pip_package: str) -> None:
        """Add a requirement; one for the same distribution is replaced in place."""
        text = pip_package.strip()
        if text.startswith("-"):
            self.set_pip_option(text)
            return
        key = _pip_key(text)
        for i, existing in enumerate(self._pip):
            if _pip_key(existing) == key:
                self._pip[i] = text
                return
        self._pip.append(text)

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove the requirement for this distribution (any version); absent is fine."""
        key = _pip_key(pip_package)
        self._pip = [p for p in self._pip if _pip_key(p) != key]

    def set_pip_option(self, pip_option: str | None) -> None:
        """Add a pip option line; ``--index-url`` replaces an earlier one. ``None`` does nothing."""
        if not pip_option:
            return
        text = pip_option.strip()
        flag = _option_flag(text)
        if flag in _SINGLE_VALUED_OPTIONS:
            self._pip_options = [o for o in self._pip_options if _option_flag(o) not in _SINGLE_VALUED_OPTIONS]
        if text not in self._pip_options:
            self._pip_options.append(text)

    def set_pip_index_url(self, index_url: str) -> None:
        """Use ``index_url`` as pip's index (``--index-url``)."""
        self.set_pip_option(index_url if index_url.startswith("-") else f"--index-url {index_url}")

    def set_pip_requirements(self, pip_requirements: Iterable[str]) -> None:
        """Replace the whole pip section (requirement and option lines) with ``pip_requirements``."""
        lines = [str(line).strip() for line in pip_requirements]
        self._pip_options = [line for line in lines if line.startswith("-")]
        self._pip = [line for line in lines if line and not line.startswith("-")]

    def add_cntk_package(self, core_type: str = "cpu") -> None:
        """Add SDK v1's CNTK pin (``cntk==2.7``, ``cntk-gpu==2.7`` for ``'gpu'``), replacing any ``cntk*`` line."""
        _check_core_type(core_type)
        self._pip = [p for p in self._pip if not p.startswith("cntk")]
        self.add_pip_package(f"cntk{'-gpu' if core_type == 'gpu' else ''}=={_CNTK_VERSION}")

    def add_tensorflow_pip_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        """Add ``tensorflow==<version>`` (``tensorflow-gpu`` for ``'gpu'``; SDK v1's 2.2.0 by default) to pip."""
        _check_core_type(core_type)
        self._pip = [p for p in self._pip if not p.startswith("tensorflow")]
        suffix = "-gpu" if core_type == "gpu" else ""
        self.add_pip_package(f"tensorflow{suffix}=={version or _TENSORFLOW_VERSION}")

    def add_tensorflow_conda_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        """Add ``tensorflow=<version>`` (``tensorflow-gpu`` for ``'gpu'``; SDK v1's 2.2.0 by default) to conda."""
        _check_core_type(core_type)
        self._conda = [p for p in self._conda if not p.startswith("tensorflow")]
        suffix = "-gpu" if core_type == "gpu" else ""
        self.add_conda_package(f"tensorflow{suffix}={version or _TENSORFLOW_VERSION}")

    def remove_pip_option(self, pip_option: str) -> None:
        """Remove an option line, or every line of an option flag (``'--extra-index-url'``)."""
        text = pip_option.strip()
        self._pip_options = [o for o in self._pip_options if o != text and _option_flag(o) != text]

    # -- conda ---------------------------------------------------------------------------------

    @property
    def conda_packages(self) -> list[str]:
        """The conda packages (``python=...`` included when pinned), in order."""
        return list(self._conda)

    @property
    def conda_channels(self) -> list[str]:
        """The channels, in priority order."""
        return list(self._channels)

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package; one with the same name is replaced in place."""
        text = conda_package.strip()
        key = _conda_key(text)
        for i, existing in enumerate(self._conda):
            if _conda_key(existing) == key:
                self._conda[i] = text
                return
        self._conda.append(text)

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove the conda package of this name (any version); absent is fine."""
        key = _conda_key(conda_package)
        self._conda = [p for p in self._conda if _conda_key(p) != key]

    def add_channel(self, channel: str) -> None:
        """Add a channel (lowest priority) unless it is there already."""
        if channel.strip() not in self._channels:
            self._channels.append(channel.strip())

    def remove_channel(self, channel: str) -> None:
        """Remove a channel; absent is fine."""
        self._channels = [c for c in self._channels if c != channel.strip()]

    def set_python_version(self, version: str) -> None:
        """Pin Python: ``'3.11'`` means any 3.11.x, ``'3.11.4'`` exactly that."""
        self.add_conda_package(f"python={version.strip()}")

    def get_python_version(self) -> str | None:
        """The pinned Python version (``'3.11'``), or ``None`` when Python is not pinned."""
        for package in self._conda:
            if _conda_key(package) == "python":
                rest = package.strip().split("::", 1)[-1][len("python") :].strip()
                return rest.lstrip("=").split("=")[0].strip() or None
        return None

    # -- files ---------------------------------------------------------------------------------

    def _structure(self) -> dict[str, Any]:
        dependencies: list[Any] = list(self._conda)
        if self._pip or self._pip_options:
            dependencies.append({"pip": [*self._pip_options, *self._pip]})
        return {"name": self._name, "dependencies": dependencies, "channels": list(self._channels), **self._extra}

    def as_dict(self) -> dict[str, Any]:
        """The conda environment file as plain JSON-able data (``name``, ``dependencies``, ``channels``)."""
        import json

        result: dict[str, Any] = json.loads(json.dumps(self._structure()))
        return result

    def serialize_to_string(self) -> str:
        """The conda environment YAML text."""
        import yaml

        return _HEADER + yaml.safe_dump(self._structure(), sort_keys=False, default_flow_style=False)

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the YAML to ``path`` (default: the file it was read from); returns the path."""
        target = Path(path) if path is not None else self._path
        if target is None:
            raise ConfigurationError(
                "CondaDependencies.save() needs a path: this object was not read from a file",
                hint="Pass a path, e.g. save('conda_dependencies.yml').",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string(), encoding="utf-8")
        return str(target)

    def save_to_file(self, base_directory: str | os.PathLike[str], conda_file_path: str | None = None) -> str:
        """Deprecated in SDK v1 (use :meth:`save`): write under ``base_directory``; returns the relative path.

        The default file is SDK v1's ``.azureml/conda_dependencies.yml``.
        """
        relative = (conda_file_path or ".azureml/conda_dependencies.yml").replace("\\", "/")
        self.save(Path(base_directory) / relative)
        return relative

    # -- specs (used by Environment.to_spec / from_spec) ---------------------------------------

    def _spec_parts(self) -> dict[str, Any]:
        index = [o for o in self._pip_options if _option_flag(o) in _SINGLE_VALUED_OPTIONS]
        index_url = re.split(r"[\s=]", index[-1].strip(), maxsplit=1)[1].strip() if index else None
        return {
            "python_version": self.get_python_version(),
            "pip_packages": list(self._pip),
            "pip_index_url": index_url,
            "pip_options": [o for o in self._pip_options if o not in index],
            "conda_packages": [p for p in self._conda if _conda_key(p) != "python"],
            "channels": list(self._channels),
        }

    @staticmethod
    def _from_spec_parts(spec: dict[str, Any]) -> CondaDependencies:
        cd = CondaDependencies(_underlying_structure={"name": DEFAULT_NAME, "channels": spec.get("channels") or []})
        for option in spec.get("pip_options") or []:
            cd.set_pip_option(option)
        if spec.get("pip_index_url"):
            cd.set_pip_index_url(spec["pip_index_url"])
        if spec.get("python_version"):
            cd.set_python_version(str(spec["python_version"]))
        cd._conda.extend(str(p) for p in spec.get("conda_packages") or [])
        cd._pip.extend(str(p) for p in spec.get("pip_packages") or [])
        return cd

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and other._structure() == self._structure()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"CondaDependencies(pip_packages={self._pip!r}, conda_packages={self._conda!r})"


def read_requirements(path: Path, _seen: frozenset[Path] = frozenset()) -> tuple[list[str], list[str]]:
    """A pip requirements file as ``(requirement lines, option lines)``; ``-r`` files are inlined."""
    path = path.resolve()
    if path in _seen:
        raise ConfigurationError("Requirements files include each other in a loop", path=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the requirements file: {exc}", path=str(path)) from exc
    packages: list[str] = []
    options: list[str] = []
    for raw in text.replace("\\\n", "").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        flag = _option_flag(line)
        if flag in ("-r", "--requirement"):
            nested = line[len(flag) :].strip().lstrip("=").strip()
            more_packages, more_options = read_requirements(path.parent / nested, _seen | {path})
            packages += more_packages
            options += more_options
        elif line.startswith("-"):
            options.append(line)
        else:
            packages.append(line)
    return packages, options
