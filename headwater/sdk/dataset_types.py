"""SDK v1's ``azureml.data.dataset_type_definitions`` enums (the compat layer serves them).

Stdlib only, Python 3.8-safe.
"""

from __future__ import annotations

from enum import Enum, EnumMeta
from typing import Any


class SdkEnumMeta(EnumMeta):
    """Enum classes called as SDK v1's are: ``FileEncoding(0)`` with SDK v1's ``(*args, **kwds)`` signature."""

    def __call__(cls, *args: Any, **kwds: Any) -> Any:
        return super().__call__(*args, **kwds)


__all__ = [
    "SdkEnumMeta",
    "ENCODING_NAMES",
    "FileEncoding",
    "HistogramCompareMethod",
    "PromoteHeadersBehavior",
    "SkipLinesBehavior",
]


class PromoteHeadersBehavior(Enum, metaclass=SdkEnumMeta):
    """How ``from_delimited_files(header=...)`` reads column headers (SDK v1's values)."""

    NO_HEADERS = 0
    ONLY_FIRST_FILE_HAS_HEADERS = 1
    COMBINE_ALL_FILES_HEADERS = 2
    ALL_FILES_HAVE_SAME_HEADERS = 3


class FileEncoding(Enum, metaclass=SdkEnumMeta):
    """SDK v1's file encodings (``Dataset.from_delimited_files(encoding=...)``); :data:`ENCODING_NAMES` maps them."""

    UTF8 = 0
    ISO88591 = 1
    LATIN1 = 2
    ASCII = 3
    UTF16 = 4
    UTF32 = 5
    UTF8BOM = 6
    WINDOWS1252 = 7


#: The encoding names ``Dataset.Tabular.from_delimited_files(encoding=...)`` takes, by FileEncoding.
ENCODING_NAMES = {e: e.name.lower() for e in FileEncoding}


class SkipLinesBehavior(Enum, metaclass=SdkEnumMeta):
    """SDK v1's ``skip_mode`` of the deprecated ``Dataset.from_delimited_files``: which files skip leading rows."""

    NO_ROWS = 0
    FROM_FIRST_FILE_ONLY = 1
    FROM_ALL_FILES = 2


class HistogramCompareMethod(Enum, metaclass=SdkEnumMeta):
    """SDK v1's distance metric for ``Dataset.compare_profiles`` (profiles need Azure; accepted for the signature)."""

    WASSERSTEIN = 0
    ENERGY = 1
