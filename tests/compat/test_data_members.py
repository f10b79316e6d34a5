"""DataReference.to_config, the storage datastores' is_sas, DataType.to_float's SDK v1 decimal mark."""

from __future__ import annotations

import inspect

import pytest

from headwater import Workspace
from headwater.errors import ConfigurationError, NotSupportedError

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_data_reference_to_config(ws: Workspace) -> None:
    from azureml.core import Datastore
    from azureml.core.runconfig import DataReferenceConfiguration
    from azureml.data.data_reference import DataReference

    datastore = Datastore.get(ws, "workspaceblobstore")
    ref = DataReference(datastore, data_reference_name="raw", path_on_datastore="data/raw", mode="download")
    config = ref.to_config()
    assert isinstance(config, DataReferenceConfiguration)
    assert (config.data_store_name, config.mode, config.path_on_data_store, config.overwrite) == (
        "workspaceblobstore",
        "download",
        "data/raw",
        False,
    )


def test_is_sas_says_which_credential_is_registered(ws: Workspace) -> None:
    from azureml.core import Datastore

    sas = Datastore.register_azure_blob_container(
        ws, "sas", "data", "acct", sas_token="sv=2020&sig=hwDummy", skip_validation=True
    )
    key = Datastore.register_azure_blob_container(ws, "key", "data", "acct", account_key="a2V5", skip_validation=True)
    assert (sas.is_sas, key.is_sas, Datastore.get(ws, "workspaceblobstore").is_sas) == (True, False, False)


def test_to_float_takes_sdk_v1_decimal_marks() -> None:
    from azureml.data import DataType

    assert inspect.signature(DataType.to_float).parameters["decimal_mark"].default == "."
    assert DataType.to_float(".") == DataType.to_float() == "float"
    with pytest.raises(NotSupportedError, match="to_string"):
        DataType.to_float(",")


def test_datastore_constructors_take_sdk_v1_settings_and_check_them(ws: Workspace) -> None:
    from azureml.core import Datastore
    from azureml.data.abstract_datastore import AbstractDatastore
    from azureml.data.azure_storage_datastore import AzureBlobDatastore, AzureFileDatastore

    Datastore.register_azure_blob_container(ws, "raw", "data", "acct", account_key="a2V5", skip_validation=True)
    blob = AzureBlobDatastore(ws, "raw", "data", "acct", account_key="a2V5", protocol="https")
    assert (blob.name, blob.container_name) == ("raw", "data")
    assert AbstractDatastore(ws, "raw", "AzureBlob").name == "raw"
    with pytest.raises(ConfigurationError, match="container_name='data', not 'other'"):
        AzureBlobDatastore(ws, "raw", container_name="other", account_name="acct")
    with pytest.raises(ConfigurationError, match="datastore_type"):
        AbstractDatastore(ws, "raw", "AzureFile")
    assert AzureFileDatastore(ws, "workspacefilestore").name == "workspacefilestore"


def test_promote_headers_behavior_shows_sdk_v1_call_signature() -> None:
    from azureml.data.dataset_type_definitions import PromoteHeadersBehavior

    params = inspect.signature(PromoteHeadersBehavior).parameters.values()
    assert [(p.name, p.kind) for p in params] == [
        ("args", inspect.Parameter.VAR_POSITIONAL),
        ("kwds", inspect.Parameter.VAR_KEYWORD),
    ]
    assert PromoteHeadersBehavior(0) is PromoteHeadersBehavior.NO_HEADERS
