"""Generated inputs, made once and kept under the data folder (``benchmarks/.data``, gitignored).

Each tree is written in full, then a ``complete.json`` naming its shape is written last: a tree
without it (an interrupted run) is made again. Contents come from one ``os.urandom`` block with a
per-file header, written with one large write per file, so 1 GiB takes seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

__all__ = ["bigdata_tree", "source_tree"]

_MARKER = "complete.json"
_SETTLE_S = 2.5  # files younger than 2 s are "racy" to the digest cache: let them settle


def _complete(folder: Path, shape: dict[str, int]) -> bool:
    try:
        return bool(json.loads((folder / _MARKER).read_text()) == shape)
    except (OSError, ValueError):
        return False


def _write_files(root: Path, count: int, size: int, per_folder: int) -> None:
    block = os.urandom(size)
    for i in range(count):
        folder = root / f"part-{i // per_folder:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        header = f"file {i:06d}\n".encode()
        with open(folder / f"f{i:06d}.bin", "wb") as f:
            f.write(header + block[: max(0, size - len(header))])


def _settle(newest: float) -> None:
    wait = newest + _SETTLE_S - time.time()
    if wait > 0:
        time.sleep(wait)


def bigdata_tree(data: Path, files: int, file_bytes: int) -> Path:
    """``<data>/bigdata-<files>x<bytes>/files/part-*/f*.bin``; returns the folder holding ``files/``."""
    shape = {"files": files, "file_bytes": file_bytes}
    folder = data / f"bigdata-{files}x{file_bytes}"
    if not _complete(folder, shape):
        shutil.rmtree(folder, ignore_errors=True)
        _write_files(folder / "files", files, file_bytes, per_folder=100)
        (folder / _MARKER).write_text(json.dumps(shape))
        _settle(time.time())
    return folder


def source_tree(data: Path, files: int, total_bytes: int, step_script: Path) -> Path:
    """A source directory of ``files`` files (``step.py`` and data), ``total_bytes`` in all.

    ``step.py`` is refreshed when the template changed; the marker lives outside the tree so the
    tree holds exactly ``files`` files.
    """
    shape = {"files": files, "total_bytes": total_bytes}
    folder = data / f"source-{files}x{total_bytes}"
    tree = folder / "src"
    script = step_script.read_bytes()
    if not _complete(folder, shape):
        shutil.rmtree(folder, ignore_errors=True)
        per_file = (total_bytes - len(script)) // (files - 1)
        _write_files(tree / "data", files - 1, per_file, per_folder=100)
        (tree / "step.py").write_bytes(script)
        (folder / _MARKER).write_text(json.dumps(shape))
        _settle(time.time())
    elif (tree / "step.py").read_bytes() != script:
        (tree / "step.py").write_bytes(script)
        _settle(time.time())
    return tree
