"""The model look-ups a step makes, recorded with its run so that reuse can check them again.

A step that calls ``Model.get_model_path('clf')`` or ``Model(ws, 'clf')`` without a version reads
"the latest" model: the same step with the same inputs would give other results after a newer
version is registered. So every look-up that the registry answers inside a step (and inside a
ParallelRunStep's workers) appends one JSON line to :data:`MODEL_LOOKUPS_FILE` in the step's run
folder: what was asked (name, version, tags, properties, run id, framework) and what it resolved to
(version and content digest). A listing (``Model.list(ws, name='clf', latest=True)``, which a step
may use to pick "the newest model tagged X") is noted as what was asked and every version it
returned (:func:`note_listing`). When the step succeeds the engine keeps them as a run property
(:mod:`headwater.engine.model_check`), and a later reuse of that run asks the registry the same
questions again: any other answer and the step runs again.

Stdlib only and Python-3.8-safe, like all of :mod:`headwater.runtime`.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["LIST_FIELDS", "MODEL_LOOKUPS_FILE", "lookup_key", "note_listing", "note_lookup", "read_lookups"]

#: In a step's run folder: the registry look-ups the step made (JSON lines).
MODEL_LOOKUPS_FILE = "models.used"
#: The fields of a look-up that say what was asked (the rest say what it resolved to).
QUERY_FIELDS = ("name", "version", "tags", "properties", "run_id", "framework")
#: What a ``Model.list`` asked: its filters, in the order of its signature.
LIST_FIELDS = ("name", "tags", "properties", "run_id", "latest", "dataset_id", "model_framework")

#: Set for a ParallelRunStep's driver and workers: the step's progress folder.
PROGRESS_ENV = "HEADWATER_PARALLEL_PROGRESS"

_run_dirs: dict[str, str] = {}  # context file -> the step's run folder


def lookup_key(lookup: dict[str, Any]) -> str:
    """What a look-up asked, as a canonical string (two look-ups asking the same share it)."""
    return json.dumps({k: lookup.get(k) for k in QUERY_FIELDS}, sort_keys=True, default=str)


def _run_dir() -> str | None:
    from headwater.runtime.context import CONTEXT_ENV, load_context

    path = os.environ.get(CONTEXT_ENV)
    if not path:
        return None
    if path not in _run_dirs:
        _run_dirs[path] = load_context(path).run_dir
    return _run_dirs[path]


def note_lookup(query: dict[str, Any], version: int, digest: str) -> None:
    """Inside a step: append the look-up ``query`` (:data:`QUERY_FIELDS`) and its answer to the run
    folder's :data:`MODEL_LOOKUPS_FILE` (one ``write`` on an ``O_APPEND`` file: workers never
    interleave). Outside a step: nothing."""
    entry = {k: query.get(k) for k in QUERY_FIELDS}
    entry.update(resolved_version=int(version), digest=str(digest))
    _append(entry)


def note_listing(query: dict[str, Any], found: list[tuple[str, int, str]]) -> None:
    """Inside a step: append what a ``Model.list`` asked (:data:`LIST_FIELDS`) and what it returned,
    ``(name, version, digest)`` of each model in its order, as :func:`note_lookup` does. Outside a
    step: nothing."""
    entry = {"list": {k: query.get(k) for k in LIST_FIELDS}, "resolved": [[n, int(v), str(d)] for n, v, d in found]}
    _append(entry)


def _append(entry: dict[str, Any]) -> None:
    run_dir = _run_dir()
    if run_dir is None:
        return
    line = (json.dumps(entry, sort_keys=True, default=str) + "\n").encode("utf-8")
    # A ParallelRunStep's progress folder too: finished mini-batches scored with another model
    # than the registry gives now are not kept (headwater.engine.model_check.discard_stale_progress).
    for folder in (run_dir, os.environ.get(PROGRESS_ENV)):
        if folder and os.path.isdir(folder):
            fd = os.open(os.path.join(folder, MODEL_LOOKUPS_FILE), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


def read_lookups(run_dir: str) -> list[dict[str, Any]]:
    """The distinct look-ups a step made (none, or a missing file: an empty list); malformed lines
    are skipped (a worker killed mid-write leaves at most a partial last line)."""
    try:
        with open(os.path.join(run_dir, MODEL_LOOKUPS_FILE), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    seen: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (isinstance(entry.get("name"), str) or isinstance(entry.get("list"), dict)):
            seen.setdefault(json.dumps(entry, sort_keys=True), entry)
    return list(seen.values())
