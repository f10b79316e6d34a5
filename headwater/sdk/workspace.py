"""``Workspace``: a folder holding the metadata store, the default datastores, snapshots and runs.

Follows SDK v1's ``azureml.core.Workspace`` (signatures and defaults); Azure-only arguments are
accepted and ignored. Headwater's own options are keyword-only at the end (``folder``,
``metadata_url``).
"""

from __future__ import annotations

import builtins
import json
import os
import sys
from pathlib import Path

from headwater.errors import AlreadyExistsError, ConfigurationError, NotFoundError
from headwater.home import validate_name, workspaces_root
from headwater.layout import WORKSPACE_FILE, WorkspaceLayout
from headwater.sdk.workspace_create import (
    BUILTIN_DATASTORES,
    DEFAULT_DATASTORE,
    DEFAULT_DATASTORE_KEY,
    build_atomically,
    check_target_folder,
    first_records,
    init_store,
    write_json_atomic,
)
from headwater.sdk.workspace_members import WorkspaceMembers
from headwater.store.new_sqlite import create_sqlite_database, sqlite_url
from headwater.store.values import utcnow

# Creating a workspace imports this module and little else (tests/sdk/test_workspace_new.py):
# the metadata store (its query modules, records, dataclasses) and `typing` are imported on use.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from headwater.runtime.context import WorkspaceRef
    from headwater.sdk.compute import ComputeTarget
    from headwater.sdk.dataset import AbstractDataset
    from headwater.sdk.datastore import Datastore
    from headwater.sdk.environment import Environment
    from headwater.sdk.experiment import Experiment
    from headwater.store.metadata import MetadataStore

__all__ = ["Workspace", "WORKSPACE_FILE", "DEFAULT_DATASTORE", "DEFAULT_DATASTORE_KEY", "BUILTIN_DATASTORES"]


class Workspace(WorkspaceMembers):
    """A Headwater workspace (SDK v1: ``azureml.core.Workspace``).

    ``Workspace(subscription_id, resource_group, workspace_name)`` opens an existing workspace by
    name, as SDK v1's constructor does; :meth:`create`, :meth:`get` and :meth:`from_config` are the
    usual ways in.
    """

    def __init__(
        self,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: object = None,
        _location: str | None = None,
        _disable_service_check: bool = False,
        _workspace_id: str | None = None,
        sku: str = "basic",
        tags: dict[str, str] | None = None,
        _cloud: str = "AzureCloud",
        *,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        if workspace_name is None:
            raise ConfigurationError(
                "Workspace() needs workspace_name",
                hint="Use Workspace.get(name), Workspace.from_config() or Workspace.create(name).",
            )
        validate_name("workspace", workspace_name)
        root = Path(folder).expanduser().resolve() if folder is not None else workspaces_root() / workspace_name
        info_file = root / WORKSPACE_FILE
        if not info_file.is_file():
            known = Workspace._known_names()
            raise NotFoundError(
                "Workspace",
                workspace_name,
                where=str(root.parent),
                candidates=known,
                hint=f"Create it with Workspace.create({workspace_name!r}) or `headwater workspace create "
                f"{workspace_name}`.",
            )
        info = Workspace._read_info(info_file)
        if info.get("name") != workspace_name:
            raise ConfigurationError(
                f"The folder holds workspace {info.get('name')!r}, not {workspace_name!r}",
                path=str(info_file),
                key="name",
            )
        self._name = workspace_name
        self._folder = root
        self._info = info
        self._subscription_id = subscription_id or info.get("subscription_id")
        self._resource_group = resource_group or info.get("resource_group")
        self._tags = dict(tags or info.get("tags") or {})
        self._store: MetadataStore | None = None

    # -- construction --------------------------------------------------------------------------

    @staticmethod
    def create(
        name: str,
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        create_resource_group: bool = True,
        sku: str = "basic",
        tags: dict[str, str] | None = None,
        friendly_name: str | None = None,
        storage_account: str | None = None,
        key_vault: str | None = None,
        app_insights: str | None = None,
        container_registry: str | None = None,
        adb_workspace: str | None = None,
        primary_user_assigned_identity: str | None = None,
        cmk_keyvault: str | None = None,
        resource_cmk_uri: str | None = None,
        hbi_workspace: bool = False,
        default_cpu_compute_target: object = None,
        default_gpu_compute_target: object = None,
        private_endpoint_config: object = None,
        private_endpoint_auto_approval: bool = True,
        exist_ok: bool = False,
        show_output: bool = True,
        user_assigned_identity_for_cmk_encryption: str | None = None,
        system_datastores_auth_mode: str = "accessKey",
        v1_legacy_mode: bool | None = None,
        *,
        folder: str | os.PathLike[str] | None = None,
        metadata_url: str | None = None,
        strict_python: bool = False,
    ) -> Workspace:
        """Create a workspace (SDK v1 signature; Azure-only arguments are ignored).

        ``folder`` puts it somewhere other than ``$HEADWATER_HOME/workspaces/<name>``;
        ``metadata_url`` keeps its metadata in PostgreSQL instead of the embedded SQLite file.
        With ``exist_ok=True`` an existing workspace is returned.
        """
        ws, _created = Workspace._create(
            name,
            subscription_id=subscription_id,
            resource_group=resource_group,
            exist_ok=exist_ok,
            folder=folder,
            metadata_url=metadata_url,
            strict_python=strict_python,
        )
        return ws

    @staticmethod
    def _create(
        name: str,
        *,
        subscription_id: str | None,
        resource_group: str | None,
        exist_ok: bool,
        folder: str | os.PathLike[str] | None,
        metadata_url: str | None,
        strict_python: bool = False,
    ) -> tuple[Workspace, bool]:
        """:meth:`create`; also says whether this call created the workspace (False: it existed).

        The workspace is built in a temporary folder and renamed into place
        (:mod:`headwater.sdk.workspace_create`), so racing creates all end with the same complete
        workspace and a killed create leaves nothing in the way of the next.
        """
        validate_name("workspace", name)
        root = Path(folder).expanduser().resolve() if folder is not None else workspaces_root() / name

        def existing() -> tuple[Workspace, bool]:
            if not exist_ok:
                raise AlreadyExistsError("Workspace", name, hint=f"It is at {root}; pass exist_ok=True to use it.")
            return Workspace(subscription_id, resource_group, name, folder=root), False

        if (root / WORKSPACE_FILE).is_file():
            return existing()
        check_target_folder(root, name, WORKSPACE_FILE)
        info: dict[str, Any] = {"name": name, "created_at": utcnow(), "format": 1}
        if subscription_id:
            info["subscription_id"] = subscription_id
        if resource_group:
            info["resource_group"] = resource_group
        if metadata_url:
            info["metadata_url"] = metadata_url
        if strict_python:
            info["strict_python"] = True
        meta, datastores = first_records(name)

        def build(tmp: Path) -> None:
            layout = WorkspaceLayout(tmp)
            # A new SQLite file is written in one go; PostgreSQL (or a stale DDL file) goes through the store.
            if metadata_url or not create_sqlite_database(layout.metadata_db, meta=meta, datastores=datastores):
                init_store(metadata_url or sqlite_url(layout.metadata_db), name)
            for ds_name in BUILTIN_DATASTORES:
                layout.datastore(ds_name).mkdir(parents=True, exist_ok=True)
            # Written last (only a complete workspace is "found") and flushed: build_atomically
            # flushes the folder's entries before renaming it into place, and the parent's after.
            write_json_atomic(tmp / WORKSPACE_FILE, info, durable=True)

        if not build_atomically(root, name, WORKSPACE_FILE, build):
            return existing()  # another process created it meanwhile
        return Workspace(subscription_id, resource_group, name, folder=root), True

    @staticmethod
    def get(
        name: str,
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str = "AzureCloud",
        id: str | None = None,
        *,
        folder: str | os.PathLike[str] | None = None,
    ) -> Workspace:
        """Open an existing workspace by name; the error lists close names when it is missing."""
        return Workspace(subscription_id, resource_group, name, folder=folder)

    @staticmethod
    def from_config(
        path: str | os.PathLike[str] | None = None,
        auth: object = None,
        _logger: object = None,
        _file_name: str | None = None,
    ) -> Workspace:
        """Open the workspace named in a ``config.json`` found as SDK v1 finds it.

        The search starts at ``path`` (a folder or the file itself; default: the current folder)
        and goes upward, looking in ``.azureml/``, ``aml_config/`` and the folder itself. Azure's
        file format is accepted as is. A workspace named there that does not exist yet is created,
        with an info line saying so.
        """
        from headwater.config import find_config, load_config

        file = find_config(path, _file_name)
        cfg = load_config(file)
        root = cfg.folder if cfg.folder is not None else workspaces_root() / cfg.workspace_name
        if (root / WORKSPACE_FILE).is_file():
            return Workspace(cfg.subscription_id, cfg.resource_group, cfg.workspace_name, folder=root)
        ws, created = Workspace._create(
            cfg.workspace_name,
            subscription_id=cfg.subscription_id,
            resource_group=cfg.resource_group,
            exist_ok=True,  # another process reading the same config may create it first
            folder=root,
            metadata_url=cfg.metadata_url,
        )
        if not created:
            return ws
        print(
            f"Headwater: created workspace {cfg.workspace_name!r} at {root} (named in {file}).",
            file=sys.stderr,
        )
        return ws

    @staticmethod
    def list(
        subscription_id: str | None = None, auth: object = None, resource_group: str | None = None
    ) -> dict[str, builtins.list[Workspace]]:
        """Workspaces under ``$HEADWATER_HOME/workspaces``, as SDK v1's ``{name: [Workspace]}``."""
        return {name: [Workspace.get(name)] for name in Workspace._known_names()}

    @staticmethod
    def _known_names() -> builtins.list[str]:
        root = workspaces_root()
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / WORKSPACE_FILE).is_file())

    @staticmethod
    def _read_info(info_file: Path) -> dict[str, Any]:
        try:
            data = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(
                f"The workspace file is unreadable: {exc}",
                path=str(info_file),
                hint="Restore it from a backup, or recreate the workspace.",
            ) from exc
        if not isinstance(data, dict) or "name" not in data:
            raise ConfigurationError("The workspace file has no workspace name", path=str(info_file), key="name")
        return data

    def write_config(self, path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> Path:
        """Write ``.azureml/config.json`` (SDK v1 format plus ``folder`` when not the default)."""
        base = Path(path) if path is not None else Path.cwd()
        target = base / ".azureml" / (file_name or "config.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "subscription_id": self._subscription_id or "",
            "resource_group": self._resource_group or "",
            "workspace_name": self._name,
        }
        if self._folder != workspaces_root() / self._name:
            data["folder"] = str(self._folder)
        if self._info.get("metadata_url"):
            data["metadata_url"] = self._info["metadata_url"]
        write_json_atomic(target, data)
        return target

    # -- the store -----------------------------------------------------------------------------

    @property
    def metadata_store(self) -> MetadataStore:
        """The workspace's metadata store: runs, datastores, datasets, environments, compute targets.

        Headwater's own (SDK v1 has no such attribute): the handle the SDK, the CLI and the data
        layer read and write the workspace's records through. Opened on first use and kept until
        :meth:`close` (or the ``with`` block ending, or the Workspace being garbage-collected);
        after ``close()`` the next use opens a new connection, so keep the Workspace, not the store.
        """
        if self._store is None:
            import weakref

            from headwater.store.metadata import MetadataStore

            self._store = MetadataStore.open(self._store_url())
            # SDK v1 code never closes a Workspace: close the connection when the object goes away.
            self._finalizer = weakref.finalize(self, self._store.close)
        return self._store

    def _store_url(self) -> str:
        """The metadata store's URL (with any password), without opening it."""
        return str(self._info.get("metadata_url") or sqlite_url(WorkspaceLayout(self._folder).metadata_db))

    def _ref(self) -> WorkspaceRef:
        """What another process needs to open this workspace (the engine's view of it)."""
        from headwater.runtime.context import WorkspaceRef

        return WorkspaceRef(
            name=self._name,
            folder=str(self._folder),
            metadata_url=self.metadata_store.url,
            subscription_id=self._subscription_id or "",
            resource_group=self._resource_group or "",
            strict_python=self.strict_python,
        )

    def close(self) -> None:
        """Close the metadata connection (reopened on next use)."""
        if self._store is not None:
            self._finalizer()
            self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- properties ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def folder(self) -> Path:
        """Where the workspace lives (a Headwater addition)."""
        return self._folder

    @property
    def metadata_url(self) -> str:
        """The metadata store's URL, password redacted (a Headwater addition)."""
        return self.metadata_store.redacted_url

    @property
    def strict_python(self) -> bool:
        """Whether an environment asking for a Python version this machine lacks is an error
        (``Workspace.create(..., strict_python=True)``), instead of a build with the closest one."""
        return bool(self._info.get("strict_python", False))

    @property
    def subscription_id(self) -> str | None:
        return self._subscription_id

    @property
    def resource_group(self) -> str | None:
        return self._resource_group

    @property
    def location(self) -> str:
        return "local"

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    @property
    def datastores(self) -> dict[str, Datastore]:
        """Every registered datastore by name."""
        from headwater.sdk.datastore import Datastore

        return {r.name: Datastore._from_record(self, r) for r in self.metadata_store.list_datastores()}

    def get_default_datastore(self) -> Datastore:
        """The default datastore (``workspaceblobstore`` unless changed)."""
        from headwater.sdk.datastore import Datastore

        name = self.metadata_store.get_meta(DEFAULT_DATASTORE_KEY) or DEFAULT_DATASTORE
        return Datastore.get(self, name)

    def set_default_datastore(self, name: str) -> None:
        """Make ``name`` the default datastore; an unknown name raises, suggesting close ones."""
        if self.metadata_store.get_datastore(name) is None:
            raise NotFoundError(
                "Datastore",
                name,
                where=f"workspace {self._name!r}",
                candidates=[r.name for r in self.metadata_store.list_datastores()],
            )
        self.metadata_store.set_meta(DEFAULT_DATASTORE_KEY, name)

    @property
    def datasets(self) -> dict[str, AbstractDataset]:
        """The latest version of every registered dataset by name."""
        from headwater.sdk.dataset import Dataset

        return {r.name: Dataset._from_record(self, r) for r in self.metadata_store.list_datasets() if r.name}

    @property
    def compute_targets(self) -> dict[str, ComputeTarget]:
        """Compute targets by name (``local`` is implicit and not listed, as in SDK v1)."""
        from headwater.sdk.compute import ComputeTarget

        return {t.name: t for t in ComputeTarget.list(self)}

    @property
    def environments(self) -> dict[str, Environment]:
        """Registered environments (latest versions) by name; curated ones are not listed here."""
        from headwater.sdk.environment import Environment

        return {r.name: Environment._from_record(r) for r in self.metadata_store.list_environments()}

    @property
    def experiments(self) -> dict[str, Experiment]:
        """Experiments by name, as SDK v1's ``{name: Experiment}``."""
        from headwater.sdk.experiment import Experiment

        return {r.name: Experiment(self, r.name) for r in self.metadata_store.list_experiments()}

    def get_run(self, run_id: str) -> Any:
        """The run ``run_id`` (a PipelineRun, StepRun, ScriptRun ...); NotFoundError for an unknown id."""
        from headwater.sdk.runs import run_from_record

        record = self.metadata_store.get_run(run_id)
        if record is None:
            raise NotFoundError("Run", run_id, where=f"workspace {self._name!r}")
        return run_from_record(self, record)

    def get_details(self) -> dict[str, Any]:
        """A summary like SDK v1's, with Headwater's folder and store."""
        return {
            "name": self._name,
            "id": str(self._folder),
            "location": self.location,
            "subscriptionId": self._subscription_id,
            "resourceGroup": self._resource_group,
            "folder": str(self._folder),
            "metadataUrl": self.metadata_url,
            "creationTime": self._info.get("created_at"),
            "defaultDatastore": self.metadata_store.get_meta(DEFAULT_DATASTORE_KEY),
            "friendlyName": self._info.get("friendly_name", self._name),
            "description": self._info.get("description", ""),
            "tags": self.tags,
            "sku": self.sku,
        }

    def __repr__(self) -> str:
        return f"Workspace.create(name={self._name!r}, folder={str(self._folder)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other._folder == self._folder

    def __hash__(self) -> int:
        return hash(self._folder)
