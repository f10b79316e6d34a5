"""More of SDK v1's ``FileDataset``: the members that need Azure (data caches, HDFS), as a mixin.

Each raises NotSupportedError naming the member and what to use instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

from headwater.errors import NotSupportedError

__all__ = ["FileMembers"]


def _not_supported(member: str, why: str, instead: str) -> NoReturn:
    raise NotSupportedError(f"FileDataset.{member} is not supported: {why}.", hint=instead)


class FileMembers:
    """FileDataset members without a local meaning (mixed into FileDataset)."""

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
