"""SDK v1's run filters (``get_children``, ``Experiment.get_runs``, ``Experiment.list``): by tags,
properties, run type and status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.store.records import RunRecord

__all__ = ["mapping_matches", "run_matches"]


def mapping_matches(have: Mapping[str, Any], want: Any) -> bool:
    """SDK v1's tag/property filter: a string is a key that must be there; a dict, pairs that must be
    there with those values (a value of None: only the key); a list, keys that must all be there."""
    if want is None:
        return True
    if isinstance(want, str):
        return want in have
    if isinstance(want, Mapping):
        return all(k in have and (v is None or have[k] == str(v)) for k, v in want.items())
    return all(str(k) in have for k in want)


def type_matches(run: Any, record: RunRecord, type: str | None) -> bool:
    """``type`` names the run's kind (``step``, ``pipeline``, ``script``, ``interactive``) or its SDK v1
    run type (``azureml.StepRun``, ``azureml.PipelineRun``, ``azureml.scriptrun``), in any case."""
    if type is None:
        return True
    wanted = type.lower()
    return wanted in (record.kind, f"azureml.{record.kind}run", str(getattr(run, "type", "")).lower())


def run_matches(
    run: Any,
    record: RunRecord,
    *,
    tags: Any = None,
    properties: Any = None,
    type: str | None = None,
    status: str | None = None,
) -> bool:
    """Whether ``run`` (read from ``record``) passes all of SDK v1's filters that are given."""
    if status is not None and record.status != status:
        return False
    if not type_matches(run, record, type):
        return False
    if tags is not None and not mapping_matches(run.get_tags(), tags):
        return False
    return properties is None or mapping_matches(run.get_properties(), properties)
