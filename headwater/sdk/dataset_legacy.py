"""SDK v1's deprecated ``azureml.core.dataset.Dataset`` members, as a mixin of :class:`~headwater.sdk.dataset.Dataset`.

SDK v1 deprecated these in favour of ``Dataset.File``/``Dataset.Tabular`` and the
FileDataset/TabularDataset methods. The ones scripts still call delegate to those (``from_*``,
``get``, ``list``, ``head``, ``sample``, ``to_pandas_dataframe``, ``get_definition(s)``); the ones
that manage Azure-side state (snapshots, profiles, deprecation states, Spark, SQL, Excel) raise
NotSupportedError naming the replacement.
"""

from __future__ import annotations

import builtins
import copy
import os
from typing import TYPE_CHECKING, Any, NoReturn

from headwater.data.definition import DatasetArgumentError
from headwater.errors import NotSupportedError
from headwater.sdk.dataset_registry import RegistryMembers
from headwater.sdk.dataset_types import (
    ENCODING_NAMES,
    FileEncoding,
    HistogramCompareMethod,
    PromoteHeadersBehavior,
    SkipLinesBehavior,
)

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.records import DatasetRecord

__all__ = ["LegacyDatasetMembers"]


def _not_supported(member: str, why: str, instead: str) -> NoReturn:
    raise NotSupportedError(f"Dataset.{member} is not supported: {why}.", hint=instead)


def _path_text(path: Any) -> str:
    """The path part of SDK v1's ``path`` argument, to guess a file type from."""
    item = path[0] if isinstance(path, list) and path else path
    if isinstance(item, tuple) and len(item) == 2:
        item = item[1][0] if isinstance(item[1], list) and item[1] else item[1]
    item = getattr(item, "path_on_datastore", item)
    return str(item or "").lower()


class LegacyDatasetMembers:
    """SDK v1's deprecated Dataset API (mixed into Dataset)."""

    _definition: dict[str, Any]
    _workspace: Workspace | None
    _record: DatasetRecord | None

    if TYPE_CHECKING:

        @staticmethod
        def get_by_name(workspace: Workspace, name: str, version: int | str = "latest", **kwargs: Any) -> Any: ...
        @staticmethod
        def get_by_id(workspace: Workspace, id: str, **kwargs: Any) -> Any: ...
        @property
        def id(self) -> str: ...
        @property
        def name(self) -> str | None: ...
        def take(self, count: int) -> Any: ...
        def take_sample(self, probability: float, seed: int | None = None) -> Any: ...

    # -- creating -----------------------------------------------------------------------------

    @staticmethod
    def from_delimited_files(
        path: Any,
        separator: str = ",",
        header: Any = PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS,
        encoding: Any = FileEncoding.UTF8,
        quoting: bool = False,
        infer_column_types: bool = True,
        skip_rows: int = 0,
        skip_mode: Any = SkipLinesBehavior.NO_ROWS,
        comment: str | None = None,
        include_path: bool = False,
        archive_options: Any = None,
        partition_format: str | None = None,
    ) -> Any:
        """Deprecated: ``Dataset.Tabular.from_delimited_files(path, ...)`` (quoted fields are always understood)."""
        from headwater.sdk.dataset_factory import TabularDatasetFactory

        if skip_rows or comment is not None or archive_options is not None:
            raise NotSupportedError(
                "Dataset.from_delimited_files: skip_rows, comment and archive_options are not supported.",
                hint="Remove the extra lines from the files (or read them with pandas and use "
                "Dataset.Tabular.register_pandas_dataframe), and extract archives before uploading.",
            )
        enc = ENCODING_NAMES[encoding] if isinstance(encoding, FileEncoding) else str(encoding)
        return TabularDatasetFactory.from_delimited_files(
            path,
            validate=False,
            include_path=include_path,
            infer_column_types=infer_column_types,
            separator=separator,
            header=header,
            partition_format=partition_format,
            encoding=enc,
        )

    @staticmethod
    def from_parquet_files(path: Any, include_path: bool = False, partition_format: str | None = None) -> Any:
        """Deprecated: ``Dataset.Tabular.from_parquet_files(path, ...)``."""
        from headwater.sdk.dataset_factory import TabularDatasetFactory

        return TabularDatasetFactory.from_parquet_files(
            path, validate=False, include_path=include_path, partition_format=partition_format
        )

    @staticmethod
    def from_binary_files(path: Any) -> Any:
        """Deprecated: ``Dataset.File.from_files(path)``."""
        from headwater.sdk.dataset_factory import FileDatasetFactory

        return FileDatasetFactory.from_files(path, validate=False)

    @staticmethod
    def auto_read_files(path: Any, include_path: bool = False, partition_format: str | None = None) -> Any:
        """Deprecated: a TabularDataset read as its files' extension says (CSV/TSV, Parquet, JSON lines)."""
        from headwater.sdk.dataset_factory import TabularDatasetFactory

        text = _path_text(path)
        if text.endswith((".parquet", ".parq")) or text.endswith("*.parquet"):
            return TabularDatasetFactory.from_parquet_files(
                path, validate=False, include_path=include_path, partition_format=partition_format
            )
        if text.endswith((".jsonl", ".json")):
            return TabularDatasetFactory.from_json_lines_files(
                path, validate=False, include_path=include_path, partition_format=partition_format
            )
        if text.endswith((".csv", ".tsv", ".txt")):
            return TabularDatasetFactory.from_delimited_files(
                path,
                validate=False,
                include_path=include_path,
                separator="\t" if text.endswith(".tsv") else ",",
                partition_format=partition_format,
            )
        raise DatasetArgumentError(
            f"auto_read_files cannot tell the file type of {text!r} from its extension.",
            hint="Use Dataset.Tabular.from_delimited_files, from_parquet_files or from_json_lines_files.",
        )

    @staticmethod
    def from_pandas_dataframe(dataframe: Any, path: Any = None, in_memory: bool = False) -> Any:
        """Deprecated: write ``dataframe`` as CSV under ``path`` (a datastore folder) and read it as a TabularDataset.

        ``path`` is a DataReference/DataPath or ``(datastore, 'folder')``; SDK v1's local folder or
        in-memory variants would keep data outside any datastore.
        """
        import pandas as pd

        from headwater.sdk.dataset_factory import TabularDatasetFactory
        from headwater.sdk.dataset_writes import parse_target, write_frames

        if not isinstance(dataframe, pd.DataFrame):
            raise DatasetArgumentError(f"dataframe must be a pandas DataFrame, got {type(dataframe).__name__}.")
        if path is None or isinstance(path, str | os.PathLike) or in_memory:
            raise DatasetArgumentError(
                "Dataset.from_pandas_dataframe needs a datastore folder as path (local folders and in-memory "
                "datasets are not supported: data lives on datastores).",
                hint="Pass path=datastore.path('folder'), or use "
                "Dataset.Tabular.register_pandas_dataframe(dataframe, (datastore, 'folder'), name).",
            )
        datastore, folder = parse_target(path)
        write_frames({"dataframe.csv": dataframe}, datastore, folder, file_format="csv")
        return TabularDatasetFactory.from_delimited_files((datastore, f"{folder}/dataframe.csv".lstrip("/")))

    @staticmethod
    def from_json_files(
        path: Any,
        encoding: Any = FileEncoding.UTF8,
        flatten_nested_arrays: bool = False,
        include_path: bool = False,
        partition_format: str | None = None,
    ) -> NoReturn:
        """Not supported: JSON documents; JSON-lines files are (``Dataset.Tabular.from_json_lines_files``)."""
        _not_supported(
            "from_json_files",
            "Headwater reads JSON-lines files (one object per line), not JSON documents",
            "Convert the files to JSON lines (pandas.read_json(f).to_json(out, orient='records', lines=True)) and "
            "use Dataset.Tabular.from_json_lines_files(path).",
        )

    @staticmethod
    def from_excel_files(
        path: Any,
        sheet_name: str | None = None,
        use_column_headers: bool = False,
        skip_rows: int = 0,
        include_path: bool = False,
        infer_column_types: bool = True,
        partition_format: str | None = None,
    ) -> NoReturn:
        """Not supported: Excel files; save the sheets as CSV."""
        _not_supported(
            "from_excel_files",
            "Headwater reads CSV, Parquet and JSON-lines files",
            "Save the sheets as CSV (pandas.read_excel(f).to_csv(out)) and use Dataset.Tabular.from_delimited_files.",
        )

    @staticmethod
    def from_sql_query(data_source: Any, query: Any) -> NoReturn:
        """Not supported: SQL datastores are Azure services."""
        _not_supported(
            "from_sql_query",
            "Headwater has no SQL datastores",
            "Export the query result with pandas.read_sql(...) and use Dataset.Tabular.register_pandas_dataframe.",
        )

    # -- looking up ---------------------------------------------------------------------------

    @staticmethod
    def get(workspace: Workspace, name: str | None = None, id: str | None = None) -> Any:
        """Deprecated: ``Dataset.get_by_name(ws, name)`` or ``Dataset.get_by_id(ws, id)``; both must agree."""
        from headwater.sdk.dataset import AbstractDataset

        if name is None and id is None:
            raise DatasetArgumentError("Dataset.get needs a name or an id.", hint="Pass name='...' or id='...'.")
        by_name = AbstractDataset.get_by_name(workspace, name) if name is not None else None
        if id is None:
            return by_name
        by_id = AbstractDataset.get_by_id(workspace, id)
        if by_name is not None and by_name.name != by_id.name:
            raise DatasetArgumentError(
                f"Dataset.get: the dataset with id {id!r} is not named {name!r}.", hint="Pass only one of them."
            )
        return by_id

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[Any]:
        """Deprecated: the latest version of every registered dataset (``Dataset.get_all(ws)`` as a list)."""
        return list(workspace.datasets.values())

    @property
    def workspace(self) -> Workspace | None:
        """The workspace the dataset belongs to, or None."""
        return self._workspace

    @property
    def definition(self) -> dict[str, Any]:
        """Deprecated: the dataset's definition (Headwater's JSON: sources, reader, transformations)."""
        return copy.deepcopy(self._definition)

    @property
    def definition_version(self) -> str | None:
        """Deprecated: the registered version as a string (SDK v1's definition version id), or None."""
        return None if self._record is None or self._record.version is None else str(self._record.version)

    @property
    def is_visible(self) -> bool:
        """Deprecated: always True (there is no studio UI to hide a dataset from)."""
        return True

    @property
    def state(self) -> str | None:
        """Deprecated: ``'active'`` for a registered dataset (no deprecated/archived states), else None."""
        return None if self._record is None or self._record.name is None else "active"

    def get_definitions(self) -> dict[str, dict[str, Any]]:
        """Deprecated: every registered version's definition, by version (``{'1': {...}, ...}``)."""
        record, ws = self._record, self._workspace
        if record is None or record.name is None or ws is None:
            return {"1": self.definition}
        return {
            str(r.version): copy.deepcopy(r.definition) for r in ws.metadata_store.list_dataset_versions(record.name)
        }

    def get_definition(self, version_id: str | None = None) -> dict[str, Any]:
        """Deprecated: the definition of version ``version_id`` (the latest when None)."""
        definitions = self.get_definitions()
        if version_id is None:
            return definitions[max(definitions, key=int)]
        if str(version_id) not in definitions:
            raise DatasetArgumentError(
                f"Dataset {self.name!r} has no version {version_id!r}.",
                hint=f"Versions: {', '.join(sorted(definitions, key=int))}.",
            )
        return definitions[str(version_id)]

    # -- using --------------------------------------------------------------------------------

    def register(
        self,
        workspace: Workspace,
        name: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        visible: bool = True,
        exist_ok: bool = False,
        update_if_exist: bool = False,
        create_new_version: bool = False,
    ) -> Any:
        """SDK v1's ``Dataset.register``: ``exist_ok=True`` returns a taken name's latest version,
        ``update_if_exist=True`` registers a new version (``create_new_version``); ``visible`` is ignored."""
        return super().register(  # type: ignore[misc]  # AbstractDataset.register, next in Dataset's order
            workspace, name, description, tags, create_new_version, visible, exist_ok, update_if_exist
        )

    class Scenario:
        """SDK v1's ``Dataset.Scenario``: what a dataset is used for (``Run.log_dataset`` style tags)."""

        TRAINING, VALIDATION, INFERENCING = "training", "validation", "inferencing"

    def to_pandas_dataframe(self) -> Any:
        """Deprecated: the rows of a tabular dataset (TabularDataset.to_pandas_dataframe)."""
        raise DatasetArgumentError(
            "to_pandas_dataframe() reads a tabular dataset, and this is a FileDataset.",
            hint="Use download() or mount() and read the files, or create it with Dataset.Tabular.from_*.",
        )

    def head(self, count: int) -> Any:
        """Deprecated: the first ``count`` rows as a pandas DataFrame (``take(count).to_pandas_dataframe()``)."""
        return self.take(count).to_pandas_dataframe()

    def sample(self, sample_strategy: str, arguments: dict[str, Any]) -> Any:
        """Deprecated: ``'top_n'`` (``{'n': 10}``) is ``take``; ``'simple_random'``
        (``{'probability': 0.1, 'seed': 1}``) is ``take_sample``; ``'stratified'`` is not supported.
        """
        strategy = str(sample_strategy).lower()
        args = dict(arguments or {})
        if strategy == "top_n":
            return self.take(int(args["n"]))
        if strategy == "simple_random":
            return self.take_sample(args["probability"], args.get("seed"))
        raise NotSupportedError(
            f"Dataset.sample: strategy {sample_strategy!r} is not supported.",
            hint="Use 'top_n' ({'n': N}) or 'simple_random' ({'probability': p, 'seed': s}); for a stratified "
            "sample, read the rows and use pandas (df.groupby(col).sample(frac=p)).",
        )

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        visible: Any = None,
    ) -> Any:
        """Deprecated: set the description and tags (``visible`` is ignored; renaming is not supported)."""
        if name is not None and name != self.name:
            raise NotSupportedError(
                "Dataset.update(name=...) is not supported: registered datasets are not renamed.",
                hint="Register it under the new name (ds.register(ws, new_name)), then unregister_all_versions() "
                "on the old one.",
            )
        return RegistryMembers.update(self, description, tags)  # type: ignore[arg-type]

    def to_spark_dataframe(self) -> NoReturn:
        """Not supported: Headwater runs no Spark."""
        _not_supported("to_spark_dataframe", "Headwater runs no Spark", "Use to_pandas_dataframe().")

    def update_definition(self, definition: Any, definition_update_message: str) -> NoReturn:
        """Not supported: register the new dataset as a new version instead."""
        _not_supported(
            "update_definition",
            "definitions are versioned by registration",
            "Create the new dataset with Dataset.File/Tabular and register it: "
            "new.register(ws, name, create_new_version=True).",
        )

    def deprecate(self, deprecate_by_dataset_id: str) -> NoReturn:
        """Not supported: datasets have no deprecated state."""
        _not_supported(
            "deprecate",
            "datasets have no deprecated/archived states",
            "Register the replacement as a new version (create_new_version=True), or tag this one "
            "(ds.add_tags({'deprecated': 'true'})).",
        )

    def archive(self) -> NoReturn:
        """Not supported: datasets have no archived state."""
        _not_supported(
            "archive",
            "datasets have no archived state",
            "Unregister it (ds.unregister_all_versions()); runs that used it keep finding it by id.",
        )

    def reactivate(self) -> NoReturn:
        """Not supported: datasets have no archived state."""
        _not_supported("reactivate", "datasets have no archived state", "Register the dataset again.")

    def generate_profile(self, compute_target: Any = None, workspace: Any = None, arguments: Any = None) -> NoReturn:
        """Not supported: profiles are computed by Azure ML."""
        _not_supported("generate_profile", "profiles are computed by Azure ML", "Use to_pandas_dataframe().describe().")

    def get_profile(
        self,
        arguments: Any = None,
        generate_if_not_exist: bool = True,
        workspace: Any = None,
        compute_target: Any = None,
    ) -> NoReturn:
        """Not supported: profiles are computed by Azure ML."""
        _not_supported("get_profile", "profiles are computed by Azure ML", "Use to_pandas_dataframe().describe().")

    def compare_profiles(
        self,
        rhs_dataset: Any,
        profile_arguments: Any = {},  # noqa: B006 - SDK v1's default, never mutated
        include_columns: Any = None,
        exclude_columns: Any = None,
        histogram_compare_method: Any = HistogramCompareMethod.WASSERSTEIN,
    ) -> NoReturn:
        """Not supported: profiles are computed by Azure ML."""
        _not_supported(
            "compare_profiles",
            "profiles are computed by Azure ML",
            "Compare df.describe() of both datasets, or use scipy.stats.wasserstein_distance on the columns.",
        )

    def diff(self, rhs_dataset: Any, compute_target: Any = None, columns: Any = None) -> NoReturn:
        """Not supported: profiles are computed by Azure ML."""
        _not_supported(
            "diff", "profile diffs are computed by Azure ML", "Compare the two DataFrames with pandas (df.compare)."
        )

    def create_snapshot(
        self,
        snapshot_name: str,
        compute_target: Any = None,
        create_data_snapshot: bool = False,
        target_datastore: Any = None,
    ) -> NoReturn:
        """Not supported: register a version instead (its file digests are recorded)."""
        _not_supported(
            "create_snapshot",
            "snapshots are an Azure service",
            "Register a version (ds.register(ws, name, create_new_version=True)): it records every file's digest, "
            "and data_changed() tells when the data moved on; copy the files with to_parquet_files() to freeze them.",
        )

    def get_snapshot(self, snapshot_name: str) -> NoReturn:
        """Not supported: get a registered version instead."""
        _not_supported(
            "get_snapshot", "snapshots are an Azure service", "Use Dataset.get_by_name(ws, name, version=n)."
        )

    def delete_snapshot(self, snapshot_name: str) -> NoReturn:
        """Not supported: snapshots are an Azure service."""
        _not_supported("delete_snapshot", "snapshots are an Azure service", "Use ds.unregister_all_versions().")

    def get_all_snapshots(self) -> NoReturn:
        """Not supported: list the registered versions instead."""
        _not_supported(
            "get_all_snapshots", "snapshots are an Azure service", "Use ds.get_definitions() (one per version)."
        )
