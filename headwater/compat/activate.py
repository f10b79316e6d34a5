"""Turning the ``azureml`` compatibility layer on: in this process, for a script, or for an environment.

The layer is the folder :func:`shim_path`, which holds an ``azureml`` package; it is active
wherever that folder is on ``sys.path``. It is not on it by default, so an installed Headwater
never shadows a real ``azureml-core``. Ways in:

- :func:`activate`: insert it at ``sys.path[0]`` of this process;
- :func:`run_script`: run a script or module with it active (``headwater run SCRIPT``);
- ``PYTHONPATH=<shim_path()>`` for a child process (what Headwater's step processes get);
- :func:`install`: a ``.pth`` file in an environment's site-packages, so plain ``python`` and
  Jupyter kernels of that environment have it (``headwater compat install``); :func:`uninstall`
  removes it.

Every way refuses when the real Azure ML SDK is installed in the same environment
(:func:`conflicting_distribution`); the shim's ``azureml/__init__.py`` checks again when it is
imported, so a hand-set ``PYTHONPATH`` cannot mix the two either.

``install`` writes ``headwater-azureml-compat.pth``. When Headwater itself is not installed in
that site-packages (another environment, e.g. a Jupyter kernel's), the ``.pth`` also names a
folder ``headwater-azureml-compat/`` created next to it that holds only a symlink to Headwater's
package: the stdlib-only parts (``Run.get_context()``, the ``azureml`` names) then work there,
without exposing anything else from Headwater's environment. :func:`uninstall` removes both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from headwater.compat._loader import REAL_SDK_HINT
from headwater.errors import ConfigurationError, NotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = [
    "CONFLICTING_DISTRIBUTIONS",
    "PTH_NAME",
    "LINK_DIR_NAME",
    "activate",
    "conflicting_distribution",
    "install",
    "is_installed",
    "run_script",
    "shim_path",
    "site_packages_dir",
    "uninstall",
]

#: Distributions of the real SDK that provide the ``azureml`` modules the layer serves.
CONFLICTING_DISTRIBUTIONS = ("azureml-core", "azureml-pipeline-core", "azureml-pipeline-steps", "azureml-sdk")
PTH_NAME = "headwater-azureml-compat.pth"
LINK_DIR_NAME = "headwater-azureml-compat"


def shim_path() -> Path:
    """The folder to put on ``sys.path`` / ``PYTHONPATH``: it holds the ``azureml`` package."""
    from headwater._paths import COMPAT_SHIM_DIR

    return COMPAT_SHIM_DIR


def _headwater_package() -> Path:
    return Path(__file__).resolve().parent.parent


def site_packages_dir(python: str | os.PathLike[str] | None = None) -> Path:
    """An environment's site-packages (``sysconfig``'s ``purelib``): where :func:`install` writes.

    This environment's by default; with ``python``, the environment of that interpreter (asked by
    running it), e.g. a Jupyter kernel's or another virtual environment's.
    """
    import sysconfig

    if python is None:
        return Path(sysconfig.get_paths()["purelib"])
    import subprocess

    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    try:
        done = subprocess.run([os.fspath(python), "-c", code], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise NotFoundError("Python interpreter", os.fspath(python), hint=f"It cannot be run: {exc}.") from exc
    if done.returncode != 0 or not done.stdout.strip():
        raise ConfigurationError(
            f"Cannot find the site-packages folder of {os.fspath(python)}: {done.stderr.strip() or 'no output'}",
            hint="Give the path of a working Python interpreter (e.g. .venv/bin/python).",
        )
    return Path(done.stdout.strip())


def _find_conflict(path: list[str] | None) -> tuple[str, str] | None:
    from importlib.metadata import distributions

    for name in CONFLICTING_DISTRIBUTIONS:
        for dist in distributions(name=name, path=sys.path if path is None else path):
            label = f"{dist.metadata['Name'] or name} {dist.version}"
            return label, str(dist.locate_file(""))
    return None


def conflicting_distribution(path: list[str] | None = None) -> str | None:
    """``"azureml-core 1.61.0"`` when the real SDK is installed (on ``path``, default ``sys.path``), else None."""
    found = _find_conflict(path)
    return found[0] if found else None


def _refuse_if_conflicting(path: list[str] | None, action: str) -> None:
    found = _find_conflict(path)
    if found is not None:
        label, location = found
        from headwater import __version__

        raise ConfigurationError(
            f"Cannot {action}: the real Azure ML SDK ({label}) is installed in this environment, and Headwater's "
            f"azureml compatibility layer (headwater {__version__}) provides the same azureml modules",
            path=location,
            hint=REAL_SDK_HINT,
        )


def activate() -> Path:
    """Make ``import azureml...`` serve Headwater in this process; returns :func:`shim_path`.

    Refuses (ConfigurationError) when the real SDK is installed or an ``azureml`` that is not the
    shim has already been imported. Activating twice is harmless.
    """
    _refuse_if_conflicting(None, "activate the azureml compatibility layer")
    shim = shim_path()
    loaded = sys.modules.get("azureml")
    if loaded is not None and not any(Path(p).resolve() == shim / "azureml" for p in getattr(loaded, "__path__", [])):
        raise ConfigurationError(
            "Cannot activate the azureml compatibility layer: another azureml package is already imported "
            f"in this process (from {list(getattr(loaded, '__path__', []))}).",
            hint=REAL_SDK_HINT,
        )
    if str(shim) not in sys.path:
        sys.path.insert(0, str(shim))
    return shim


def _pth_file(site_packages: str | os.PathLike[str] | None) -> Path:
    return (Path(site_packages) if site_packages is not None else site_packages_dir()) / PTH_NAME


def _has_headwater(site: Path) -> bool:
    return (site / "headwater").is_dir() or any(site.glob("headwater-*.dist-info"))


def install(site_packages: str | os.PathLike[str] | None = None) -> Path:
    """Activate the layer for every interpreter start of an environment; returns the ``.pth`` file written.

    ``site_packages`` defaults to this environment's (:func:`site_packages_dir`). Refuses when the
    real SDK is installed there. Installing again rewrites the file (e.g. after Headwater moved).
    """
    site = Path(site_packages) if site_packages is not None else site_packages_dir()
    if not site.is_dir():
        raise NotFoundError(
            "site-packages folder", str(site), hint="Pass the purelib folder of an existing environment."
        )
    _refuse_if_conflicting(
        [str(site)] if site_packages is not None else None, f"install the azureml compatibility layer into {site}"
    )
    lines = [
        "# Headwater's azureml compatibility layer (`headwater compat install`); `headwater compat uninstall` "
        "removes it.",
        str(shim_path()),
    ]
    if _has_headwater(site):
        _remove_link_dir(site)  # left from an install made before Headwater was installed there
    else:
        link_dir = site / LINK_DIR_NAME
        link_dir.mkdir(exist_ok=True)
        link = link_dir / "headwater"
        tmp = link_dir / f".headwater.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(_headwater_package(), target_is_directory=True)
        os.replace(tmp, link)
        lines.append(str(link_dir))
    pth = site / PTH_NAME
    tmp_pth = site / f".{PTH_NAME}.{os.getpid()}.tmp"
    tmp_pth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp_pth, pth)
    return pth


def uninstall(site_packages: str | os.PathLike[str] | None = None) -> bool:
    """Remove what :func:`install` wrote; returns False when nothing was installed."""
    pth = _pth_file(site_packages)
    removed = pth.is_file()
    pth.unlink(missing_ok=True)
    return _remove_link_dir(pth.parent) or removed


def _remove_link_dir(site: Path) -> bool:
    link_dir = site / LINK_DIR_NAME
    if not link_dir.is_dir():
        return False
    (link_dir / "headwater").unlink(missing_ok=True)
    link_dir.rmdir()
    return True


def is_installed(site_packages: str | os.PathLike[str] | None = None) -> bool:
    """True when :func:`install` has written its ``.pth`` file into ``site_packages`` (default: this environment's)."""
    return _pth_file(site_packages).is_file()


def run_script(
    path_or_module: str | os.PathLike[str], args: Sequence[str] = (), *, module: bool = False
) -> dict[str, Any]:
    """Run a script (or, with ``module=True``, a module) as ``__main__`` with the layer active.

    As ``python SCRIPT ARGS`` (``python -m MODULE ARGS``) would: ``sys.argv`` is ``[SCRIPT, *ARGS]``,
    ``sys.path[0]`` the script's folder (the current folder for a module), and ``PYTHONPATH``
    names the shim, so processes the script starts have the layer too. ``sys.argv``, ``sys.path``
    and ``PYTHONPATH`` are restored afterwards. Returns the script's globals; exceptions, including
    ``SystemExit``, propagate.
    """
    import runpy

    shim = activate()
    saved_argv, saved_path, saved_env = sys.argv, sys.path[:], os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(shim), saved_env) if p)
    try:
        if module:
            sys.argv = [str(path_or_module), *args]
            sys.path.insert(0, os.getcwd())
            return runpy.run_module(str(path_or_module), run_name="__main__", alter_sys=True)
        script = Path(path_or_module)
        if not script.exists():
            raise NotFoundError("Script", str(script), hint="Give the path of a Python file (or -m for a module).")
        sys.argv = [str(script), *args]
        sys.path.insert(0, str(script.resolve() if script.is_dir() else script.resolve().parent))
        return runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_env
