"""Legacy data objects: ``DataReference``, ``DataPath`` and ``DataPathComputeBinding`` (SDK v1).

SDK v1 spreads these over ``azureml.data.data_reference`` and ``azureml.data.datapath``; Headwater keeps
them in one module. They are plain value objects: a datastore, a path on it (validated, so it
never leaves the datastore's root) and how a step sees the data (``mount``, ``download``,
``upload``). ``to_dict()``/``from_dict(workspace, d)`` turn them into JSON-ready dicts and back, which
is how the pipeline engine puts them in task specs.

Differences from SDK v1, all on purpose:

- Default names are *stable*. SDK v1 names a reference to a sub-path ``uuid4().hex``, which would
  change a step's fingerprint on every run. Here a reference to the datastore root is named after
  the datastore (as in SDK v1) and one to a sub-path ``<datastore>_<12 hex digits of sha256>`` of the
  datastore and path; ``DataPath`` does the same where SDK v1 appends 8 random hex digits.
- ``path_on_datastore`` is normalised (``a/b``, no ``./`` or trailing ``/``); ``None`` means the root.
  SDK v1's spellings of the root (``''``, ``'.'``, ``'./'``, ``'/'``) are accepted.
- ``as_download(overwrite=True)`` and ``as_upload(overwrite=True)`` keep ``overwrite`` (SDK v1 drops it).
- The objects are immutable: every ``as_*``/``path`` call returns a new one.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError, PathEscapeError

if TYPE_CHECKING:
    from headwater.sdk.datastore import Datastore
    from headwater.sdk.workspace import Workspace

__all__ = [
    "SUPPORTED_DATAREF_MODES",
    "DataPath",
    "DataPathComputeBinding",
    "DataReference",
    "DataReferenceConfiguration",
]

#: The modes a data reference can have, as in SDK v1's ``azureml.core.runconfig``.
SUPPORTED_DATAREF_MODES = ("mount", "download", "upload")

_REFERENCE_KEYS = {
    "datastore",
    "path_on_datastore",
    "data_reference_name",
    "mode",
    "path_on_compute",
    "overwrite",
}
_DATAPATH_KEYS = {"datastore", "path_on_datastore", "name"}
_BINDING_KEYS = {"mode", "path_on_compute", "overwrite"}


def _default_name(datastore_name: str, path: str | None) -> str:
    """A stable name: the datastore's for its root, else the datastore's plus a digest of the path."""
    if path is None:
        return datastore_name
    digest = hashlib.sha256(f"{datastore_name}/{path}".encode()).hexdigest()[:12]
    return f"{datastore_name}_{digest}"


def _check_mode(mode: str, what: str) -> str:
    if mode not in SUPPORTED_DATAREF_MODES:
        raise ConfigurationError(
            f"Invalid mode {mode!r} for {what}",
            key="mode",
            hint="Only 'mount', 'download' and 'upload' are supported.",
        )
    return mode


def _check_keys(d: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ConfigurationError(
            f"Unknown keys {unknown} in a serialised {what}",
            hint=f"Expected only {sorted(allowed)}.",
        )


def _compute_path(path: str | os.PathLike[str] | None) -> str | None:
    return None if path is None else os.fspath(path)


def _datastore_from(workspace: Workspace, d: dict[str, Any], what: str) -> Datastore:
    from headwater.sdk.datastore import Datastore

    if not d.get("datastore"):
        raise ConfigurationError(f"A serialised {what} needs 'datastore'", key="datastore")
    return Datastore.get(workspace, d["datastore"])


class DataReferenceConfiguration:
    """``azureml.core.runconfig.DataReferenceConfiguration``: what ``DataReference.to_config()`` returns."""

    def __init__(
        self,
        datastore_name: str | None = None,
        mode: str = "mount",
        path_on_datastore: str | None = None,
        path_on_compute: str | None = None,
        overwrite: bool = False,
    ) -> None:
        self.data_store_name = datastore_name  # SDK v1's attribute names
        self.mode = mode
        self.path_on_data_store = path_on_datastore
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def __repr__(self) -> str:
        return (
            f"DataReferenceConfiguration(datastore_name={self.data_store_name!r}, mode={self.mode!r}, "
            f"path_on_datastore={self.path_on_data_store!r})"
        )


class DataReference:
    """A path on a datastore and how a run sees it (SDK v1: ``azureml.data.data_reference.DataReference``).

    ``str(ref)`` is ``$AZUREML_DATAREFERENCE_<name>``, the placeholder SDK v1 puts in a step's
    arguments. ``path_on_datastore`` is checked against the datastore: ``..`` climbing out, an
    absolute path or a symlink leading out raise :class:`~headwater.errors.PathEscapeError`.
    """

    def __init__(
        self,
        datastore: Datastore,
        data_reference_name: str | None = None,
        path_on_datastore: str | os.PathLike[str] | None = None,
        mode: str = "mount",
        path_on_compute: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
    ) -> None:
        if datastore is None:
            raise ValueError("DataReference needs a datastore.")
        self._datastore = datastore
        self._path = datastore._relative(path_on_datastore) or None
        self._name = data_reference_name or _default_name(datastore.name, self._path)
        self._mode = _check_mode(mode, f"data reference {self._name!r}")
        self._path_on_compute = _compute_path(path_on_compute)
        self._overwrite = bool(overwrite)

    # -- SDK v1 properties ---------------------------------------------------------------------

    def to_config(self) -> DataReferenceConfiguration:
        """SDK v1's ``DataReferenceConfiguration`` of this reference (datastore name, mode, paths, overwrite)."""
        return DataReferenceConfiguration(
            datastore_name=self.datastore_name,
            mode=self._mode,
            path_on_datastore=self._path,
            path_on_compute=self._path_on_compute,
            overwrite=self._overwrite,
        )

    @property
    def datastore(self) -> Datastore:
        """The datastore the data is on."""
        return self._datastore

    @property
    def datastore_name(self) -> str:
        """The name of the datastore the data is on."""
        return self._datastore.name

    @property
    def path_on_datastore(self) -> str | None:
        """The normalised path on the datastore (``a/b``), or None for its root."""
        return self._path

    @property
    def data_reference_name(self) -> str:
        """The name that ``$AZUREML_DATAREFERENCE_<name>`` refers to."""
        return self._name

    @property
    def mode(self) -> str:
        """``mount``, ``download`` or ``upload``."""
        return self._mode

    @property
    def path_on_compute(self) -> str | None:
        """Where a step sees the data (None: chosen at run time)."""
        return self._path_on_compute

    @property
    def overwrite(self) -> bool:
        """Whether existing data at the destination is replaced."""
        return self._overwrite

    # -- derived references --------------------------------------------------------------------

    def _with(self, **changes: Any) -> DataReference:
        args: dict[str, Any] = {
            "datastore": self._datastore,
            "data_reference_name": self._name,
            "path_on_datastore": self._path,
            "mode": self._mode,
            "path_on_compute": self._path_on_compute,
            "overwrite": self._overwrite,
        }
        args.update(changes)
        return DataReference(**args)

    def path(self, path: str | os.PathLike[str] | None = None, data_reference_name: str | None = None) -> DataReference:
        """A reference to ``path`` below this one (mode ``mount``); ``path=None`` keeps this path.

        Without ``data_reference_name`` the new reference gets the stable default name of its path.
        """
        text = None if path is None else os.fspath(path)
        if not text or text in ("/", ".", "./"):
            if not data_reference_name:
                return self
            return DataReference(self._datastore, data_reference_name, self._path)
        posix = text.replace("\\", "/")
        if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
            # checked here: joined to this reference's path, an absolute path would look relative
            raise PathEscapeError(text, self._datastore._backend.root, datastore=self.datastore_name)
        joined = posix if self._path is None else f"{self._path}/{posix}"
        return DataReference(self._datastore, data_reference_name, joined)

    def as_mount(self) -> DataReference:
        """This reference, to be mounted in the run."""
        return self._with(mode="mount")

    def as_download(
        self, path_on_compute: str | os.PathLike[str] | None = None, overwrite: bool = False
    ) -> DataReference:
        """This reference, to be downloaded to ``path_on_compute`` before the run."""
        return self._with(mode="download", path_on_compute=path_on_compute, overwrite=overwrite)

    def as_upload(
        self, path_on_compute: str | os.PathLike[str] | None = None, overwrite: bool = False
    ) -> DataReference:
        """This reference, to be uploaded from ``path_on_compute`` after the run."""
        return self._with(mode="upload", path_on_compute=path_on_compute, overwrite=overwrite)

    @staticmethod
    def create(
        data_reference_name: str | None = None,
        datapath: DataPath | None = None,
        datapath_compute_binding: DataPathComputeBinding | None = None,
    ) -> DataReference:
        """A reference from a :class:`DataPath` and a :class:`DataPathComputeBinding` (both required)."""
        if datapath is None or datapath_compute_binding is None:
            raise ValueError("datapath and datapath_compute_binding are expected parameters")
        return DataReference(
            datapath.datastore,
            data_reference_name,
            datapath.path_on_datastore,
            datapath_compute_binding.mode,
            datapath_compute_binding.path_on_compute,
            datapath_compute_binding.overwrite,
        )

    # -- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` turns it back into an equal reference."""
        return {
            "datastore": self.datastore_name,
            "path_on_datastore": self._path,
            "data_reference_name": self._name,
            "mode": self._mode,
            "path_on_compute": self._path_on_compute,
            "overwrite": self._overwrite,
        }

    @classmethod
    def from_dict(cls, workspace: Workspace, d: dict[str, Any]) -> DataReference:
        """The reference :meth:`to_dict` described, its datastore looked up in ``workspace``."""
        _check_keys(d, _REFERENCE_KEYS, "DataReference")
        return cls(
            _datastore_from(workspace, d, "DataReference"),
            d.get("data_reference_name"),
            d.get("path_on_datastore"),
            d.get("mode", "mount"),
            d.get("path_on_compute"),
            bool(d.get("overwrite", False)),
        )

    def _key(self) -> tuple[Any, ...]:
        return (self._datastore, *self.to_dict().values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataReference) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self._name}"

    def __repr__(self) -> str:
        return self.__str__()


class DataPath:
    """A path on a datastore (SDK v1: ``azureml.data.datapath.DataPath``).

    Used as a ``PipelineParameter`` default, paired with a :class:`DataPathComputeBinding`.
    """

    def __init__(
        self,
        datastore: Datastore | None = None,
        path_on_datastore: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> None:
        if datastore is None:
            raise ValueError("datastore parameter is required.")
        self._datastore = datastore
        self._path = datastore._relative(path_on_datastore) or None
        self._name = name or _default_name(datastore.name, self._path)

    @property
    def datastore(self) -> Datastore:
        """The datastore the path is on (a Headwater addition; SDK v1 keeps it private)."""
        return self._datastore

    @property
    def datastore_name(self) -> str:
        """The name of the datastore."""
        return self._datastore.name

    @property
    def path_on_datastore(self) -> str | None:
        """The normalised path on the datastore, or None for its root."""
        return self._path

    @property
    def name(self) -> str:
        """The data path's name (stable default: see the module docstring)."""
        return self._name

    def create_data_reference(
        self,
        data_reference_name: str | None = None,
        datapath_compute_binding: DataPathComputeBinding | None = None,
    ) -> DataReference:
        """A :class:`DataReference` to this path, made available as the binding says."""
        if datapath_compute_binding is None:
            raise ValueError("datapath_compute_binding is a required parameter")
        if not isinstance(datapath_compute_binding, DataPathComputeBinding):
            raise ValueError(
                f"Invalid type. Expected DataPathComputeBinding, but type is {type(datapath_compute_binding).__name__}"
            )
        return DataReference.create(data_reference_name, self, datapath_compute_binding)

    @staticmethod
    def create_from_data_reference(data_reference: DataReference) -> DataPath:
        """The data path of a :class:`DataReference`."""
        if not isinstance(data_reference, DataReference):
            raise ValueError(f"Invalid type. Expected DataReference, but type is {type(data_reference).__name__}")
        return DataPath(data_reference.datastore, data_reference.path_on_datastore)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the keys SDK v1 serialises a DataPath with)."""
        return {"datastore": self.datastore_name, "path_on_datastore": self._path, "name": self._name}

    @classmethod
    def from_dict(cls, workspace: Workspace, d: dict[str, Any]) -> DataPath:
        """The data path :meth:`to_dict` described, its datastore looked up in ``workspace``."""
        _check_keys(d, _DATAPATH_KEYS, "DataPath")
        return cls(_datastore_from(workspace, d, "DataPath"), d.get("path_on_datastore"), d.get("name"))

    def _key(self) -> tuple[Any, ...]:
        return (self._datastore, self._path, self._name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataPath) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"DataPath(datastore={self.datastore_name!r}, path_on_datastore={self._path!r}, name={self._name!r})"


class DataPathComputeBinding:
    """How a :class:`DataPath` is made available to a step (SDK v1: ``azureml.data.datapath``)."""

    def __init__(
        self,
        mode: str = "mount",
        path_on_compute: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
    ) -> None:
        self._mode = _check_mode(mode, "a DataPathComputeBinding")
        self._path_on_compute = _compute_path(path_on_compute)
        self._overwrite = bool(overwrite)

    @property
    def mode(self) -> str:
        """``mount``, ``download`` or ``upload``."""
        return self._mode

    @property
    def path_on_compute(self) -> str | None:
        """Where the step sees the data (None: chosen at run time)."""
        return self._path_on_compute

    @property
    def overwrite(self) -> bool:
        """Whether existing data at the destination is replaced."""
        return self._overwrite

    def create_data_reference(
        self, data_reference_name: str | None = None, datapath: DataPath | None = None
    ) -> DataReference:
        """A :class:`DataReference` to ``datapath`` with this binding."""
        if not isinstance(datapath, DataPath):
            raise ValueError(f"Invalid type. Expected DataPath, but type is {type(datapath).__name__}")
        return DataReference.create(data_reference_name, datapath, self)

    @staticmethod
    def create_from_data_reference(data_reference: DataReference) -> DataPathComputeBinding:
        """The binding (mode, path on compute, overwrite) of a :class:`DataReference`."""
        if not isinstance(data_reference, DataReference):
            raise ValueError(f"Invalid type. Expected DataReference, but type is {type(data_reference).__name__}")
        return DataPathComputeBinding(data_reference.mode, data_reference.path_on_compute, data_reference.overwrite)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"mode": self._mode, "path_on_compute": self._path_on_compute, "overwrite": self._overwrite}

    @classmethod
    def from_dict(cls, workspace: Workspace | None, d: dict[str, Any]) -> DataPathComputeBinding:
        """The binding :meth:`to_dict` described (``workspace`` is unused: same signature as the others)."""
        _check_keys(d, _BINDING_KEYS, "DataPathComputeBinding")
        return cls(d.get("mode", "mount"), d.get("path_on_compute"), bool(d.get("overwrite", False)))

    def _key(self) -> tuple[Any, ...]:
        return (self._mode, self._path_on_compute, self._overwrite)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataPathComputeBinding) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"DataPathComputeBinding(mode={self._mode!r}, path_on_compute={self._path_on_compute!r}, "
            f"overwrite={self._overwrite!r})"
        )
