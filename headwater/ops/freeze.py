"""Freeze a pipeline: point every step at the workspace snapshot of its source directory.

A published pipeline or a draft is a frozen copy: editing the scripts afterwards must not change
what it runs. :func:`freeze_spec` stores each distinct source directory as a content-addressed
snapshot (``WorkspaceLayout.snapshots/<digest>/``, read-only, written once per digest) and returns
the spec with each step's ``source_directory`` replaced by that folder. Submitting the frozen spec
snapshots the snapshot folder, which has the same files and so the same digest: reuse works across
the frozen pipeline's runs and against runs of the original sources with the same bytes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from headwater.graph.spec import PipelineSpec
from headwater.layout import WorkspaceLayout
from headwater.plan.digests import open_digest_cache, workspace_cache_path
from headwater.plan.snapshots import scan, store_snapshot
from headwater.store.metadata import MetadataStore

__all__ = ["freeze_spec", "frozen_snapshot_ids"]


def freeze_spec(spec: PipelineSpec, store: MetadataStore, ws_folder: Path) -> PipelineSpec:
    """``spec`` with every step's source directory replaced by its stored snapshot folder.

    Each distinct source directory is scanned once (through the workspace's stat cache) and
    stored once per digest; a step already pointing at a snapshot folder is left as it is.
    """
    layout = WorkspaceLayout(ws_folder)
    frozen: dict[str, str] = {}
    cache = open_digest_cache(workspace_cache_path(ws_folder))
    try:
        for step in spec.steps:
            if step.source_directory in frozen:
                continue
            manifest = scan(step.source_directory, cache)
            folder = store_snapshot(manifest, step.source_directory, layout.snapshots)
            if not store.has_snapshot(manifest.digest):
                store.put_snapshot(manifest.digest, file_count=len(manifest.files), size=manifest.total_size)
            frozen[step.source_directory] = str(folder)
    finally:
        cache.close()
    steps = tuple(dataclasses.replace(s, source_directory=frozen[s.source_directory]) for s in spec.steps)
    return dataclasses.replace(spec, steps=steps)


def frozen_snapshot_ids(spec: PipelineSpec, ws_folder: Path) -> set[str]:
    """The snapshot digests a frozen spec runs (what garbage collection must keep)."""
    root = WorkspaceLayout(ws_folder).snapshots.resolve()
    ids: set[str] = set()
    for step in spec.steps:
        folder = Path(step.source_directory)
        if folder.parent.resolve() == root:
            ids.add(folder.name)
    return ids
