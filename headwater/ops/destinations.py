"""Output destinations checked at submit, before any step runs.

The graph's validation refuses what a destination's text alone shows (absolute, ``..`` above the
root: :func:`headwater.graph.analysis.destination_escape`). What needs the workspace is checked
here: the datastore must be registered, and on a datastore that is a folder on this host the
destination must not lead through a symlink out of that folder. The check costs one metadata
read per datastore named and a few ``lstat`` calls per output; no remote datastore is opened.
The commit checks the path again (the folder may change between submit and commit).
"""

from __future__ import annotations

from pathlib import Path

from headwater.engine.outputs import resolve_output_path
from headwater.errors import PathEscapeError, did_you_mean
from headwater.graph.analysis import destination_escape
from headwater.graph.spec import PipelineSpec
from headwater.store.datastores import LocalBackend, local_backend_for, normalize_relative
from headwater.store.metadata import MetadataStore
from headwater.store.records import DatastoreRecord

__all__ = ["destination_problems"]

#: Stands for the run id when a destination is checked before the run exists (never a real folder).
_SAMPLE_RUN_ID = "00000000-0000-0000-0000-000000000000"


def destination_problems(
    spec: PipelineSpec, store: MetadataStore, workspace_folder: Path, default_datastore: str
) -> list[str]:
    """Every output whose datastore is unknown or whose destination leads out of its local
    datastore through a symlink, one problem per output naming the step, the output and the path."""
    problems: list[str] = []
    records: dict[str, DatastoreRecord | None] = {}
    backends: dict[str, LocalBackend | None] = {}
    known: list[str] | None = None
    for step in spec.steps:
        for o in step.outputs:
            name = o.datastore or default_datastore
            where = f"Step {step.name!r}: output {o.name!r}"
            if name not in records:
                records[name] = store.get_datastore(name)
            record = records[name]
            if record is None:
                if known is None:
                    known = sorted(r.name for r in store.list_datastores())
                problems.append(
                    f"{where} goes to {o.path_template!r} on datastore {name!r}, which is not registered in this "
                    "workspace." + (did_you_mean(name, known) or f" Registered: {', '.join(repr(k) for k in known)}.")
                )
                continue
            if destination_escape(o.path_template):
                continue  # reported by the graph's validation
            if name not in backends:
                backends[name] = local_backend_for(record, workspace_folder)
            backend = backends[name]
            if backend is None:
                continue  # a remote store has no symlinks; its path is checked above
            try:
                rel = normalize_relative(resolve_output_path(o, _SAMPLE_RUN_ID), root=backend.root, datastore=name)
                backend.local_path(rel)
            except PathEscapeError:
                problems.append(
                    f"{where} has destination {o.path_template!r} on datastore {name!r}, which leads through a "
                    f"symlink out of the datastore's folder ({backend.root}); write it to a path inside the "
                    "datastore, or register the folder the link points to as a datastore of its own."
                )
    return problems
