"""SDK v1 exceptions: its constructor arguments, inner_exception and print_stacktrace, on Headwater's classes."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import headwater
from headwater import Workspace
from headwater.errors import HeadwaterError

pytestmark = pytest.mark.usefixtures("azureml_on")

SNAPSHOT = Path(__file__).with_name("sdk_v1_snapshot.json")


def _sdk_exception_names() -> list[str]:
    names = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["modules"]["azureml.exceptions"]
    return sorted(n for n, what in names.items() if what.startswith("class "))


def test_azureml_exception_takes_sdk_v1_arguments_and_keeps_the_inner_exception() -> None:
    from azureml.exceptions import AzureMLException

    cause = KeyError("k")
    error = AzureMLException(
        "it broke", inner_exception=cause, target="workspace", details=["d"], reference_code="R1", extra=1
    )
    assert isinstance(error, HeadwaterError)
    assert (str(error), error.inner_exception, error.details, error.reference_code) == ("it broke", cause, ["d"], "R1")


def test_inner_exception_is_the_cause_of_a_headwater_error(ws: Workspace) -> None:
    from azureml.core import Datastore

    try:
        try:
            raise OSError("disk")
        except OSError as exc:
            raise headwater.DataAccessError("could not read", path="x") from exc
    except HeadwaterError as error:
        assert isinstance(error.inner_exception, OSError)
    with pytest.raises(HeadwaterError) as raised:
        Datastore.get(ws, "nope")
    assert raised.value.inner_exception is None


@pytest.mark.parametrize("name", _sdk_exception_names())
def test_every_sdk_v1_exception_prints_its_stacktrace(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    exceptions = importlib.import_module("azureml.exceptions")
    cls = getattr(exceptions, name)
    try:
        raise cls("boom") if name != "AzureMLAggregatedException" else cls([ValueError("boom")])
    except cls as error:
        assert isinstance(error, HeadwaterError)
        error.print_stacktrace()
        assert error.inner_exception is None
    err = capsys.readouterr().err
    assert "Traceback" in err and "boom" in err


def test_sdk_v1_specific_constructor_arguments() -> None:
    from azureml.exceptions import (
        ActivityFailedException,
        AzureMLAggregatedException,
        ComputeTargetException,
        DiscoveryUrlNotFoundException,
        ModelNotFoundException,
        RunConfigurationException,
        ServiceException,
        UserErrorException,
        WorkspaceException,
        WorkspacePrivateEndpointException,
    )

    failed = ActivityFailedException(error_details={"message": "step failed", "code": "UserError"})
    assert str(failed) == "step failed" and failed.error_details["code"] == "UserError"
    assert isinstance(failed, headwater.StepFailedError)
    aggregated = AzureMLAggregatedException([ValueError("a"), KeyError("b")])
    assert len(aggregated.exceptions_list) == 2 and "a" in str(aggregated)
    assert ServiceException(RuntimeError("503")).error_response_exception.args == ("503",)
    assert "blob" in str(DiscoveryUrlNotFoundException("blob"))
    assert str(ModelNotFoundException("no model", logger=None)) == "no model"
    assert WorkspaceException("two found", found_multiple=True).found_multiple is True
    assert WorkspacePrivateEndpointException("pe", found_multiple=True).found_multiple is True
    assert str(ComputeTargetException("ComputeTargetNotFound: cpu")) == "ComputeTargetNotFound: cpu"
    assert str(RunConfigurationException("bad config", inner_exception=None)) == "bad config"
    assert str(UserErrorException("user error")) == "user error"


def test_catching_keeps_todays_relations(ws: Workspace) -> None:
    from azureml.core import Workspace as SdkWorkspace
    from azureml.core.compute import ComputeTarget
    from azureml.exceptions import (
        AzureMLException,
        ComputeTargetException,
        RunConfigurationException,
        UserErrorException,
        WorkspaceException,
    )

    with pytest.raises(WorkspaceException):
        SdkWorkspace.get("no-such-workspace")
    with pytest.raises(ComputeTargetException) as raised:
        ComputeTarget(ws, "nope")
    assert isinstance(raised.value, headwater.NotFoundError) and raised.value.name == "nope"
    assert issubclass(headwater.NotFoundError, WorkspaceException)
    assert issubclass(headwater.ConfigurationError, RunConfigurationException)
    assert AzureMLException is UserErrorException is HeadwaterError
    assert issubclass(WorkspaceException, HeadwaterError)
