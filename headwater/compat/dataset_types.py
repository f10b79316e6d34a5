"""SDK v1's ``azureml.data.dataset_type_definitions`` enums that Headwater's readers understand. Stdlib only."""

from __future__ import annotations

import inspect
from enum import Enum

__all__ = ["PromoteHeadersBehavior"]


class PromoteHeadersBehavior(Enum):
    """How ``from_delimited_files(header=...)`` reads column headers (SDK v1's values)."""

    NO_HEADERS = 0
    ONLY_FIRST_FILE_HAS_HEADERS = 1
    COMBINE_ALL_FILES_HEADERS = 2
    ALL_FILES_HAVE_SAME_HEADERS = 3


# The call signature SDK v1's enum shows (Python's Enum call, ``(*args, **kwds)``), whatever this Python's Enum shows.
PromoteHeadersBehavior.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
        inspect.Parameter("kwds", inspect.Parameter.VAR_KEYWORD),
    ]
)
