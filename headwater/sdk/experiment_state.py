"""What an experiment has besides its name: its tags and whether (since when) it is archived.

Kept in the metadata store's key-value ``meta`` table under ``experiment/<id>/tags`` (a JSON object)
and ``experiment/<id>/archived`` (the UTC time it was archived, or empty), so no schema change is
needed for them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from headwater.store.records import utcnow

if TYPE_CHECKING:
    from headwater.store.metadata import MetadataStore

__all__ = ["archived_time", "get_tags", "set_archived", "set_tags"]


def _key(experiment_id: str, what: str) -> str:
    return f"experiment/{experiment_id}/{what}"


def get_tags(store: MetadataStore, experiment_id: str) -> dict[str, str | None]:
    """The experiment's tags ({} when it has none)."""
    text = store.get_meta(_key(experiment_id, "tags"))
    return dict(json.loads(text)) if text else {}


def set_tags(store: MetadataStore, experiment_id: str, tags: dict[str, str | None]) -> None:
    """Replace the experiment's tags with ``tags``."""
    store.set_meta(_key(experiment_id, "tags"), json.dumps(tags, sort_keys=True))


def archived_time(store: MetadataStore, experiment_id: str) -> str | None:
    """When the experiment was archived (ISO-8601 UTC), or None while it is active."""
    return store.get_meta(_key(experiment_id, "archived")) or None


def set_archived(store: MetadataStore, experiment_id: str, archived: bool) -> None:
    """Archive the experiment (keeping the first archive time) or make it active again."""
    if archived and archived_time(store, experiment_id) is None:
        store.set_meta(_key(experiment_id, "archived"), utcnow())
    elif not archived:
        store.set_meta(_key(experiment_id, "archived"), "")
