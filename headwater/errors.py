"""Headwater's exceptions: one root, one subclass per area.

Every message says *what* was wrong, *where* (a file, a key, a step, a path) and *what to do*::

    HeadwaterError                (SDK v1: AzureMLException, UserErrorException)
    ├── ConfigurationError        a config file, a setting, a workspace folder (SDK v1: RunConfigurationException)
    ├── WorkspaceException        (SDK v1 name) the base of NotFoundError, so ``except WorkspaceException`` catches it
    │   └── NotFoundError         a workspace, datastore, dataset (version), run ... that does not exist
    │       └── ComputeTargetException    (SDK v1 name) a compute target that does not exist
    ├── AlreadyExistsError        creating something whose name is taken
    ├── DataAccessError           reading or writing data: a bad row, a path escaping its root
    │   └── PathEscapeError       a datastore path that leaves the datastore's root
    ├── MetadataStoreError        the metadata database: unreachable, newer schema
    ├── GraphValidationError      a pipeline that cannot run (cycles, missing inputs ...)
    ├── EnvironmentBuildError     an environment that could not be built
    ├── StepFailedError           a step process failed
    │   └── ActivityFailedException   (SDK v1 name) what wait_for_completion raises
    └── NotSupportedError         an SDK v1 feature Headwater does not provide (says what to use)

Subclasses take structured fields and compose the message, so callers never format error text
by hand and tests can assert on fields. As the azureml layer serves these classes under SDK v1's
exception names, they also take SDK v1's constructor arguments (``exception_message``,
``inner_exception``, ``target``, ``details``, ``message_format``, ``message_parameters``,
``reference_code``, ``**kwargs``) and have its ``inner_exception`` and ``print_stacktrace()``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "HeadwaterError",
    "ConfigurationError",
    "WorkspaceException",
    "NotFoundError",
    "ComputeTargetException",
    "AlreadyExistsError",
    "DataAccessError",
    "PathEscapeError",
    "MetadataStoreError",
    "GraphValidationError",
    "EnvironmentBuildError",
    "StepFailedError",
    "ActivityFailedException",
    "NotSupportedError",
    "did_you_mean",
    "end_sentence",
]


def end_sentence(text: str) -> str:
    """``text`` ending with a full stop (unless it already ends a sentence), so a hint can follow it."""
    stripped = text.rstrip()
    if not stripped or stripped[-1] in ".!?":
        return stripped
    return stripped + "."


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return `` Did you mean 'x'?`` for the closest candidates, or ``""`` when none is close."""
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


class HeadwaterError(Exception):
    """The root of every error Headwater raises on purpose (SDK v1: ``AzureMLException``).

    ``HeadwaterError(message, hint=...)``; SDK v1's arguments are accepted too and kept:
    ``inner_exception`` (see :attr:`inner_exception`), ``target``, ``details``, ``reference_code``;
    ``message_format``/``message_parameters`` and other keyword arguments are accepted and ignored.
    """

    def __init__(
        self,
        exception_message: str = "",
        inner_exception: BaseException | None = None,
        target: str | None = None,
        details: object = None,
        message_format: str | None = None,
        message_parameters: dict[str, object] | None = None,
        reference_code: str | None = None,
        *,
        hint: str | None = None,
        **kwargs: object,
    ) -> None:
        message = str(exception_message)
        self.message = message
        self.hint = hint
        self._inner_exception = inner_exception
        self.error_target = target
        self.details = details
        self.reference_code = reference_code
        super().__init__(message if not hint else f"{end_sentence(message)} {hint}")

    @property
    def inner_exception(self) -> BaseException | None:
        """SDK v1: the exception this one wraps (the one passed as ``inner_exception``, else the ``raise ... from``)."""
        inner = getattr(self, "_inner_exception", None)
        return inner if inner is not None else self.__cause__

    def print_stacktrace(self) -> None:
        """SDK v1: print this exception's traceback (with the exceptions it wraps) to stderr."""
        import traceback

        traceback.print_exception(type(self), self, self.__traceback__)
        inner = self.inner_exception
        if inner is not None and inner is not self.__cause__:
            traceback.print_exception(type(inner), inner, inner.__traceback__)


class ConfigurationError(HeadwaterError):
    """A configuration file or setting is missing or malformed.

    ``path`` is the file, ``key`` the offending key (when one is to blame).
    """

    def __init__(
        self,
        exception_message: str = "",
        *,
        path: str | None = None,
        key: str | None = None,
        hint: str | None = None,
        **kwargs: object,
    ) -> None:
        self.path = path
        self.key = key
        where = []
        if path:
            where.append(f"in {path}")
        if key:
            where.append(f"key {key!r}")
        message = str(exception_message)
        text = message if not where else f"{message.rstrip().rstrip('.')} ({', '.join(where)})."
        super().__init__(text, hint=hint, **kwargs)  # type: ignore[arg-type]  # SDK v1's keyword arguments


class WorkspaceException(HeadwaterError):
    """SDK v1's ``WorkspaceException``, ``(exception_message, found_multiple=False, **kwargs)``.

    Headwater raises its subclass :class:`NotFoundError` when a workspace (or anything else) is not
    found, so SDK v1's ``except WorkspaceException:`` around ``Workspace.get`` still catches it.
    """

    def __init__(self, exception_message: str = "", found_multiple: bool = False, **kwargs: object) -> None:
        self.found_multiple = found_multiple
        super().__init__(exception_message, **kwargs)  # type: ignore[arg-type]  # SDK v1's keyword arguments


class NotFoundError(WorkspaceException):
    """A named thing does not exist; the message suggests close names."""

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        where: str | None = None,
        candidates: Iterable[str] = (),
        hint: str | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        cands = list(candidates)
        self.candidates = cands
        text = f"{kind} {name!r} does not exist"
        if where:
            text += f" in {where}"
        text += "."
        suggestion = did_you_mean(name, cands)
        if suggestion:
            text += suggestion
        elif cands:
            shown = ", ".join(repr(c) for c in sorted(cands)[:10])
            text += f" Known: {shown}."
        super().__init__(text, hint=hint)


class ComputeTargetException(NotFoundError):
    """SDK v1's ``azureml.core.compute_target.ComputeTargetException``: a compute target that does not exist.

    Headwater raises it as ``(kind, name, where=, candidates=, hint=)``; SDK v1 code raises it as
    ``(exception_message, **kwargs)`` (no ``name``): then the message is taken as it is.
    """

    def __init__(
        self,
        exception_message: str = "",
        name: str | None = None,
        *,
        where: str | None = None,
        candidates: Iterable[str] = (),
        hint: str | None = None,
        **kwargs: object,
    ) -> None:
        if name is not None:
            super().__init__(exception_message, name, where=where, candidates=candidates, hint=hint)
            return
        self.kind = "Compute target"
        self.name = ""
        self.candidates = []
        WorkspaceException.__init__(self, exception_message, hint=hint, **kwargs)  # type: ignore[arg-type]


class AlreadyExistsError(HeadwaterError):
    """Creating something whose name is already taken."""

    def __init__(self, kind: str, name: str, *, hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} already exists.", hint=hint)


class DataAccessError(HeadwaterError):
    """Reading or writing data failed; ``path`` names the file or location."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class PathEscapeError(DataAccessError):
    """A path that would leave its datastore's (or snapshot's) root."""

    def __init__(self, path: str, root: str, *, datastore: str | None = None) -> None:
        self.root = root
        self.datastore = datastore
        owner = f"datastore {datastore!r}" if datastore else "its root"
        super().__init__(
            f"Path {path!r} escapes {owner} ({root}).",
            path=path,
            hint="Use a relative path inside the datastore, without '..' or symlinks that lead out.",
        )


class MetadataStoreError(HeadwaterError):
    """The metadata database cannot be used (unreachable, newer schema, corrupt)."""


class GraphValidationError(HeadwaterError):
    """A pipeline that cannot run; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[str], *, what: str = "pipeline") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"The {what} is not valid ({len(self.problems)} problem(s)):\n{lines}")


class EnvironmentBuildError(HeadwaterError):
    """An environment could not be built or is not satisfied."""


class StepFailedError(HeadwaterError):
    """A step process failed."""


class ActivityFailedException(StepFailedError):
    """SDK v1's ``azureml.exceptions.ActivityFailedException``: raised by ``wait_for_completion``.

    ``error_details`` is the failure's text, or SDK v1's error dict (its ``message`` is the text).
    """

    def __init__(self, error_details: object = "", **kwargs: object) -> None:
        self.error_details = error_details
        text = error_details.get("message", error_details) if isinstance(error_details, dict) else error_details
        super().__init__(str(text), **kwargs)  # type: ignore[arg-type]  # SDK v1's keyword arguments


class NotSupportedError(HeadwaterError):
    """An SDK v1 feature that Headwater does not provide; the message says what to use instead."""
