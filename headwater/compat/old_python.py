"""Stand-ins for the SDK-side ``azureml`` names in a step whose Python is older than the SDK needs.

A step built for ``python=3.8`` runs its script on 3.8, with Headwater's runtime and this layer on
its path. ``Run`` (the runtime) works there; ``Dataset``, ``Workspace``, ``Datastore`` ... are
Headwater's SDK, which needs :data:`~headwater.runtime.pythons.SDK_PYTHON`. So that the imports SDK
v1 scripts start with (``from azureml.core import Run, Dataset``) still work, such a name is a
stand-in there: it imports, ``isinstance`` checks are False, and calling it or using a public
attribute raises :class:`~headwater.errors.NotSupportedError` saying which Python runs and what to
do instead. Stdlib only, and written for :data:`~headwater.runtime.pythons.OLDEST_STEP_PYTHON`.
"""

from __future__ import annotations

from headwater.errors import NotSupportedError
from headwater.runtime.pythons import SDK_PYTHON, running

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["NeedsNewerPython", "stand_in"]

_CACHE: dict[tuple[str, str], type] = {}


class NeedsNewerPython(type):
    """The metaclass of the stand-ins: instantiation and public attributes raise NotSupportedError."""

    _sdk_name: str
    _sdk_module: str

    def _headwater_error(cls, attribute: str | None = None) -> NotSupportedError:
        what = cls._sdk_name if attribute is None else f"{cls._sdk_name}.{attribute}"
        return NotSupportedError(
            f"{what} ({cls._sdk_module}.{cls._sdk_name}) is not available in this step: the step runs on "
            f"Python {running()}, and Headwater's {cls._sdk_name} needs Python {SDK_PYTHON[0]}.{SDK_PYTHON[1]} "
            "or later (Run.get_context(), run.log and run.input_datasets work on any Python from 3.8).",
            hint="Read the step's data through its arguments or run.input_datasets[name] with .as_download() or "
            ".as_mount(), or pin the step environment's Python to "
            f"{SDK_PYTHON[0]}.{SDK_PYTHON[1]} or later (CondaDependencies.create(python_version=...)).",
        )

    def __call__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise cls._headwater_error()

    def __getattr__(cls, attribute: str) -> NoReturn:
        if attribute.startswith("_"):
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {attribute!r}")
        raise cls._headwater_error(attribute)

    def __repr__(cls) -> str:
        return f"<class '{cls._sdk_module}.{cls._sdk_name}' (needs Python {SDK_PYTHON[0]}.{SDK_PYTHON[1]}+)>"


def stand_in(module: str, name: str) -> type:
    """The stand-in for ``module.name`` (one object per name and module)."""
    cls = _CACHE.get((module, name))
    if cls is None:
        cls = _CACHE[(module, name)] = NeedsNewerPython(
            name,
            (),
            {"__module__": module, "__qualname__": name, "_sdk_name": name, "_sdk_module": module},
        )
    return cls
