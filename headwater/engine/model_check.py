"""Whether the models an earlier run looked up are still what the registry gives, so that it may be reused.

A step's registry look-ups (``Model.get_model_path('clf')``, ``Model(ws, 'clf')``, also in a
ParallelRunStep entry script) and listings (``Model.list(ws, name='clf', latest=True)``) are noted
in its run folder (:mod:`headwater.runtime.model_lookups`); :func:`record_model_lookups` keeps them
as the run property :data:`LOOKUPS_PROPERTY` when the step succeeds. :func:`models_unchanged` asks
the registry the same questions again before the run is reused: another version, other files, no
answer at all, or (a listing) other versions listed, and the step runs again. A step that
looked nothing up costs one property read; a pinned version (``version=2``) always gets the same
answer unless that version was deleted and registered again with other bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from headwater.runtime.model_lookups import LIST_FIELDS, read_lookups
from headwater.status import ReuseBlocker
from headwater.store.metadata import MetadataStore
from headwater.store.repo_models import ModelRecord, matches_filters

__all__ = [
    "LOOKUPS_PROPERTY",
    "discard_stale_progress",
    "list_models",
    "models_unchanged",
    "record_model_lookups",
    "resolve_lookup",
]

#: The run property holding the model look-ups a step made (a JSON list; absent: none).
LOOKUPS_PROPERTY = "headwater.models.used"


def record_model_lookups(store: MetadataStore, run_id: str, run_dir: Path) -> int:
    """Keep the look-ups the step at ``run_dir`` made as a property of run ``run_id``; how many
    (none made: one ``open`` that fails, nothing written)."""
    lookups = read_lookups(str(run_dir))
    if lookups:
        store.add_properties(run_id, {LOOKUPS_PROPERTY: json.dumps(lookups, sort_keys=True)})
    return len(lookups)


def resolve_lookup(store: MetadataStore, lookup: dict[str, Any]) -> ModelRecord | None:
    """The version the registry gives now for what ``lookup`` asked (as ``Model(ws, ...)`` and
    ``Model.get_model_path`` resolve it), or None."""
    name, version = lookup["name"], lookup.get("version")
    if version is not None:
        return store.get_model(name, int(version))
    tags, properties = lookup.get("tags"), lookup.get("properties")
    if not (tags or properties or lookup.get("run_id") or lookup.get("framework")):
        return store.get_model(name)
    found = store.list_models(name=name, run_id=lookup.get("run_id"), framework=lookup.get("framework"))
    return next((r for r in found if matches_filters(r, tags=tags, properties=properties)), None)


def list_models(store: MetadataStore, query: dict[str, Any]) -> list[ModelRecord]:
    """What ``Model.list(ws, **query)`` lists (:data:`~headwater.runtime.model_lookups.LIST_FIELDS`):
    the versions matching every filter given, by name, newest version first."""
    records = store.list_models(
        name=query.get("name"),
        run_id=query.get("run_id"),
        framework=query.get("model_framework"),
        latest=bool(query.get("latest")),
    )
    tags, properties, dataset_id = query.get("tags"), query.get("properties"), query.get("dataset_id")
    return [r for r in records if matches_filters(r, tags=tags, properties=properties, dataset_id=dataset_id)]


def _listing(query: dict[str, Any]) -> str:
    """``Model.list(name='clf', latest=True)``: the call as the step made it (its filters that were given)."""
    args = ", ".join(f"{k}={query[k]!r}" for k in LIST_FIELDS if query.get(k) not in (None, False))
    return f"Model.list({args})"


def _versions(found: list[list[Any]]) -> str:
    ids = [f"{name}:{version}" for name, version, _ in found]
    if not ids:
        return "nothing"
    return ", ".join(ids) if len(ids) <= 5 else f"{', '.join(ids[:5])} ... ({len(ids)} models)"


def _list_changed(store: MetadataStore, lookup: dict[str, Any], run_id: str) -> str | None:
    query, was = lookup["list"], [list(x) for x in lookup.get("resolved") or []]
    now = [[r.name, r.version, r.digest] for r in list_models(store, query)]
    if [x[:2] for x in now] != [x[:2] for x in was]:
        return f"{_listing(query)} returned {_versions(now)}, was {_versions(was)}"
    if now != was:
        changed = [f"{n}:{v}" for (n, v, d), (_, _, d0) in zip(now, was, strict=True) if d != d0]
        return f"{_listing(query)} returned {', '.join(changed)} with other files than when {run_id} read it"
    return None


def _asked(lookup: dict[str, Any]) -> str:
    extra = [f"{k}={lookup[k]!r}" for k in ("version", "tags", "properties", "run_id", "framework") if lookup.get(k)]
    return f"model {lookup['name']!r}" + (f" ({', '.join(extra)})" if extra else "")


def _changed(store: MetadataStore, lookups: list[dict[str, Any]], run_id: str) -> str | None:
    for lookup in lookups:
        if isinstance(lookup.get("list"), dict):
            reason = _list_changed(store, lookup, run_id)
            if reason is not None:
                return reason
            continue
        was = lookup.get("resolved_version")
        now = resolve_lookup(store, lookup)
        if now is None:
            return f"{_asked(lookup)} no longer resolves (it was version {was})"
        if now.version != was:
            return f"{_asked(lookup)} resolved to version {now.version}, was {was}"
        if now.digest != lookup.get("digest"):
            return f"{_asked(lookup)} version {was} has other files than when {run_id} read it"
    return None


def discard_stale_progress(store: MetadataStore, folder: Path) -> str | None:
    """Before a ParallelRunStep starts: when the mini-batches already finished in its progress
    ``folder`` were scored with a model the registry no longer gives, remove the folder (so all
    are scored again with one model) and say why; None when kept. A folder a live driver holds
    (``lock``) is left alone: the new driver takes a private one."""
    import fcntl
    import shutil

    lookups = read_lookups(str(folder))
    reason = _changed(store, lookups, "an earlier run of this step") if lookups else None
    if reason is None:
        return None
    try:
        lock = open(folder / "lock", "a+b")  # noqa: SIM115 - closed below, after the removal
    except OSError:
        return None
    try:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        aside = folder.with_name(f".stale-{folder.name}")
        os.replace(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        lock.close()
    return reason


def models_unchanged(store: MetadataStore, run_id: str) -> ReuseBlocker | None:
    """Why run ``run_id`` may not be reused because of a model it looked up, or None when every
    look-up still resolves to the same version with the same files."""
    recorded = store.get_properties(run_id).get(LOOKUPS_PROPERTY)
    if not recorded:
        return None
    try:
        lookups = json.loads(recorded)
    except ValueError:
        return ReuseBlocker("models-changed", f"the model look-ups recorded with run {run_id} cannot be read")
    reason = _changed(store, lookups, f"run {run_id}")
    return None if reason is None else ReuseBlocker("models-changed", reason)
