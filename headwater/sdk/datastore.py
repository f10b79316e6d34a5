"""``Datastore`` and its kinds (SDK v1: ``azureml.core.Datastore``, ``azureml.data.azure_storage_datastore``).

A datastore is a named place for files, registered in the workspace's metadata store. Its files are
reached through a :class:`~headwater.store.datastores.DatastoreBackend` (``datastore._backend``),
which validates every path (nothing leaves the root) and writes every file atomically.

``Datastore(ws, name)`` returns the concrete kind, as SDK v1 does:

======================  ================  ==================  ==========================================
class                   record kind       ``datastore_type``  here
======================  ================  ==================  ==========================================
AzureBlobDatastore      ``azure_blob``    ``AzureBlob``       ``workspaceblobstore`` (a local folder);
                                                              :meth:`Datastore.register_azure_blob_container`
AzureFileDatastore      ``azure_file``    ``AzureFile``       ``workspacefilestore`` (a local folder)
LocalDatastore          ``local``         ``LocalFolder``     :meth:`Datastore.register_local_folder`
S3Datastore             ``s3``            ``S3``              :meth:`Datastore.register_s3`
======================  ================  ==================  ==========================================

Credentials of remote datastores are kept apart from the metadata (:mod:`headwater.sdk.credentials`,
:mod:`headwater.store.secrets`): no attribute, ``repr`` or error shows them.

Paths on a datastore are relative, ``/``-separated; SDK v1's spellings of the root (``''``, ``'.'``,
``'./'``, ``'/'``) are accepted. Any other absolute path, ``..`` climbing out, or a symlink leading
out raises :class:`~headwater.errors.PathEscapeError`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from headwater.config import validate_name
from headwater.errors import AlreadyExistsError, ConfigurationError, DataAccessError, NotFoundError, PathEscapeError
from headwater.sdk import datastore_registration as _registration
from headwater.sdk.data_reference import DataReference
from headwater.sdk.workspace import BUILTIN_DATASTORES, DEFAULT_DATASTORE, DEFAULT_DATASTORE_KEY
from headwater.store.datastores import DatastoreBackend, backend_for, normalize_relative
from headwater.store.records import DatastoreRecord
from headwater.store.secrets import SecretStore, datastore_prefix

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = ["AzureBlobDatastore", "AzureFileDatastore", "Datastore", "LocalDatastore", "S3Datastore"]

_ROOT_SPELLINGS = ("", ".", "./", "/")


def _join(base: str, rel: str) -> str:
    return f"{base}/{rel}" if base else rel


class Datastore:
    """A registered datastore (SDK v1: ``azureml.core.Datastore``).

    ``Datastore(workspace, name)`` looks ``name`` up (``None``: the workspace's default) and returns
    the concrete class for its kind. Files go in and out with :meth:`upload`, :meth:`upload_files`
    and :meth:`download`; :meth:`path` makes a :class:`DataReference` for a step.
    """

    #: SDK v1's type name (``AzureBlob``, ``AzureFile``, ``LocalFolder``).
    datastore_type: ClassVar[str] = "Unknown"
    _kind: ClassVar[str] = ""

    _workspace: Workspace
    _record: DatastoreRecord
    _backend_cache: DatastoreBackend | None

    def __new__(cls, workspace: Workspace, name: str | None = None, datastore_type: str | None = None) -> Self:
        """The registered datastore ``name`` (None: the default). SDK v1's subclasses also take the settings
        that describe it (``datastore_type``, ``container_name``, ``account_name`` ...): they must match the
        registration; credentials are not compared (register again with ``overwrite=True`` to change them)."""
        found = cls._registered(workspace, name)
        found._check_described(datastore_type=datastore_type)
        return found

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to do: :meth:`__new__` returned a fully built datastore."""

    def _check_described(self, **described: Any) -> None:
        """ConfigurationError when a setting SDK v1 code passed to the constructor differs from the registration."""
        for key, value in described.items():
            registered = getattr(self, key, None)
            if value is not None and value != registered:
                raise ConfigurationError(
                    f"Datastore {self.name!r} is registered with {key}={registered!r}, not {value!r}",
                    key=key,
                    hint="Constructing a datastore looks up its registration: register it again with "
                    "Datastore.register_*(..., overwrite=True) to change it, or leave the argument out.",
                )

    @classmethod
    def _registered(cls, workspace: Workspace, name: str | None) -> Self:
        if name is None:
            found = workspace.get_default_datastore()
        else:
            found = Datastore._from_record(workspace, Datastore._lookup(workspace, name))
        if not isinstance(found, cls):
            raise ConfigurationError(
                f"Datastore {found.name!r} is a {type(found).__name__}, not a {cls.__name__}",
                hint="Use Datastore(workspace, name) to get whichever kind it is.",
            )
        return found

    # -- lookup and registration ---------------------------------------------------------------

    @staticmethod
    def _lookup(workspace: Workspace, name: str) -> DatastoreRecord:
        record = workspace.metadata_store.get_datastore(name)
        if record is None:
            raise NotFoundError(
                "Datastore",
                name,
                where=f"workspace {workspace.name!r}",
                candidates=[r.name for r in workspace.metadata_store.list_datastores()],
                hint="Register it first, e.g. Datastore.register_local_folder(ws, name, path).",
            )
        return record

    @staticmethod
    def _from_record(workspace: Workspace, record: DatastoreRecord) -> Datastore:
        """The datastore object for a metadata record (unknown kinds get the plain base class)."""
        cls = _KINDS.get(record.kind, Datastore)
        obj = object.__new__(cls)
        obj._workspace = workspace
        obj._record = record
        obj._backend_cache = None
        return obj

    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> Datastore:
        """The datastore named ``datastore_name``; an unknown name raises NotFoundError with close names."""
        return Datastore._from_record(workspace, Datastore._lookup(workspace, datastore_name))

    @staticmethod
    def get_default(workspace: Workspace) -> Datastore:
        """The workspace's default datastore (``workspaceblobstore`` unless changed)."""
        return workspace.get_default_datastore()

    @staticmethod
    def register_local_folder(
        workspace: Workspace, datastore_name: str, path: str | os.PathLike[str], overwrite: bool = False
    ) -> LocalDatastore:
        """Register a folder on this machine as a datastore (a Headwater addition).

        ``path`` is made absolute (relative to the current folder) and created when missing.
        Registering the same name for the same folder again returns it; another folder needs
        ``overwrite=True``. The built-in datastores cannot be replaced.
        """
        validate_name("datastore", datastore_name)
        if datastore_name in BUILTIN_DATASTORES:
            raise ConfigurationError(
                f"Datastore {datastore_name!r} is built into every workspace and cannot be re-registered",
                hint="Choose another name.",
            )
        root = Path(path).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise ConfigurationError(
                f"Cannot register datastore {datastore_name!r}: {root} is not a folder",
                hint="Pass a folder (it is created when missing).",
            )
        record = DatastoreRecord(datastore_name, "local", {"root": root.as_posix()})
        store = workspace.metadata_store
        existing = store.get_datastore(datastore_name)
        if existing is not None and not overwrite:
            if existing.kind == record.kind and existing.config == record.config:
                return LocalDatastore._checked(Datastore._from_record(workspace, existing))
            raise AlreadyExistsError(
                "Datastore", datastore_name, hint="Pass overwrite=True to point it at the new folder."
            )
        root.mkdir(parents=True, exist_ok=True)
        store.put_datastore(record, overwrite=overwrite)
        return LocalDatastore._checked(Datastore._from_record(workspace, record))

    # SDK v1's register_* for remote kinds: plain functions in datastore_registration, same signatures.
    register_azure_blob_container = staticmethod(_registration.register_azure_blob_container)
    register_s3 = staticmethod(_registration.register_s3)
    register_azure_file_share = staticmethod(_registration.register_azure_file_share)
    register_azure_data_lake_gen2 = staticmethod(_registration.register_azure_data_lake_gen2)
    register_azure_data_lake = staticmethod(_registration.register_azure_data_lake)
    register_azure_sql_database = staticmethod(_registration.register_azure_sql_database)
    register_azure_postgre_sql = staticmethod(_registration.register_azure_postgre_sql)
    register_azure_my_sql = staticmethod(_registration.register_azure_my_sql)
    register_dbfs = staticmethod(_registration.register_dbfs)
    register_hdfs = staticmethod(_registration.register_hdfs)

    def set_as_default(self) -> None:
        """Make this datastore the workspace's default."""
        self._workspace.set_default_datastore(self.name)

    def unregister(self) -> None:
        """Remove this datastore from the workspace; its files are left where they are (as in SDK v1).

        Credentials it kept in the workspace secrets file are deleted with it (environment
        variables are yours). The built-in datastores and the current default cannot be unregistered.
        """
        if self.name in BUILTIN_DATASTORES or self._record.config.get("builtin"):
            raise ConfigurationError(
                f"Datastore {self.name!r} is built into every workspace and cannot be unregistered"
            )
        store = self._workspace.metadata_store
        if (store.get_meta(DEFAULT_DATASTORE_KEY) or DEFAULT_DATASTORE) == self.name:
            raise ConfigurationError(
                f"Datastore {self.name!r} is the workspace's default and cannot be unregistered",
                hint="Make another datastore the default first (Datastore.get(ws, 'workspaceblobstore')"
                ".set_as_default()).",
            )
        if self._backend_cache is not None:
            self._backend_cache.close()
            self._backend_cache = None
        if not store.delete_datastore(self.name):
            raise NotFoundError("Datastore", self.name, where=f"workspace {self._workspace.name!r}")
        SecretStore(self._workspace.folder).delete_prefix(datastore_prefix(self.name))

    # -- attributes ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The datastore's name."""
        return self._record.name

    @property
    def workspace(self) -> Workspace:
        """The workspace it is registered in."""
        return self._workspace

    @property
    def _backend(self) -> DatastoreBackend:
        """The backend holding the files (opened on first use, then cached)."""
        if self._backend_cache is None:
            self._backend_cache = backend_for(self._record, self._workspace.folder)
        return self._backend_cache

    def _relative(self, path: str | os.PathLike[str] | None) -> str:
        """``path`` normalised ('' for the root); raises PathEscapeError if it leaves the root."""
        if path is None:
            return ""
        text = os.fspath(path)
        if text in _ROOT_SPELLINGS:
            return ""
        self._backend.full_path(text)  # '..', absolute, and symlinks leading out; names `text`
        return normalize_relative(text, root=self._backend.root, datastore=self.name)

    def _describe(self) -> dict[str, Any]:
        return {"name": self.name, "datastore_type": self.datastore_type}

    def _location(self) -> str:
        """Where the files are, for people: a folder, or a container/bucket and its server (no secrets)."""
        if "root" in self._record.config:
            return self._backend.root  # a local folder: no credentials involved
        return "-"

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._describe().items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Datastore)
            and other._workspace == self._workspace
            and other._record.name == self._record.name
            and other._record.kind == self._record.kind
        )

    def __hash__(self) -> int:
        return hash((self._workspace, self._record.name))

    def __copy__(self) -> Self:
        return self  # a handle on a registered datastore: copies would be equal anyway

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    # -- data references -----------------------------------------------------------------------

    def path(self, path: str | os.PathLike[str] | None = None, data_reference_name: str | None = None) -> DataReference:
        """A :class:`DataReference` to ``path`` on this datastore (the root when None)."""
        return DataReference(self).path(path, data_reference_name)

    def as_mount(self) -> DataReference:
        """A reference to the whole datastore, mounted (SDK v1, deprecated there)."""
        return DataReference(self).as_mount()

    def as_download(self, path_on_compute: str | None = None) -> DataReference:
        """A reference to the whole datastore, downloaded (SDK v1, deprecated there)."""
        return DataReference(self).as_download(path_on_compute)

    def as_upload(self, path_on_compute: str | None = None) -> DataReference:
        """A reference to the whole datastore, uploaded (SDK v1, deprecated there)."""
        return DataReference(self).as_upload(path_on_compute)

    # -- moving files --------------------------------------------------------------------------

    def upload(
        self,
        src_dir: str | os.PathLike[str],
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataReference:
        """Upload every file under ``src_dir`` to ``target_path`` (the root when None).

        Files that exist on the datastore are skipped unless ``overwrite``. Each file is written
        atomically; every target path is checked before the first file is copied. Files move in
        parallel; ``show_progress`` prints SDK v1's lines, or a progress bar on a terminal.
        Returns a :class:`DataReference` to ``target_path``.
        """
        src = Path(src_dir)
        if not src.is_dir():
            raise DataAccessError(
                f"Cannot upload {os.fspath(src_dir)!r}: it is not a folder.",
                path=os.fspath(src_dir),
                hint="Pass a folder to upload(); use upload_files() for single files.",
            )
        target = self._relative(target_path)
        pairs: list[tuple[Path, str]] = []
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            for filename in sorted(filenames):
                file = Path(dirpath, filename)
                pairs.append((file, _join(target, file.relative_to(src).as_posix())))
        self._upload_pairs(pairs, overwrite=overwrite, show_progress=show_progress)
        return DataReference(self, path_on_datastore=target or None)

    def upload_files(
        self,
        files: Iterable[str | os.PathLike[str]],
        relative_root: str | os.PathLike[str] | None = None,
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataReference:
        """Upload ``files``, each to ``target_path`` plus its path relative to ``relative_root``.

        ``relative_root`` defaults to the files' common folder (as in SDK v1); a file outside it
        is an error. Existing files are skipped unless ``overwrite``. Returns a
        :class:`DataReference` to ``target_path``.
        """
        if isinstance(files, str | os.PathLike):
            files = [files]
        paths = list(dict.fromkeys(Path(os.path.abspath(f)) for f in files))
        for p in paths:
            if not p.is_file():
                raise DataAccessError(f"Cannot upload {p}: it is not a file.", path=str(p))
        if relative_root is not None:
            root = Path(os.path.abspath(relative_root))
        elif paths:
            root = Path(os.path.commonpath([p.parent for p in paths]))
        else:
            root = Path.cwd()
        target = self._relative(target_path)
        pairs: list[tuple[Path, str]] = []
        for p in paths:
            if root not in p.parents:
                raise DataAccessError(
                    f"Cannot upload {p}: it is not under relative_root {root}.",
                    path=str(p),
                    hint="Pass a relative_root that contains every file, or leave it out to use their common folder.",
                )
            pairs.append((p, _join(target, p.relative_to(root).as_posix())))
        self._upload_pairs(pairs, overwrite=overwrite, show_progress=show_progress)
        return DataReference(self, path_on_datastore=target or None)

    def _upload_pairs(self, pairs: list[tuple[Path, str]], *, overwrite: bool, show_progress: bool) -> int:
        from headwater.sdk.datastore_transfer import upload_files

        return upload_files(self.name, self._backend, pairs, overwrite=overwrite, show=show_progress)

    def download(
        self,
        target_path: str | os.PathLike[str],
        prefix: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> int:
        """Download the files whose path starts with ``prefix`` (all when None) into ``target_path``.

        As for Azure blobs, ``prefix`` is a string prefix: ``'data'`` matches ``data/x.csv`` and
        ``data2.csv``; end it with ``/`` to mean a folder. Files keep their datastore path under
        ``target_path``. Local files that exist are kept unless ``overwrite``. Each file is written
        atomically; files move in parallel; ``show_progress`` prints SDK v1's lines, or a progress
        bar on a terminal. Returns the number of files written.
        """
        backend = self._backend
        dest_root = Path(target_path)
        plan: list[tuple[str, Path]] = []
        refused: list[str] = []
        for rel in self._files_with_prefix(prefix):
            problem = _unsafe_link(backend, rel)
            if problem is not None:  # never read through it; the others still come
                refused.append(problem)
                continue
            local_rel = normalize_relative(rel, root=str(dest_root), datastore=None)
            plan.append((rel, dest_root / local_rel))
        dest_root.mkdir(parents=True, exist_ok=True)
        from headwater.sdk.datastore_transfer import download_files

        count = download_files(self.name, backend, plan, overwrite=overwrite, show=show_progress)
        if refused:
            raise DataAccessError(
                f"Downloaded {count} file(s) from datastore {self.name!r} to {dest_root}, but refused "
                f"{len(refused)} symlink(s): " + "; ".join(refused[:10]) + (" ..." if len(refused) > 10 else ""),
                path=refused[0],
                hint="A file in a datastore may not be a symlink leading out of it, or a dangling one: replace it "
                "with a copy of the file it should hold, or delete it.",
            )
        return count

    def _files_with_prefix(self, prefix: str | os.PathLike[str] | None) -> list[str]:
        backend = self._backend
        text = None if prefix is None else os.fspath(prefix)
        if text is None or text in _ROOT_SPELLINGS:
            return backend.list_files()
        rel = self._relative(text)
        if text.endswith(("/", "\\")):
            return backend.list_files(rel)
        matches = {f for f in backend.list_files(posixpath.dirname(rel)) if f.startswith(rel)}
        if backend.is_dir(rel):  # also a symlinked folder, which listing its parent does not follow
            matches.update(backend.list_files(rel))
        return sorted(matches)


def _unsafe_link(backend: DatastoreBackend, rel: str) -> str | None:
    """Why the listed file ``rel`` must not be read (a symlink leading out of a local datastore, or a
    dangling one), or None."""
    if not backend.is_local:
        return None
    link = Path(backend.root, rel)
    if not link.is_symlink():
        return None  # any other bad name is refused by the checks that follow
    try:
        backend.local_path(rel)
    except PathEscapeError:
        return f"{rel!r} is a symlink to {os.readlink(link)!r}, outside the datastore"
    if not link.exists():
        return f"{rel!r} is a symlink to {os.readlink(link)!r}, which does not exist"
    return None


class _RemoteCredentials:
    """Which credentials a remote datastore's record names (their references, never their values)."""

    _record: DatastoreRecord

    def _credential_refs(self) -> dict[str, str]:
        creds = self._record.config.get("credentials") or {}
        return {str(k): str(v) for k, v in creds.items()}


class _AzureStorageDatastore(_RemoteCredentials, Datastore):
    """What SDK v1's Azure Blob and File datastores share (``AbstractAzureStorageDatastore``).

    ``account_key`` and ``sas_token`` are always None here: SDK v1 hands the secret back, Headwater
    never does (it stays in the workspace secrets file or the environment variable);
    ``credential_type`` says which kind is registered.
    """

    def __new__(
        cls,
        workspace: Workspace,
        name: str | None = None,
        datastore_type: str | None = None,
        container_name: str | None = None,
        account_name: str | None = None,
        sas_token: str | None = None,
        account_key: str | None = None,
        protocol: str | None = None,
        endpoint: str | None = None,
    ) -> Self:
        """The registered datastore ``name``; the settings given must match it (see :meth:`Datastore.__new__`)."""
        found = cls._registered(workspace, name)
        found._check_described(datastore_type=datastore_type, container_name=container_name, account_name=account_name)
        return found

    @property
    def container_name(self) -> str | None:
        """The container (blob) or share (file) name; None for a store kept in a local folder."""
        value = self._record.config.get("container_name")
        return None if value is None else str(value)

    @property
    def account_name(self) -> str | None:
        """The storage account name; None for a store kept in a local folder."""
        value = self._record.config.get("account_name")
        return None if value is None else str(value)

    @property
    def protocol(self) -> str | None:
        """``https`` or ``http`` as registered (None: the default, https)."""
        value = self._record.config.get("protocol")
        return None if value is None else str(value)

    @property
    def endpoint(self) -> str | None:
        """The endpoint suffix as registered (None: the default, ``core.windows.net``)."""
        value = self._record.config.get("endpoint")
        return None if value is None else str(value)

    @property
    def credential_type(self) -> str | None:
        """``'AccountKey'``, ``'Sas'`` or ``'None'`` (SDK v1's values); None for a store kept in a local folder."""
        if "root" in self._record.config:
            return None
        refs = self._credential_refs()
        return "AccountKey" if "account_key" in refs else "Sas" if "sas_token" in refs else "None"

    @property
    def is_sas(self) -> bool:
        """Deprecated in SDK v1: whether a SAS token (rather than an account key) is registered."""
        return self.credential_type == "Sas"

    @property
    def account_key(self) -> None:
        """Always None: Headwater never hands a stored key back (SDK v1 did). See :attr:`credential_type`."""
        return None

    @property
    def sas_token(self) -> None:
        """Always None: Headwater never hands a stored token back (SDK v1 did). See :attr:`credential_type`."""
        return None

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "container_name": self.container_name,
            "account_name": self.account_name,
        }


class AzureBlobDatastore(_AzureStorageDatastore):
    """An Azure Blob container; the built-in ``workspaceblobstore`` is one kept in a local folder."""

    datastore_type: ClassVar[str] = "AzureBlob"
    _kind: ClassVar[str] = "azure_blob"

    def __new__(
        cls,
        workspace: Workspace,
        name: str | None = None,
        container_name: str | None = None,
        account_name: str | None = None,
        sas_token: str | None = None,
        account_key: str | None = None,
        protocol: str | None = None,
        endpoint: str | None = None,
        request_session: Any = None,
        workspace_msi_has_access: bool = False,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        service_data_access_auth_identity: str | None = None,
    ) -> Self:
        """The registered blob datastore ``name``; the settings given must match it (see :meth:`Datastore.__new__`)."""
        found = cls._registered(workspace, name)
        found._check_described(container_name=container_name, account_name=account_name)
        return found

    @property
    def account_url(self) -> str | None:
        """The blob service URL (``account_url`` as registered, else built from account, protocol and
        endpoint as SDK v1 does); None for a store kept in a local folder. A Headwater addition."""
        if "root" in self._record.config:
            return None
        from headwater.sdk.datastore_registration import blob_service_url

        return blob_service_url(self._record.config)

    def _location(self) -> str:
        if "root" in self._record.config:
            return super()._location()
        return f"azure blob container {self.container_name!r} at {self.account_url}"

    @staticmethod
    def _checked(obj: Datastore) -> AzureBlobDatastore:
        assert isinstance(obj, AzureBlobDatastore), f"registration made a {type(obj).__name__}"
        return obj

    def _describe(self) -> dict[str, Any]:
        out = super()._describe()
        if "root" not in self._record.config:
            out.update(account_url=self.account_url, credential_type=self.credential_type)
        return out


class AzureFileDatastore(_AzureStorageDatastore):
    """An Azure File datastore; the built-in ``workspacefilestore`` is one, kept in a local folder."""

    datastore_type: ClassVar[str] = "AzureFile"
    _kind: ClassVar[str] = "azure_file"

    def __new__(
        cls,
        workspace: Workspace,
        name: str | None = None,
        container_name: str | None = None,
        account_name: str | None = None,
        sas_token: str | None = None,
        account_key: str | None = None,
        protocol: str | None = None,
        endpoint: str | None = "core.windows.net",
        request_session: Any = None,
    ) -> Self:
        """The registered file datastore ``name``; the settings given must match it (see :meth:`Datastore.__new__`)."""
        found = cls._registered(workspace, name)
        found._check_described(container_name=container_name, account_name=account_name)
        return found


class S3Datastore(_RemoteCredentials, Datastore):
    """An S3 bucket, on AWS or an S3-compatible server (a Headwater addition: :meth:`Datastore.register_s3`)."""

    datastore_type: ClassVar[str] = "S3"
    _kind: ClassVar[str] = "s3"

    @property
    def bucket_name(self) -> str:
        """The bucket."""
        return str(self._record.config["bucket_name"])

    @property
    def endpoint_url(self) -> str | None:
        """The S3-compatible server's URL; None for AWS."""
        value = self._record.config.get("endpoint_url")
        return None if value is None else str(value)

    @property
    def region(self) -> str | None:
        """The region as registered (None: the client's default)."""
        value = self._record.config.get("region")
        return None if value is None else str(value)

    @property
    def credential_type(self) -> str:
        """``'AccessKey'`` when keys are registered, else ``'None'`` (the AWS credential chain is used)."""
        return "AccessKey" if self._credential_refs() else "None"

    def _location(self) -> str:
        return f"s3 bucket {self.bucket_name!r} at {self.endpoint_url or 'AWS'}"

    @staticmethod
    def _checked(obj: Datastore) -> S3Datastore:
        assert isinstance(obj, S3Datastore), f"register_s3 made a {type(obj).__name__}"
        return obj

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "bucket_name": self.bucket_name,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "credential_type": self.credential_type,
        }


class LocalDatastore(Datastore):
    """A folder on this machine (a Headwater addition: :meth:`Datastore.register_local_folder`)."""

    datastore_type: ClassVar[str] = "LocalFolder"
    _kind: ClassVar[str] = "local"

    @property
    def folder(self) -> Path:
        """The folder holding the files."""
        root = self._backend.local_path(None)
        assert root is not None  # a local backend always has one
        return root

    @staticmethod
    def _checked(obj: Datastore) -> LocalDatastore:
        assert isinstance(obj, LocalDatastore), f"register_local_folder made a {type(obj).__name__}"
        return obj

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "folder": str(self.folder)}


_KINDS: dict[str, type[Datastore]] = {
    cls._kind: cls for cls in (AzureBlobDatastore, AzureFileDatastore, LocalDatastore, S3Datastore)
}
