"""What the environment builder installs for a spec: requirement lines and uv options.

The translation from an environment spec (see :mod:`headwater.plan.environments`):

- ``pip_packages`` lines are installed as written (markers are evaluated by uv for the target
  Python). Lines starting with ``-`` are options, treated like ``pip_options``.
- ``azureml-*`` packages are provided by Headwater and never installed (a notice each); but one
  asking for a *data-access* extra (``azureml-dataprep[pandas]``,
  ``azureml-dataset-runtime[pandas,fuse]``, ...; see :data:`DATA_EXTRAS`) adds what Headwater's
  dataset reading needs in the step — :data:`DATA_PACKAGES`: pandas, pyarrow, fsspec.
- ``conda_packages`` are installed from the package index under the same name, except the few
  whose PyPI name differs (:data:`headwater.plan.environments.CONDA_TO_PIP`: ``pytorch`` →
  ``torch``, ``py-xgboost`` → ``xgboost``, ...). A conda version (``numpy=1.26``) becomes a
  PEP 440 one (``numpy==1.26.*``); of alternatives (``1.2|1.3``) the first is used. ``python``
  sets the Python version (when ``python_version`` does not), ``pip`` is skipped; channels
  have no meaning for the package index and are ignored.
- pip options: ``pip_index_url`` and ``--index-url``/``-i``, ``--extra-index-url``,
  ``--find-links``/``-f``, ``--no-index`` and ``--pre`` are passed to uv; others are ignored
  with a notice (``--trusted-host`` among them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from headwater.plan.environments import (
    CONDA_TO_PIP,
    conda_to_pep440,
    is_provided,
    normalize_spec,
    split_conda,
)

__all__ = ["DATA_EXTRAS", "DATA_PACKAGES", "InstallPlan", "install_plan"]

#: Extras of ``azureml-*`` packages that mean "read datasets in the step".
DATA_EXTRAS = frozenset({"pandas", "fuse", "pyarrow", "parquet"})
#: What those extras bring into a built environment (unpinned: they must suit any Python).
DATA_PACKAGES = ("pandas", "pyarrow", "fsspec")

#: pip option → uv option; ``None`` value: a flag without a value.
_OPTIONS: dict[str, tuple[str, bool]] = {
    "--index-url": ("--index-url", True),
    "-i": ("--index-url", True),
    "--extra-index-url": ("--extra-index-url", True),
    "--find-links": ("--find-links", True),
    "-f": ("--find-links", True),
    "--no-index": ("--no-index", False),
}


@dataclass(frozen=True)
class InstallPlan:
    """Requirement lines for ``uv pip install``, its options, the Python asked for, and notices."""

    requirements: list[str]
    uv_options: list[str] = field(default_factory=list)
    python_version: str | None = None
    notices: list[str] = field(default_factory=list)


def install_plan(spec: dict[str, Any]) -> InstallPlan:
    """What to install for ``spec`` (see the module docstring for the rules)."""
    resolved = normalize_spec(spec)
    requirements: list[str] = []
    options: list[str] = []
    notices: list[str] = []
    python = str(resolved["python_version"]).strip() if resolved["python_version"] else None

    if resolved["pip_index_url"]:
        options += ["--index-url", str(resolved["pip_index_url"])]
    for line in resolved["pip_options"]:
        _add_option(line, options, notices)
    for line in resolved["pip_packages"]:
        if line.startswith("-"):
            _add_option(line, options, notices)
        else:
            _add_pip(line, requirements, notices)
    for package in resolved["conda_packages"]:
        name, version = split_conda(package)
        canonical = re.sub(r"[-_.]+", "-", name).lower()
        if canonical == "pip":
            continue
        if canonical == "python":
            python = python or (version.lstrip("=") or None)
            continue
        if is_provided(canonical):
            notices.append(f"{package} is provided by Headwater; not installed")
            continue
        dist = CONDA_TO_PIP.get(canonical, name)
        alternatives = version.split("|") if version else [""]
        if len(alternatives) > 1:
            notices.append(f"conda package {package!r}: pip has no 'or'; installing {alternatives[0]!r}")
        pep440 = conda_to_pep440(alternatives[0]) if alternatives[0] else ""
        if dist != name:
            notices.append(f"conda package {package!r} is installed from the package index as {dist!r}")
        requirements.append(f"{dist}{pep440}")
    return InstallPlan(_unique(requirements), options, python, notices)


def _add_pip(line: str, requirements: list[str], notices: list[str]) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        requirements.append(line)  # a path, URL or editable line: uv judges it
        return
    if not is_provided(req.name):
        requirements.append(line)
        return
    data = sorted(DATA_EXTRAS & {e.lower() for e in req.extras})
    if data:
        requirements.extend(DATA_PACKAGES)
        notices.append(
            f"{line} is provided by Headwater; its data-access extras ({', '.join(data)}) "
            f"add {', '.join(DATA_PACKAGES)} to the environment"
        )
    else:
        notices.append(f"{line} is provided by Headwater; not installed")


def _add_option(line: str, options: list[str], notices: list[str]) -> None:
    parts = re.split(r"[\s=]+", line.strip(), maxsplit=1)
    flag, value = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if flag == "--pre":
        options += ["--prerelease", "allow"]
        return
    known = _OPTIONS.get(flag)
    if known is None or (known[1] and not value):
        notices.append(f"pip option {line!r} is not supported by the environment builder; ignored")
        return
    options += [known[0], value] if known[1] else [known[0]]


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))
