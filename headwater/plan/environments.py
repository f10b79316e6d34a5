"""Environments as plain specs: their digest, and whether the running Python already satisfies one.

An environment *spec* is the JSON dict that :meth:`headwater.sdk.environment.Environment.to_spec`
returns (this module never imports the SDK)::

    {"name": "train-env", "version": "2",            # identity: never part of the digest
     "python_version": "3.11",                       # None: any Python
     "pip_packages": ["pandas>=2", "azureml-sdk"],   # requirement lines, as written
     "pip_index_url": None, "pip_options": [],       # --index-url, then other pip option lines
     "conda_packages": ["numpy=1.26"], "channels": ["conda-forge"],
     "user_managed_dependencies": False, "interpreter_path": "python",
     "environment_variables": {}, "docker": {...}, "inferencing_stack_version": None}

Missing keys take the defaults in :data:`SPEC_DEFAULTS` (so ``{}`` is "no requirements").

Packages named ``azureml-*`` (``azureml-sdk``, ``azureml-core``, ``azureml-defaults``,
``azureml-dataprep[...]``, ``azureml-pipeline*``, ``azureml-mlflow``, ...) are *provided by
Headwater*: the names a script imports from them are on the step's path, so they are never
installed nor required; each one adds a notice.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from headwater.errors import EnvironmentBuildError
from headwater.plan.hashing import dict_hash

__all__ = [
    "SPEC_DEFAULTS",
    "Resolution",
    "CONDA_TO_PIP",
    "check_current_interpreter",
    "clear_cache",
    "conda_to_pep440",
    "environment_digest",
    "is_provided",
    "normalize_spec",
    "split_conda",
]

#: Every key of an environment spec and its default.
SPEC_DEFAULTS: dict[str, Any] = {
    "name": None,
    "version": None,
    "python_version": None,
    "pip_packages": [],
    "pip_index_url": None,
    "pip_options": [],
    "conda_packages": [],
    "channels": [],
    "user_managed_dependencies": False,
    "interpreter_path": "python",
    "environment_variables": {},
    "docker": {"enabled": False, "base_image": None, "base_dockerfile": None, "shm_size": None},
    "inferencing_stack_version": None,
}
#: Keys that never enter the digest: identity, and settings recorded but not used (no containers yet).
_NOT_DIGESTED = ("name", "version", "docker", "inferencing_stack_version")

#: Conda package names whose pip distribution is called differently.
_CONDA_TO_PIP = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-xgboost": "xgboost",
    "py-lightgbm": "lightgbm",
    "matplotlib-base": "matplotlib",
    "tensorflow-base": "tensorflow",
}
_CONDA_IGNORED = {"pip"}

_CACHE: dict[str, Resolution] = {}


@dataclass(frozen=True)
class Resolution:
    """Whether an environment spec can run on this machine's Python as it is.

    ``interpreter`` is an absolute path (``sys.executable`` unresolved, so a venv stays a venv),
    or ``None`` when the running Python does not satisfy the spec (it has to be built).
    ``missing`` lists the requirements not satisfied, each with the installed version if any;
    ``notices`` says what was deliberately not checked (provided ``azureml-*`` packages, ...).
    """

    interpreter: str | None
    satisfied: bool
    missing: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    digest: str = ""


def normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every key of :data:`SPEC_DEFAULTS` present and package lines stripped."""
    out = copy.deepcopy(SPEC_DEFAULTS)
    for key, value in spec.items():
        out[key] = copy.deepcopy(value)
    out["docker"] = {**SPEC_DEFAULTS["docker"], **(out.get("docker") or {})}
    for key in ("pip_packages", "pip_options", "conda_packages", "channels"):
        out[key] = [str(p).strip() for p in (out.get(key) or []) if str(p).strip()]
    out["environment_variables"] = {str(k): str(v) for k, v in (out.get("environment_variables") or {}).items()}
    return out


def environment_digest(spec: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the normalized spec: what decides how a step's Python is made.

    Pip and conda package lists are sorted first, so *reordering packages does not change the
    digest* (unlike SDK v1's image hash, which reordering invalidates); changing, adding or
    removing a package does, and so do the Python version, channels, pip options (their order
    is kept: it decides where packages come from), ``user_managed_dependencies``,
    ``interpreter_path`` and the environment variables. The name and version do not enter it
    (renaming or re-registering keeps the digest), nor do the docker settings, which are
    recorded but not used until a container executor exists.
    """
    resolved = normalize_spec(spec)
    for key in _NOT_DIGESTED:
        resolved.pop(key, None)
    resolved["pip_packages"] = sorted(resolved["pip_packages"])
    resolved["conda_packages"] = sorted(resolved["conda_packages"])
    return dict_hash(resolved)


def is_provided(name: str) -> bool:
    """True for the ``azureml-*`` distributions Headwater stands in for."""
    canonical = _canonical(name)
    return canonical == "azureml" or canonical.startswith("azureml-")


def clear_cache() -> None:
    """Forget the per-process results of :func:`check_current_interpreter` (after installing)."""
    _CACHE.clear()


def check_current_interpreter(spec: dict[str, Any]) -> Resolution:
    """Can ``spec`` run on the Python running Headwater, as it is installed now?

    - ``user_managed_dependencies=True``: nothing is checked or installed. ``interpreter_path``
      ``'python'`` is ``sys.executable``; an absolute path is used if it exists; any other value
      is looked up with ``shutil.which``. One that cannot be found raises EnvironmentBuildError.
    - otherwise every pip requirement (markers evaluated, extras' own requirements one level
      deep) is checked against the installed distributions, and every conda package by its pip
      distribution name; ``python`` is checked against ``sys.version_info``, ``pip`` is ignored.

    Results are cached per digest for the life of the process (the check runs at every submit);
    :func:`clear_cache` forgets them.
    """
    resolved = normalize_spec(spec)
    digest = environment_digest(resolved)
    if resolved["user_managed_dependencies"]:
        return _user_managed(resolved, digest)
    cached = _CACHE.get(digest)
    if cached is None:
        cached = _CACHE[digest] = _check(resolved, digest)
    return replace(cached, missing=list(cached.missing), notices=list(cached.notices))


# -- internals ---------------------------------------------------------------------------------


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _current_python() -> str:
    return os.path.abspath(sys.executable)


def _user_managed(spec: dict[str, Any], digest: str) -> Resolution:
    path = str(spec["interpreter_path"] or "python")
    if path == "python":
        interpreter = _current_python()
    elif os.path.isabs(path):
        if not Path(path).exists():
            raise EnvironmentBuildError(
                f"The environment's interpreter_path {path!r} does not exist.",
                hint="Point python.interpreter_path at an existing Python, or set "
                "python.user_managed_dependencies = False to let Headwater provide one.",
            )
        interpreter = path
    else:
        found = shutil.which(path)
        if found is None:
            raise EnvironmentBuildError(
                f"The environment's interpreter_path {path!r} was not found on PATH.",
                hint="Use an absolute path, or 'python' for the Python running Headwater.",
            )
        interpreter = os.path.abspath(found)
    notices = []
    listed = len(spec["pip_packages"]) + len(spec["conda_packages"])
    if listed:
        notices.append(
            f"user_managed_dependencies=True: the {listed} listed package(s) are neither checked nor "
            f"installed; {interpreter} is used as it is."
        )
    return Resolution(interpreter, True, [], notices, digest)


def _check(spec: dict[str, Any], digest: str) -> Resolution:
    missing: list[str] = []
    notices: list[str] = []
    python = spec["python_version"]
    if python:
        python = str(python).strip()
        _check_python(python if python[0] in "=<>!~" else f"={python}", missing)
    for line in spec["pip_packages"]:
        if line.startswith("-"):
            notices.append(f"pip option {line!r} in the package list is ignored.")
            continue
        _check_pip(line, missing, notices)
    for package in spec["conda_packages"]:
        _check_conda(package, missing, notices)
    ok = not missing
    return Resolution(_current_python() if ok else None, ok, missing, notices, digest)


def _check_python(conda_version: str, missing: list[str]) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    running = "{}.{}.{}".format(*sys.version_info[:3])
    alternatives = [_conda_to_pep440(v) for v in conda_version.split("|")]
    try:
        if any(SpecifierSet(s).contains(running, prereleases=True) for s in alternatives):
            return
    except InvalidSpecifier:
        pass
    missing.append(f"python{conda_version} (running: {running})")


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*$")


def _check_pip(line: str, missing: list[str], notices: list[str]) -> None:
    bare = _REQ_NAME.match(line)
    if bare is not None and is_provided(bare.group(1)):
        # The common case (SDK v1's default azureml-defaults): no need to load `packaging` (~10 ms).
        notices.append(f"{line} is provided by Headwater; not installed")
        return
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        missing.append(f"{line} (not a name/version requirement; cannot be checked)")
        return
    if req.marker is not None and not req.marker.evaluate():
        return
    if is_provided(req.name):
        notices.append(f"{line} is provided by Headwater; not installed")
        return
    installed = _installed_version(req.name)
    if installed is None:
        missing.append(f"{line} (not installed)")
        return
    if not _version_ok(str(req.specifier), installed):
        missing.append(f"{line} (installed: {installed})")
        return
    if req.url:
        notices.append(f"{line}: {req.name} {installed} is installed; its source is not checked.")
    for extra in sorted(req.extras):
        for dep in _extra_requirements(req.name, extra):
            _check_pip(dep, missing, notices)


def _extra_requirements(name: str, extra: str) -> list[str]:
    """The requirements a distribution adds for ``extra`` (without the marker)."""
    import importlib.metadata as metadata

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requires = metadata.distribution(name).requires or []
    except metadata.PackageNotFoundError:
        return []
    out = []
    for text in requires:
        try:
            dep = Requirement(text)
        except InvalidRequirement:
            continue
        marker = dep.marker
        if marker is None or "extra" not in str(marker) or not marker.evaluate({"extra": extra}):
            continue
        dep.marker = None
        out.append(str(dep))
    return out


def _check_conda(package: str, missing: list[str], notices: list[str]) -> None:
    name, version = _split_conda(package)
    canonical = _canonical(name)
    if canonical in _CONDA_IGNORED:
        return
    if canonical == "python":
        if version:
            _check_python(version, missing)
        return
    if is_provided(canonical):
        notices.append(f"{package} is provided by Headwater; not installed")
        return
    dist = _CONDA_TO_PIP.get(canonical, canonical)
    installed = _installed_version(dist)
    if installed is None:
        missing.append(f"{package} (conda package; not installed as {dist!r})")
        return
    alternatives = [_conda_to_pep440(v) for v in version.split("|")] if version else [""]
    if not any(_version_ok(s, installed) for s in alternatives):
        missing.append(f"{package} (installed: {installed})")


def _installed_version(name: str) -> str | None:
    import importlib.metadata as metadata  # ~10 ms: only when a requirement must be checked

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _version_ok(specifier: str, installed: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion

    if not specifier:
        return True
    try:
        return SpecifierSet(specifier).contains(installed, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _split_conda(package: str) -> tuple[str, str]:
    """``'conda-forge::numpy=1.26=py311h0'`` → ``('numpy', '=1.26')``; ``'numpy 1.26 *'`` → ``('numpy', '1.26')``."""
    text = package.strip().split("::", 1)[-1]
    match = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)$", text)
    if match is None:
        return text, ""
    name, rest = match.group(1), match.group(2).strip()
    if not rest:
        return name, ""
    if rest.startswith("=="):
        return name, "==" + rest[2:].split("=")[0]
    if rest.startswith("="):
        return name, "=" + rest[1:].split("=")[0]
    if rest[0] in "<>!~":
        return name, rest.split()[0]
    return name, rest.split()[0]


def _conda_to_pep440(version: str) -> str:
    """A conda version constraint as a PEP 440 specifier: ``=1.2`` and ``1.2`` mean ``==1.2.*``."""
    clauses = []
    for clause in version.split(","):
        text = clause.strip()
        match = re.match(r"(==|!=|>=|<=|~=|>|<|=)?\s*(.*)$", text)
        if not text or match is None:
            continue
        op, value = match.group(1), match.group(2).strip()
        if op in (None, "="):
            value = value.rstrip("*").rstrip(".")
            if value:
                clauses.append(f"=={value}.*")
        else:
            clauses.append(f"{op}{value}")
    return ",".join(clauses)


# Public names for the environment builder (headwater.engine.environments), which installs what
# this module checks: the same conda → pip names and version translation on both sides.
CONDA_TO_PIP = _CONDA_TO_PIP
split_conda = _split_conda
conda_to_pep440 = _conda_to_pep440
