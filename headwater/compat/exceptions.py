"""SDK v1 exception names that have no Headwater counterpart: real classes that Headwater never raises.

``azureml.exceptions`` maps a name onto Headwater's own error class where Headwater raises that
class in the situation SDK v1 raises the name (``ActivityFailedException``,
``ComputeTargetException``, ``RunEnvironmentException``; ``AzureMLException`` and
``UserErrorException`` are :class:`~headwater.errors.HeadwaterError`, the root; see
:data:`headwater.compat.names.MODULES`). The others are here. They must be real exception classes
(``except AuthenticationException:`` has to work), but mapping them onto a Headwater class would
make such a clause catch unrelated errors. So each is its own :class:`HeadwaterError` subclass
that Headwater never raises: catching one is harmless, and user code may raise them itself, with
SDK v1's constructor arguments. Stdlib only.
"""

from __future__ import annotations

from headwater.errors import HeadwaterError

__all__ = [
    "ActivityCanceledException",
    "AuthenticationException",
    "AzureMLAggregatedException",
    "DatasetTimestampMissingError",
    "DiscoveryUrlNotFoundException",
    "ExperimentExecutionException",
    "ModelNotFoundException",
    "ModelPathNotFoundException",
    "ParallelRunException",
    "ProjectSystemException",
    "SdkOnlyException",
    "ServiceException",
    "SnapshotException",
    "TrainingException",
    "WebserviceException",
    "WorkspacePrivateEndpointException",
]


class SdkOnlyException(HeadwaterError):
    """Base of the SDK v1 exception names Headwater never raises; takes SDK v1's ``(message, **kwargs)``."""

    def __init__(self, exception_message: str = "", **kwargs: object) -> None:
        super().__init__(exception_message, **kwargs)  # type: ignore[arg-type]  # SDK v1's keyword arguments


class ActivityCanceledException(SdkOnlyException):
    """SDK v1: a waited-for run was canceled. Headwater's ``wait_for_completion`` returns ``'Canceled'``."""

    def __init__(self, cancellation_source: str | None = None, **kwargs: object) -> None:
        super().__init__("Activity Canceled", **kwargs)
        self.cancellation_source = cancellation_source


class AuthenticationException(SdkOnlyException):
    """SDK v1: signing in to Azure failed. Headwater needs no sign-in."""


class AzureMLAggregatedException(SdkOnlyException):
    """SDK v1: several errors raised together (Azure service calls). Headwater raises its own errors one by one."""

    def __init__(self, exceptions_list: list[BaseException] | None = None, **kwargs: object) -> None:
        self.exceptions_list = list(exceptions_list or [])
        super().__init__("; ".join(str(e) for e in self.exceptions_list), **kwargs)


class ServiceException(SdkOnlyException):
    """SDK v1: an Azure service answered with an error. Headwater calls no Azure service."""

    def __init__(self, error_response_exception: object = None, **kwargs: object) -> None:
        self.error_response_exception = error_response_exception
        super().__init__("" if error_response_exception is None else str(error_response_exception), **kwargs)


class DatasetTimestampMissingError(SdkOnlyException):
    """SDK v1: a time-series dataset method without a timestamp column."""

    def __init__(self, error_details: object = "", **kwargs: object) -> None:
        self.error_details = error_details
        super().__init__(str(error_details), **kwargs)


class DiscoveryUrlNotFoundException(SdkOnlyException):
    """SDK v1: an Azure service URL could not be discovered."""

    def __init__(self, discovery_key: str = "", **kwargs: object) -> None:
        self.discovery_key = discovery_key
        super().__init__(f"The service URL for {discovery_key!r} was not found.", **kwargs)


class ExperimentExecutionException(SdkOnlyException):
    """SDK v1: configuring or submitting a run failed (Headwater raises its own, more specific errors)."""


class ModelNotFoundException(SdkOnlyException):
    """SDK v1: a registered model does not exist (Headwater has no model registry)."""

    def __init__(self, exception_message: str = "", logger: object = None, **kwargs: object) -> None:
        super().__init__(exception_message, **kwargs)


class ModelPathNotFoundException(SdkOnlyException):
    """SDK v1: model files to register were not found."""

    def __init__(self, exception_message: str = "", logger: object = None, **kwargs: object) -> None:
        super().__init__(exception_message, **kwargs)


class ParallelRunException(SdkOnlyException):
    """SDK v1: raised by a ParallelRunStep entry script to steer retries."""

    def __init__(
        self, exception_message: str = "", code: str | None = None, delay_seconds: float = 0, **kwargs: object
    ) -> None:
        super().__init__(exception_message, **kwargs)
        self.code = code
        self.delay_seconds = delay_seconds


class ProjectSystemException(SdkOnlyException):
    """SDK v1: reading the source directory or the project's scope failed."""


class SnapshotException(SdkOnlyException):
    """SDK v1: a snapshot over its size or file-count limit (Headwater has no such limit)."""


class TrainingException(SdkOnlyException):
    """SDK v1: configuring or updating a training run failed."""


class WebserviceException(SdkOnlyException):
    """SDK v1: a model-deployment request failed (Headwater does not deploy models)."""

    def __init__(
        self, exception_message: str = "", status_code: object = None, logger: object = None, **kwargs: object
    ) -> None:
        super().__init__(exception_message, **kwargs)
        self.status_code = status_code


class WorkspacePrivateEndpointException(SdkOnlyException):
    """SDK v1: a workspace private endpoint failed (a Headwater workspace is a local folder)."""

    def __init__(self, exception_message: str = "", found_multiple: bool = False, **kwargs: object) -> None:
        self.found_multiple = found_multiple
        super().__init__(exception_message, **kwargs)
