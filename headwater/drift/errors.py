"""The errors of drift computation: data that cannot be compared, a package that is missing."""

from __future__ import annotations

from headwater.errors import HeadwaterError

__all__ = ["DriftDataError", "MIN_ROWS", "require"]

MIN_ROWS = 50  # SDK v1: a baseline or target (period) with fewer rows is not compared
_INSTALL = "pip install 'headwater[drift]'"


class DriftDataError(HeadwaterError):
    """Baseline and target data that cannot be compared.

    ``side`` is ``'baseline'``, ``'target'`` or ``'both'``; ``count`` the number the message is about
    (rows of that side, or features left), when there is one.
    """

    def __init__(self, message: str, *, side: str, count: int | None = None, hint: str | None = None) -> None:
        self.side = side
        self.count = count
        super().__init__(message, hint=hint)


def require(module: str) -> None:
    """Import ``module`` (scipy, sklearn, matplotlib ...) or raise a :class:`HeadwaterError` naming the extra."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        package = {"sklearn": "scikit-learn"}.get(module, module)
        raise HeadwaterError(
            f"Data drift needs the package {package!r}, which is not installed ({exc}).",
            hint=f"Install Headwater's drift extra: {_INSTALL}",
        ) from exc
