"""Stand-ins for the SDK v1 names Headwater does not provide: they import, and fail when used.

``from azureml.pipeline.steps import HyperDriveStep`` works, so a module that merely mentions the
class still loads (type hints, ``isinstance`` checks, branches never taken). Calling it, or using
any public attribute or static method on it, raises :class:`~headwater.errors.NotSupportedError`
naming the class and what to use instead (:func:`headwater.compat.names.advice`). Private and
dunder lookups stay ordinary AttributeErrors, so tools that probe objects (IPython, pytest,
``inspect``) are not tripped. Stdlib only.
"""

from __future__ import annotations

from headwater.compat.names import MODULES, NOT_SUPPORTED, advice
from headwater.errors import NotSupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["NotSupportedPlaceholder", "placeholder", "is_placeholder"]

_CACHE: dict[str, type] = {}


class NotSupportedPlaceholder(type):
    """The metaclass of every stand-in: instantiation and public attributes raise NotSupportedError."""

    _sdk_name: str
    _sdk_module: str

    def _headwater_error(cls, attribute: str | None = None) -> NotSupportedError:
        what = cls._sdk_name if attribute is None else f"{cls._sdk_name}.{attribute}"
        return NotSupportedError(
            f"{what} ({cls._sdk_module}.{cls._sdk_name}) is not supported by Headwater.",
            hint=advice(cls._sdk_name, cls._sdk_module),
        )

    def __call__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise cls._headwater_error()

    def __getattr__(cls, attribute: str) -> NoReturn:
        if attribute.startswith("_"):
            error = AttributeError(f"type object {cls.__name__!r} has no attribute {attribute!r}")
            error.name = attribute  # AttributeError(name=) needs Python 3.10; this module runs in steps
            raise error
        raise cls._headwater_error(attribute)

    def __repr__(cls) -> str:
        return f"<class '{cls._sdk_module}.{cls._sdk_name}' (not supported by Headwater)>"


def _home_module(name: str) -> str:
    """The first served module that lists ``name`` as not supported (deterministic: MODULES' order)."""
    return next(m for m, entries in MODULES.items() if entries.get(name) == NOT_SUPPORTED)


def placeholder(name: str) -> type:
    """The stand-in for the SDK v1 name ``name`` (the same object wherever it is imported from)."""
    cls = _CACHE.get(name)
    if cls is None:
        module = _home_module(name)
        cls = NotSupportedPlaceholder(
            name,
            (),
            {
                "__module__": module,
                "__qualname__": name,
                "__doc__": f"SDK v1's {module}.{name}: not supported by Headwater. {advice(name, module)}",
                "_sdk_name": name,
                "_sdk_module": module,
            },
        )
        _CACHE[name] = cls
    return cls


def is_placeholder(obj: object) -> bool:
    """True for a stand-in (or a class derived from one)."""
    return isinstance(obj, NotSupportedPlaceholder)
