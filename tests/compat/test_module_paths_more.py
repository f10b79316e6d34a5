"""SDK v1 module paths that raised ImportError: container registries, resource configurations, ADLS, SQL."""

from __future__ import annotations

import pytest

from headwater.errors import NotSupportedError

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_container_registry_is_a_plain_holder_set_after_construction() -> None:
    from azureml.core import ContainerRegistry as FromCore
    from azureml.core.container_registry import ContainerRegistry, RegistryIdentity

    registry = ContainerRegistry()
    registry.address = "myregistry.azurecr.io"
    registry.username = "me"
    registry.password = "secret"
    identity = RegistryIdentity()
    identity.client_id = "abc"
    registry.registry_identity = identity
    assert FromCore is ContainerRegistry
    assert (registry.address, registry.registry_identity.client_id, identity.resource_id) == (
        "myregistry.azurecr.io",
        "abc",
        None,
    )
    assert "secret" not in repr(registry)


def test_environment_module_re_exports_the_same_container_registry() -> None:
    from azureml.core.container_registry import ContainerRegistry
    from azureml.core.environment import ContainerRegistry as FromEnvironment

    assert FromEnvironment is ContainerRegistry


def test_resource_configuration_round_trips_sdk_v1_json() -> None:
    from azureml.core.resource_configuration import ResourceConfiguration

    config = ResourceConfiguration(cpu=1, memory_in_gb=0.5)
    assert config.serialize() == {"cpu": 1, "memoryInGB": 0.5, "gpu": None}
    back = ResourceConfiguration.deserialize(config.serialize())
    assert (back.cpu, back.memory_in_gb, back.gpu) == (1, 0.5, None)
    assert ResourceConfiguration.deserialize(None) is None
    with pytest.raises(Exception, match="memoryInGB"):
        ResourceConfiguration.deserialize({"cpu": 1, "gpu": 0})


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("azureml.data.azure_data_lake_datastore", "AzureDataLakeDatastore"),
        ("azureml.data.azure_data_lake_datastore", "AzureDataLakeGen2Datastore"),
        ("azureml.data.azure_data_lake_datastore", "AbstractADLSDatastore"),
        ("azureml.data.azure_sql_database_datastore", "AzureSqlDatabaseDatastore"),
    ],
)
def test_adls_and_sql_datastore_classes_import_and_say_what_to_do(module: str, name: str) -> None:
    import importlib

    cls = getattr(importlib.import_module(module), name)
    assert isinstance(object(), cls) is False  # isinstance checks in user code keep working
    with pytest.raises(NotSupportedError, match=name) as raised:
        cls(None, "store")
    assert "blob" in str(raised.value).lower() or "Dataset.Tabular" in str(raised.value)


def test_the_datastore_modules_re_export_abstract_datastore() -> None:
    from azureml.data.abstract_datastore import AbstractDatastore
    from azureml.data.azure_data_lake_datastore import AbstractDatastore as FromAdls
    from azureml.data.azure_sql_database_datastore import AbstractDatastore as FromSql

    assert FromAdls is AbstractDatastore is FromSql
