"""Authentication classes are accepted and ignored; SDK v1's exception idioms catch what Headwater raises."""

from __future__ import annotations

import importlib

import pytest

import headwater
from headwater import Workspace
from headwater.compat._loader import public_names
from headwater.compat.exceptions import SdkOnlyException
from headwater.errors import HeadwaterError

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_authentication_is_accepted_and_ignored_with_one_notice(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from azureml.core import Workspace as AzWorkspace
    from azureml.core.authentication import (
        AzureCliAuthentication,
        InteractiveLoginAuthentication,
        MsiAuthentication,
        ServicePrincipalAuthentication,
    )

    interactive = InteractiveLoginAuthentication(tenant_id="my-tenant", force=True)
    first = capsys.readouterr()
    assert "InteractiveLoginAuthentication is accepted and ignored" in first.err
    assert first.out == ""
    sp = ServicePrincipalAuthentication(tenant_id="t", service_principal_id="id", service_principal_password="secret")
    MsiAuthentication()
    AzureCliAuthentication()
    assert capsys.readouterr().err == ""  # once per process
    assert "secret" not in repr(sp) and vars(sp) == {}  # no secret is kept

    opened = AzWorkspace.get("test-ws", auth=sp, subscription_id="sub", resource_group="rg")
    assert opened.name == ws.name
    assert AzWorkspace(subscription_id="sub", resource_group="rg", workspace_name="test-ws", auth=interactive).name


def test_every_exception_name_is_an_exception_under_azuremlexception() -> None:
    exceptions = importlib.import_module("azureml.exceptions")
    assert exceptions.AzureMLException is HeadwaterError
    for name in public_names("azureml.exceptions"):
        cls = getattr(exceptions, name)
        assert issubclass(cls, BaseException), name
        assert issubclass(cls, exceptions.AzureMLException), name


def test_exceptions_headwater_raises_are_headwaters_own_classes() -> None:
    from azureml.core.compute_target import ComputeTargetException as FromComputeTarget
    from azureml.core.run import RunEnvironmentException
    from azureml.exceptions import ActivityFailedException, ComputeTargetException, UserErrorException

    assert ActivityFailedException is headwater.ActivityFailedException
    assert ComputeTargetException is FromComputeTarget is headwater.ComputeTargetException
    assert RunEnvironmentException is importlib.import_module("headwater.runtime.run").RunEnvironmentException
    assert UserErrorException is HeadwaterError


def test_sdk_only_exceptions_take_sdk_v1_arguments_and_are_never_headwater_errors_raised() -> None:
    from azureml.exceptions import (
        ActivityCanceledException,
        AuthenticationException,
        AzureMLException,
        ParallelRunException,
        WebserviceException,
    )

    with pytest.raises(AzureMLException):
        raise AuthenticationException("token expired")
    assert str(ActivityCanceledException(cancellation_source="user")) == "Activity Canceled"
    assert ParallelRunException("retry", code="Retry.NoRetry").code == "Retry.NoRetry"
    assert WebserviceException("down", status_code=503).status_code == 503
    # never the class of an error Headwater raises, so `except AuthenticationException:` catches nothing of ours
    assert not issubclass(headwater.NotFoundError, SdkOnlyException)
    assert not issubclass(headwater.ConfigurationError, SdkOnlyException)


def test_the_compute_target_idiom_of_sdk_v1(ws: Workspace) -> None:
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.core.compute_target import ComputeTargetException

    try:
        target = ComputeTarget(workspace=ws, name="cpu-cluster")
        created = False
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
        target = ComputeTarget.create(ws, "cpu-cluster", config)
        target.wait_for_completion(show_output=False)
        created = True
    assert created
    assert isinstance(ws.compute_targets["cpu-cluster"], AmlCompute)
    assert type(target) is AmlCompute


def test_the_workspace_and_dataset_idioms_of_sdk_v1(ws: Workspace) -> None:
    from azureml.core import Dataset, Workspace
    from azureml.exceptions import UserErrorException, WorkspaceException

    with pytest.raises(WorkspaceException):
        Workspace.get("no-such-workspace")
    with pytest.raises(UserErrorException, match="no-such-dataset"):
        Dataset.get_by_name(ws, "no-such-dataset")
