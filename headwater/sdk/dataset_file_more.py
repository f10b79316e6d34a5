"""More of SDK v1's ``FileDataset``, as a mixin: filtering files on their metadata, and the members
that need Azure (data caches, HDFS), which raise NotSupportedError naming what to use instead.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, NoReturn

from headwater.data.definition import DatasetArgumentError
from headwater.data.file_filter import FILE_METADATA_COLUMNS
from headwater.errors import NotSupportedError, did_you_mean
from headwater.sdk.dataset_expr import ColumnReference, Expression

__all__ = ["FileMembers"]


def _not_supported(member: str, why: str, instead: str) -> NoReturn:
    raise NotSupportedError(f"FileDataset.{member} is not supported: {why}.", hint=instead)


class FileMembers:
    """FileDataset's metadata filter and its members without a local meaning (mixed into FileDataset)."""

    if TYPE_CHECKING:

        def _derive(self, transformation: dict[str, Any]) -> Any: ...

    def file_metadata(self, col: str) -> ColumnReference:
        """A file metadata column to filter on: ``Size``, ``LastModifiedTime``, ``CreationTime``,
        ``Extension`` (without the dot) or ``CanSeek``; e.g. ``ds.filter(ds.file_metadata('Size') > 1000)``."""
        if col not in FILE_METADATA_COLUMNS:
            raise DatasetArgumentError(
                f"{col!r} is not a file metadata column." + did_you_mean(str(col), list(FILE_METADATA_COLUMNS)),
                hint=f"Use one of {', '.join(FILE_METADATA_COLUMNS)}.",
            )
        return ColumnReference(col)

    def filter(self, expression: Expression) -> Any:
        """The files whose metadata satisfies ``expression`` (built with :meth:`file_metadata`), e.g.
        ``ds.filter((ds.file_metadata('Size') > 10000) & (ds.file_metadata('Extension') == 'csv'))``.

        Applied in order with take/skip/samples, when the files are listed (also for step inputs).
        """
        if not isinstance(expression, Expression):
            raise DatasetArgumentError(
                f"filter() takes an expression such as ds.file_metadata('Size') > 1000, got {expression!r}."
            )
        return self._derive({"op": "filter_files", "expression": copy.deepcopy(expression.to_json())})

    def hydrate(self, datacache_store: Any, replica_count: int | None = None) -> NoReturn:
        """Not supported: data caches are an Azure service."""
        _not_supported(
            "hydrate",
            "data caches (DatacacheStore) are an Azure service",
            "Local and mounted inputs are read in place; use ds.as_download() to copy the files next to a step.",
        )

    def as_cache(self, datacache_store: Any) -> NoReturn:
        """Not supported: data caches are an Azure service."""
        _not_supported(
            "as_cache",
            "data caches (DatacacheStore) are an Azure service",
            "Pass ds.as_mount() or ds.as_download() to the step instead.",
        )

    def as_hdfs(self) -> NoReturn:
        """Not supported: there is no HDFS (Synapse Spark) here."""
        _not_supported(
            "as_hdfs",
            "HDFS inputs are for Azure Synapse Spark steps",
            "Pass ds.as_mount() or ds.as_download() to a PythonScriptStep and read the files from the path.",
        )
