"""SDK v1's plain configuration holders that carry data but need no Azure service.

``azureml.core.container_registry.ContainerRegistry`` / ``RegistryIdentity`` (the registry of a
Docker base image: ``env.docker.base_image_registry``) and
``azureml.core.resource_configuration.ResourceConfiguration`` (CPU / memory / GPU of a model
deployment), and the data entries of SDK v1's run configuration (``azureml.core.runconfig``'s
``DataPath`` and ``Dataset``). Headwater builds no images and deploys no models, so it keeps what code sets on
them and never acts on it; the classes exist so that code building them runs unchanged. The
registry's password is held in memory only: nothing here writes it anywhere. Stdlib only (the
shim serves them to steps on any Python).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ContainerRegistry",
    "RegistryIdentity",
    "ResourceConfiguration",
    "RunConfigDataPath",
    "RunConfigDataset",
]


class RegistryIdentity:
    """The managed identity a registry is pulled with (SDK v1: ``resource_id``, ``client_id``); recorded only."""

    def __init__(self) -> None:
        self.resource_id: str | None = None
        self.client_id: str | None = None

    def __repr__(self) -> str:
        return f"RegistryIdentity(resource_id={self.resource_id!r}, client_id={self.client_id!r})"


class ContainerRegistry:
    """A container registry's address and credentials (SDK v1: attributes set after construction); recorded only."""

    def __init__(self) -> None:
        self.address: str | None = None
        self.username: str | None = None
        self.password: str | None = None
        self.registry_identity: RegistryIdentity | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"ContainerRegistry(address={self.address!r}, username={self.username!r})"


class ResourceConfiguration:
    """CPU cores, memory (GB) and GPUs for a deployed model (SDK v1); recorded only."""

    def __init__(self, cpu: float | None = None, memory_in_gb: float | None = None, gpu: int | None = None) -> None:
        self.cpu = cpu
        self.memory_in_gb = memory_in_gb
        self.gpu = gpu

    def serialize(self) -> dict[str, Any]:
        """SDK v1's JSON form: ``{'cpu': ..., 'memoryInGB': ..., 'gpu': ...}``."""
        return {"cpu": self.cpu, "memoryInGB": self.memory_in_gb, "gpu": self.gpu}

    @staticmethod
    def deserialize(payload_obj: dict[str, Any] | None) -> ResourceConfiguration | None:
        """The configuration a :meth:`serialize` dict describes (None for None); every key must be there."""
        if payload_obj is None:
            return None
        missing = [key for key in ("cpu", "memoryInGB", "gpu") if key not in payload_obj]
        if missing:
            from headwater.errors import ConfigurationError

            raise ConfigurationError(
                f"ResourceConfiguration.deserialize: the payload lacks {', '.join(map(repr, missing))}",
                hint="Pass a dict with the keys 'cpu', 'memoryInGB' and 'gpu' (ResourceConfiguration.serialize()).",
            )
        return ResourceConfiguration(payload_obj["cpu"], payload_obj["memoryInGB"], payload_obj["gpu"])

    def __repr__(self) -> str:
        return f"ResourceConfiguration(cpu={self.cpu!r}, memory_in_gb={self.memory_in_gb!r}, gpu={self.gpu!r})"


class RunConfigDataPath:
    """``azureml.core.runconfig.DataPath``: a datastore name and a path in it (a run configuration's data section)."""

    def __init__(self, datastore_name: str | None = None, relative_path: str | None = None) -> None:
        self.datastore_name = datastore_name
        self.relative_path = relative_path

    def __repr__(self) -> str:
        return f"DataPath(datastore_name={self.datastore_name!r}, relative_path={self.relative_path!r})"


class RunConfigDataset:
    """``azureml.core.runconfig.Dataset``: a dataset named by id, or name and version (a run configuration's data)."""

    def __init__(
        self, dataset_id: str | None = None, dataset_name: str | None = None, dataset_version: str | None = None
    ) -> None:
        # SDK v1 keeps them as ``id``, ``name`` and ``version``; the constructor's names read too.
        self.id = dataset_id
        self.name = dataset_name
        self.version = dataset_version

    @property
    def dataset_id(self) -> str | None:
        return self.id

    @property
    def dataset_name(self) -> str | None:
        return self.name

    @property
    def dataset_version(self) -> str | None:
        return self.version

    def __repr__(self) -> str:
        return f"Dataset(dataset_id={self.id!r}, dataset_name={self.name!r}, dataset_version={self.version!r})"
