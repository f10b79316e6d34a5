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
        super().__init__(exception_message)


class ActivityCanceledException(SdkOnlyException):
    """SDK v1: a waited-for run was canceled. Headwater's ``wait_for_completion`` returns ``'Canceled'``."""

    def __init__(self, cancellation_source: str | None = None, **kwargs: object) -> None:
        super().__init__("Activity Canceled")
        self.cancellation_source = cancellation_source


class AuthenticationException(SdkOnlyException):
    """SDK v1: signing in to Azure failed. Headwater needs no sign-in."""


class AzureMLAggregatedException(SdkOnlyException):
    """SDK v1: several errors raised together (Azure service calls). Headwater raises its own errors one by one."""


class ServiceException(SdkOnlyException):
    """SDK v1: an Azure service answered with an error. Headwater calls no Azure service."""


class DatasetTimestampMissingError(SdkOnlyException):
    """SDK v1: a time-series dataset method without a timestamp column."""


class DiscoveryUrlNotFoundException(SdkOnlyException):
    """SDK v1: an Azure service URL could not be discovered."""


class ExperimentExecutionException(SdkOnlyException):
    """SDK v1: configuring or submitting a run failed (Headwater raises its own, more specific errors)."""


class ModelNotFoundException(SdkOnlyException):
    """SDK v1: a registered model does not exist (Headwater has no model registry)."""


class ModelPathNotFoundException(SdkOnlyException):
    """SDK v1: model files to register were not found."""


class ParallelRunException(SdkOnlyException):
    """SDK v1: raised by a ParallelRunStep entry script to steer retries."""

    def __init__(
        self, exception_message: str = "", code: str | None = None, delay_seconds: float = 0, **kwargs: object
    ) -> None:
        super().__init__(exception_message)
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
        super().__init__(exception_message)
        self.status_code = status_code


class WorkspacePrivateEndpointException(SdkOnlyException):
    """SDK v1: a workspace private endpoint failed (a Headwater workspace is a local folder)."""
