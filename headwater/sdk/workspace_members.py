"""The rest of SDK v1's ``Workspace`` members: local meanings where there are any, else NotSupportedError.

A workspace here is a folder, so what SDK v1 does to Azure resources either has a local meaning
(``delete`` removes the folder, ``update`` rewrites the tags and description kept in the
workspace file, ``sku`` is ``"basic"``) or raises :class:`~headwater.errors.NotSupportedError`
naming the member and saying what to do instead: keys, connections, private endpoints, linked
services, model/image/webservice registries, the Azure service context. ``Workspace`` inherits
these from :class:`WorkspaceMembers`; the core of the class is :mod:`headwater.sdk.workspace`.
"""

from __future__ import annotations

import json
import os

from headwater.errors import NotSupportedError

TYPE_CHECKING = False  # no `typing` import on Workspace.create's path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, NoReturn

    from headwater.sdk.compute import ComputeTarget
    from headwater.sdk.compute_config import AmlComputeProvisioningConfiguration

__all__ = ["WorkspaceMembers"]

_KEYS = "A workspace is a local folder: there are no storage, registry or Application Insights keys to list or sync."
_ENDPOINTS = "A workspace is a local folder: there is no network endpoint to configure."
_CONNECTIONS = "Workspace connections are an Azure feature: read credentials from environment variables instead."
_DEPLOY = "Model deployment is outside Headwater: keep model files as step outputs and serve them yourself."


def _not_supported(member: str, why_and_instead: str) -> NoReturn:
    raise NotSupportedError(f"Workspace.{member} is not supported by Headwater.", hint=why_and_instead)


class _DefaultClusterConfiguration:
    """SDK v1's ``Workspace.DEFAULT_CPU/GPU_CLUSTER_CONFIGURATION``, built on first access."""

    def __init__(self, vm_size: str) -> None:
        self._vm_size = vm_size

    def __get__(self, obj: object, owner: type | None = None) -> AmlComputeProvisioningConfiguration:
        from headwater.sdk.compute import AmlCompute

        return AmlCompute.provisioning_configuration(vm_size=self._vm_size, min_nodes=0, max_nodes=2)


class WorkspaceMembers:
    """SDK v1 ``Workspace`` members beyond the core (mixed into :class:`~headwater.sdk.workspace.Workspace`)."""

    DEFAULT_CPU_CLUSTER_NAME = "cpu-cluster"
    DEFAULT_GPU_CLUSTER_NAME = "gpu-cluster"
    DEFAULT_CPU_CLUSTER_CONFIGURATION = _DefaultClusterConfiguration("STANDARD_DS2_V2")
    DEFAULT_GPU_CLUSTER_CONFIGURATION = _DefaultClusterConfiguration("STANDARD_NC6")

    _name: str
    _folder: Path
    _info: dict[str, Any]
    _tags: dict[str, str]

    if TYPE_CHECKING:  # defined by Workspace

        def close(self) -> None: ...

    # -- local meanings ------------------------------------------------------------------------

    @property
    def sku(self) -> str:
        """``"basic"``: there are no editions of a local workspace."""
        return "basic"

    def get_default_compute_target(self, type: str) -> ComputeTarget | None:
        """SDK v1's default ``"CPU"``/``"GPU"`` cluster: the compute target named ``cpu-cluster``/``gpu-cluster``
        when there is one, else None (steps without a target run locally)."""
        from headwater.sdk.compute import ComputeTarget

        kind = str(type).upper()
        if kind not in ("CPU", "GPU"):
            from headwater.errors import ConfigurationError

            raise ConfigurationError(f"Unknown compute type {type!r}", key="type", hint="Use 'CPU' or 'GPU'.")
        name = self.DEFAULT_CPU_CLUSTER_NAME if kind == "CPU" else self.DEFAULT_GPU_CLUSTER_NAME
        return {t.name: t for t in ComputeTarget.list(self)}.get(name)  # type: ignore[arg-type]

    def update(
        self,
        friendly_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        image_build_compute: str | None = None,
        service_managed_resources_settings: object = None,
        primary_user_assigned_identity: str | None = None,
        allow_public_access_when_behind_vnet: bool | None = None,
        v1_legacy_mode: bool | None = None,
    ) -> None:
        """Record a new friendly name, description or tags in the workspace file (the Azure-only
        arguments are accepted and ignored)."""
        from headwater.layout import WORKSPACE_FILE

        changes = {"friendly_name": friendly_name, "description": description, "tags": tags}
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            return
        info_file = self._folder / WORKSPACE_FILE
        info = {**self._info, **changes}
        tmp = info_file.with_name(f".{info_file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, info_file)
        self._info = info
        if tags is not None:
            self._tags = dict(tags)

    def delete(self, delete_dependent_resources: bool = False, no_wait: bool = False) -> None:
        """Delete the workspace: its folder, with its metadata, datastores' local files, runs and logs.

        A workspace whose metadata is in PostgreSQL is not deleted (the database is shared
        infrastructure): drop its database yourself, then remove the folder.
        """
        if self._info.get("metadata_url"):
            _not_supported(
                "delete",
                f"Its metadata is in a PostgreSQL database: drop that database yourself, then remove {self._folder}.",
            )
        import shutil

        self.close()
        shutil.rmtree(self._folder)

    # -- cloud-only administration -------------------------------------------------------------

    def get_default_keyvault(self) -> NoReturn:
        _not_supported(
            "get_default_keyvault",
            "Headwater has no key vault: register datastores with headwater.secret_from_env('VAR') and read other "
            "secrets from environment variables.",
        )

    def get_mlflow_tracking_uri(self, _with_auth: bool = False) -> NoReturn:
        _not_supported(
            "get_mlflow_tracking_uri",
            "Metrics logged with run.log(...) are kept in the workspace: read them with run.get_metrics() or "
            "`headwater run show`.",
        )

    @property
    def service_context(self) -> NoReturn:
        _not_supported("service_context", "It is the Azure service's REST context; a local workspace has none.")

    @property
    def discovery_url(self) -> NoReturn:
        _not_supported("discovery_url", "It is the Azure service's discovery URL; a local workspace has none.")

    def list_keys(self) -> NoReturn:
        _not_supported("list_keys", _KEYS)

    def sync_keys(self, no_wait: bool = False) -> NoReturn:
        _not_supported("sync_keys", _KEYS)

    def update_dependencies(self, container_registry: object = None, force: bool = False) -> NoReturn:
        _not_supported("update_dependencies", "A local workspace has no Azure storage, registry or key vault.")

    def diagnose_workspace(self, diagnose_parameters: object) -> NoReturn:
        _not_supported("diagnose_workspace", "Run `headwater workspace check` to check a local workspace.")

    @property
    def private_endpoints(self) -> NoReturn:
        _not_supported("private_endpoints", _ENDPOINTS)

    def add_private_endpoint(
        self,
        private_endpoint_config: object,
        private_endpoint_auto_approval: bool = True,
        location: str | None = None,
        show_output: bool = True,
        tags: dict[str, str] | None = None,
    ) -> NoReturn:
        _not_supported("add_private_endpoint", _ENDPOINTS)

    def delete_private_endpoint_connection(self, private_endpoint_connection_name: str) -> NoReturn:
        _not_supported("delete_private_endpoint_connection", _ENDPOINTS)

    def set_connection(self, name: str, category: str, target: str, authType: str, value: str) -> NoReturn:
        _not_supported("set_connection", _CONNECTIONS)

    def get_connection(self, name: str) -> NoReturn:
        _not_supported("get_connection", _CONNECTIONS)

    def list_connections(self, category: str | None = None, target: str | None = None) -> NoReturn:
        _not_supported("list_connections", _CONNECTIONS)

    def delete_connection(self, name: str) -> NoReturn:
        _not_supported("delete_connection", _CONNECTIONS)

    @property
    def linked_services(self) -> NoReturn:
        _not_supported("linked_services", "Linked services (Synapse) are an Azure feature.")

    @property
    def models(self) -> dict[str, Any]:
        """The registered models by name, each its latest version (SDK v1: ``{name: Model}``)."""
        from headwater.sdk.model import Model

        models = Model.list(self, latest=True)  # type: ignore[arg-type]  # self is a Workspace (this is its mixin)
        return {str(m.name): m for m in models}

    @property
    def images(self) -> NoReturn:
        _not_supported("images", _DEPLOY)

    @property
    def webservices(self) -> NoReturn:
        _not_supported("webservices", _DEPLOY)

    @staticmethod
    def setup() -> NoReturn:
        _not_supported("setup", "Create a workspace with Workspace.create(name) or `headwater workspace create NAME`.")
