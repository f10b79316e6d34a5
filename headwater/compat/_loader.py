"""How a shim module serves its names: ``__getattr__``, ``__dir__`` and ``__all__`` from :mod:`.names`.

Each ``azureml`` module in ``shim/`` is three lines::

    from headwater.compat._loader import attach
    __getattr__, __dir__, __all__ = attach(__name__)

so nothing is imported until a name is used (``import azureml.core`` stays cheap, and a step
that only needs ``Run`` never loads the SDK side of Headwater). A resolved name is cached on the
module, so the next access is a plain attribute lookup. Stdlib only.
"""

from __future__ import annotations

import importlib
import sys

from headwater.compat.names import HEADWATER, MODULES, NOT_SUPPORTED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["REAL_SDK_HINT", "attach", "extend_root", "resolve", "public_names", "submodules"]

#: What to do when the real SDK and the layer meet in one environment.
REAL_SDK_HINT = (
    "Run this code in an environment without the Azure ML SDK (python -m venv NEW && NEW/bin/pip install headwater), "
    "or uninstall the SDK here (pip uninstall azureml-core azureml-pipeline-core azureml-pipeline-steps), "
    "or change the code's imports to `from headwater import ...` and leave the layer off."
)


def public_names(module: str) -> list[str]:
    """The names ``from module import *`` gives: every served name except dunders, sorted."""
    return sorted(n for n in MODULES[module] if not n.startswith("__"))


def submodules(module: str) -> list[str]:
    """The served modules directly under ``module`` (their last component), sorted."""
    prefix = module + "."
    return sorted(m[len(prefix) :] for m in MODULES if m.startswith(prefix) and "." not in m[len(prefix) :])


#: Where the names that work on any step Python live (:mod:`headwater.runtime.pythons`).
_STEP_SIDE = ("headwater.runtime", "headwater.errors", "headwater.compat")


def _needs_sdk(module: str, name: str) -> bool:
    """Whether the object served from ``module`` (``headwater``: the package's export) is Headwater's SDK side."""
    if module == HEADWATER:
        import headwater

        module = headwater._EXPORTS.get(name, module)
    return not module.startswith(_STEP_SIDE)


def _target(spec: str, name: str, served_as: str) -> Any:
    from headwater.runtime.pythons import sdk_available

    module, _, attribute = spec.partition(":")
    if not sdk_available() and _needs_sdk(module, attribute or name):
        from headwater.compat.old_python import stand_in  # a step on an old Python: see that module

        return stand_in(served_as, name)
    try:
        return getattr(importlib.import_module(module), attribute or name)
    except ImportError as exc:
        note = (
            f"Headwater serves this azureml name from {module}; the Python environment running this code "
            "needs Headwater's dependencies (pip install headwater)."
        )
        if not hasattr(exc, "add_note"):  # Python < 3.11, in a step
            raise ImportError(f"{exc} ({note})", name=exc.name) from exc
        exc.add_note(note)
        raise


def resolve(module: str, name: str) -> Any:
    """The object ``module.name`` stands for; AttributeError for a name SDK v1 does not have there."""
    entries = MODULES[module]
    spec = entries.get(name)
    if spec is None:
        if name in submodules(module):
            return importlib.import_module(f"{module}.{name}")
        message = f"module {module!r} has no attribute {name!r}"
        if not name.startswith("_"):
            from headwater.errors import did_you_mean

            message += "." + did_you_mean(name, [*public_names(module), *submodules(module)])
        error = AttributeError(message.rstrip("."))
        error.name, error.obj = name, sys.modules.get(module)  # AttributeError(name=, obj=) needs 3.10
        raise error
    if spec == NOT_SUPPORTED:
        from headwater.compat.placeholders import placeholder

        return placeholder(name)
    if spec == HEADWATER:
        return _target(HEADWATER, name, module)
    return _target(spec, name, module)


def extend_root(path: list[str]) -> list[str]:
    """``__path__`` for the shim's ``azureml`` package: itself, then other ``azureml`` folders on ``sys.path``.

    As the SDK's own namespace ``__init__`` does, so distributions that add other ``azureml.*``
    modules (``azureml-fsspec``, ``azureml-mlflow`` ...) still import. An ``azureml/core/``
    among them is the real SDK: then the import fails, naming both, instead of mixing the two.
    """
    import os

    seen = {os.path.realpath(p) for p in path}
    extended = list(path)
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        candidate = os.path.join(entry or os.curdir, "azureml")
        if not os.path.isdir(candidate) or os.path.realpath(candidate) in seen:
            continue
        if os.path.isfile(os.path.join(candidate, "core", "__init__.py")):
            raise ImportError(
                f"Headwater's azureml compatibility layer ({path[0]}) is active, but the real Azure ML SDK is "
                f"installed too ({candidate}); Headwater will not mix the two. {REAL_SDK_HINT}",
                name="azureml",
            )
        seen.add(os.path.realpath(candidate))
        extended.append(candidate)
    return extended


def attach(module: str) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for the shim module ``module``."""
    if module not in MODULES:
        raise ImportError(f"{module} is not served by Headwater's azureml compatibility layer", name=module)

    def __getattr__(name: str) -> Any:
        value = resolve(module, name)
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[module]), *public_names(module), *submodules(module)})

    return __getattr__, __dir__, public_names(module)
