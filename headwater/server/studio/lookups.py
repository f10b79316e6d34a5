"""What the log, metric and dataset pages share: finding a run, and whether it is final."""

from __future__ import annotations

from headwater.errors import NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.records import TERMINAL_STATUSES, RunRecord

__all__ = ["is_final", "studio_run"]


def studio_run(store: MetadataStore, ws_name: str, run_id: str) -> RunRecord:
    """Run ``run_id`` (a pipeline run whose orchestrator died reads as Failed); NotFoundError (404) if none."""
    from headwater.ops.runs import refresh_status

    record = refresh_status(store, run_id)
    if record is None:
        raise NotFoundError("Run", run_id, where=f"workspace {ws_name!r}", hint="Open the runs list at /studio/.")
    return record


def is_final(store: MetadataStore, run: RunRecord) -> bool:
    """Whether nothing more will be logged by ``run``: it ended, or the pipeline run it is a step of did."""
    from headwater.ops.runs import refresh_status

    current = store.get_run(run.id)
    if current is None or current.status in TERMINAL_STATUSES:
        return True
    if current.parent_id is not None:
        parent = refresh_status(store, current.parent_id)
        return parent is None or parent.status in TERMINAL_STATUSES
    refreshed = refresh_status(store, current.id)
    return refreshed is None or refreshed.status in TERMINAL_STATUSES
