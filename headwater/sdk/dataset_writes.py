"""Writing dataset files to a datastore: SDK v1's ``target`` argument, uploads, Parquet and CSV files.

``register_pandas_dataframe``, ``upload_directory``, ``partition_by`` and ``to_csv_files`` all write
files under a datastore path and build a dataset over them. Files are written to a temporary local
folder first, then uploaded with :meth:`Datastore.upload` (each file atomically, nothing outside
the datastore root). pandas and pyarrow are imported inside the functions.
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.data.definition import DatasetArgumentError
from headwater.errors import DataAccessError

if TYPE_CHECKING:
    import pandas as pd

    from headwater.sdk.datastore import Datastore

__all__ = ["MANAGED_DATASET", "console", "parse_target", "unique_folder", "upload_folder", "write_frames"]

#: SDK v1's folder for data written to a datastore given without a path.
MANAGED_DATASET = "managed-dataset"


def console(show_progress: bool) -> Callable[[str], None]:
    """SDK v1's progress lines: printed when ``show_progress``."""

    def say(text: str) -> None:
        if show_progress:
            print(text, flush=True)

    return say


def parse_target(target: Any, *, managed: bool = False) -> tuple[Datastore, str]:
    """SDK v1's ``target``: a Datastore, a DataPath or ``(datastore, 'path')``, as (datastore, relative path).

    A datastore alone, or a DataPath without a path, means its root (``managed-dataset`` with
    ``managed``, as ``register_pandas_dataframe`` does in SDK v1).
    """
    from headwater.sdk.datastore import Datastore

    default = MANAGED_DATASET if managed else ""
    if isinstance(target, Datastore):
        return target, default
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], Datastore):
        store, rel = target
        if rel is not None and not isinstance(rel, str | os.PathLike):
            raise DatasetArgumentError(f"The path in target {target!r} must be a string.")
        return store, store._relative(rel) if rel else default
    store = getattr(target, "_datastore", None)
    if isinstance(store, Datastore) and hasattr(target, "path_on_datastore"):
        return store, target.path_on_datastore or default
    raise DatasetArgumentError(
        f"The target type is not supported, target: {target!r}.",
        hint="Pass a Datastore, a DataPath (datastore.path('folder') or DataPath(datastore, 'folder')) "
        "or a (datastore, 'folder') tuple.",
    )


def unique_folder(relative: str, unique: bool) -> str:
    """``relative/<uuid4>`` (SDK v1's ``make_target_path_unique``), or ``relative`` itself."""
    rel = relative.strip("/")
    if not unique:
        return rel
    return f"{rel}/{uuid.uuid4()}" if rel else str(uuid.uuid4())


def upload_folder(
    src_dir: str | os.PathLike[str],
    datastore: Datastore,
    relative: str,
    *,
    pattern: str | None = None,
    overwrite: bool = False,
    show_progress: bool = True,
) -> int:
    """Upload ``src_dir``'s files (those whose absolute path matches ``pattern``, as in SDK v1) under ``relative``."""
    src = Path(src_dir).absolute()
    if not src.is_dir():
        raise DataAccessError(
            f"Cannot upload {os.fspath(src_dir)!r}: it is not a folder.",
            path=os.fspath(src_dir),
            hint="Pass the folder whose files the dataset should hold.",
        )
    if pattern is not None and not isinstance(pattern, str):
        raise DatasetArgumentError(f"pattern must be a string such as '*.csv', got {pattern!r}.")
    say = console(show_progress)
    say(
        "'overwrite' is set to True. Any file already present in the target will be overwritten."
        if overwrite
        else "'overwrite' is set to False. Any file already present in the target will be skipped."
    )
    say(f"Uploading files from '{src.as_posix()}' to '{relative or '/'}'")
    files = sorted(p for p in src.rglob("*") if p.is_file())
    if pattern is not None:
        say(f"Filtering files with pattern matching {pattern}")
        files = [p for p in files if fnmatch.fnmatch(p.as_posix(), pattern)]
        if not files:
            say(f"No files found with pattern {pattern}")
    datastore.upload_files(
        files, relative_root=src, target_path=relative or None, overwrite=overwrite, show_progress=show_progress
    )
    return len(files)


def write_frames(
    frames: dict[str, pd.DataFrame],
    datastore: Datastore,
    relative: str,
    *,
    file_format: str,
    separator: str = ",",
    row_group_size: int | None = None,
    show_progress: bool = False,
) -> None:
    """Write each ``{relative path: frame}`` as Parquet or CSV, then upload them under ``relative`` (overwriting)."""
    with tempfile.TemporaryDirectory(prefix="headwater-dataset-") as tmp:
        for rel, frame in frames.items():
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            if file_format == "parquet":
                frame.to_parquet(path, engine="pyarrow", index=False, row_group_size=row_group_size)
            else:
                frame.to_csv(path, sep=separator, index=False)
        datastore.upload(tmp, target_path=relative or None, overwrite=True, show_progress=show_progress)
