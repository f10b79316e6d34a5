"""``submit_detector_run``: run a data drift detector over one or more periods of its target.

A detector run is a real pipeline run in the detector's experiment, with one step per period
(``datadrift_<start date>``) running Headwater's own script (``drift_step/drift_job.py``) over
two direct tabular inputs: the baseline dataset, and the target dataset filtered to the period on
its timestamp columns (the partition timestamp first, so a time-partitioned target reads, and
digests, only the files of the period). Each step is reused as any step is: same baseline bytes,
same period's target bytes, same features, same code (the job script is the step's snapshot and
the digest of :mod:`headwater.drift`'s source is an argument) and same environment. The threshold
only decides alerts, so it is not part of the step.

Each period is recorded in ``drift_runs`` before the submit and marked Submitted (with the run id)
or Failed after it. The SDK (``DataDriftDetector.run`` / ``backfill``) and the server's scheduler
call this; it never imports the SDK.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from headwater.data.definition import definition_id, partition_keys
from headwater.errors import ConfigurationError, HeadwaterError, NotFoundError
from headwater.graph.spec import InputSpec, OutputSpec, PipelineSpec, StepSpec
from headwater.ops.drift_periods import Period, period_of
from headwater.store.repo_drift import DetectorRecord

__all__ = [
    "DRIFT_STEP_DIR",
    "DriftConfigError",
    "DriftWorkspace",
    "RUN_TYPES",
    "build_detector_spec",
    "step_name",
    "submit_detector_run",
    "target_period_record",
    "timestamp_columns",
]

#: The folder holding the detector step's script (its snapshot).
DRIFT_STEP_DIR = Path(__file__).with_name("drift_step")
_SCRIPT = "drift_job.py"
#: SDK v1's run types (``run_type`` property): an ad-hoc run, a backfill, a scheduled run.
RUN_TYPES = {"run": "Adhoc", "backfill": "BackFill", "schedule": "Scheduler"}


class DriftConfigError(HeadwaterError, ValueError):
    """A detector that cannot run as configured (its target has no timestamp column ...)."""


class DriftWorkspace(NamedTuple):
    """The little of a workspace a detector run needs (for a process without the SDK: the server)."""

    metadata_store: Any
    folder: Path


def _store_and_folder(ws: Any) -> tuple[Any, Path]:
    if isinstance(ws, tuple) and not isinstance(ws, DriftWorkspace):
        return ws[0], Path(ws[1])
    folder = getattr(ws, "folder", None) or getattr(ws, "_folder", None)
    if folder is None:
        raise TypeError(f"{ws!r} is not a workspace (it needs .metadata_store and .folder)")
    return ws.metadata_store, Path(folder)


def step_name(period: Period) -> str:
    """The name of the step that compares ``period`` (``datadrift_2026-04-03``)."""
    return f"datadrift_{period[0]:%Y-%m-%d}"


@functools.cache
def _code_digest() -> str:
    """sha256 over :mod:`headwater.drift`'s source files (paths and contents), read once per process."""
    import headwater.drift

    root = Path(headwater.drift.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


_GRANULARITY = (("ss", "seconds"), ("mm", "minutes"), ("HH", "hours"), ("dd", "days"), ("MM", "months"))


def _floor_to_partition(partition_format: str | None, column: str, start: datetime) -> datetime:
    """``start`` floored to the granularity of ``column``'s date format in ``partition_format``
    (a partition holding ``start`` has a value at or before it)."""
    import re

    m = re.search(r"\{" + re.escape(column) + r":([^{}]*)\}", partition_format or "")
    fmt = m[1] if m else ""
    for token, unit in _GRANULARITY:
        if token in fmt:
            if unit == "seconds":
                return start.replace(microsecond=0)
            if unit == "minutes":
                return start.replace(second=0, microsecond=0)
            if unit == "hours":
                return start.replace(minute=0, second=0, microsecond=0)
            if unit == "days":
                return start.replace(hour=0, minute=0, second=0, microsecond=0)
            return start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if fmt:  # a year
        return start.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return start


def _between(column: str, lower: datetime, upper: datetime) -> dict[str, Any]:
    return {
        "op": "and",
        "args": [
            {"op": ">=", "column": column, "value": {"$datetime": lower.isoformat()}},
            {"op": "<", "column": column, "value": {"$datetime": upper.isoformat()}},
        ],
    }


def timestamp_columns(target: dict[str, Any], detector_name: str) -> tuple[str, str | None]:
    """The target's ``(timestamp, partition_timestamp)``; DriftConfigError when it has none."""
    cols = target.get("definition", {}).get("timestamp_columns") or {}
    if not cols.get("timestamp"):
        raise DriftConfigError(
            f"The target dataset {target.get('name') or target.get('id')!r} of data drift detector "
            f"{detector_name!r} has no timestamp column, so it cannot be split into periods.",
            hint="Set one: target = target.with_timestamp_columns(timestamp='<column>') (and register it).",
        )
    return str(cols["timestamp"]), cols.get("partition_timestamp")


def target_period_record(target: dict[str, Any], period: Period, detector_name: str = "") -> dict[str, Any]:
    """The target dataset's record filtered to the rows of ``period`` (``start <= ts < end``).

    The partition timestamp is filtered first, from its partition's start (so a file whose
    partition holds the period's start is kept), which lets the reader and the digest skip the
    files of other periods.
    """
    fine, coarse = timestamp_columns(target, detector_name)
    start, end = period
    definition = copy.deepcopy(target["definition"])
    transformations = list(definition.get("transformations", []))
    if coarse:
        fmt = definition.get("partition_format")
        lower = _floor_to_partition(fmt, coarse, start) if coarse in partition_keys(fmt) else start
        transformations.append({"op": "filter", "expression": _between(coarse, lower, end)})
    transformations.append({"op": "filter", "expression": _between(fine, start, end)})
    definition["transformations"] = transformations
    return {
        "id": definition_id("tabular", definition),
        "kind": "tabular",
        "definition": definition,
        "name": None,
        "version": None,
        "digest": None,
        "file_digests": None,
        "baseline": None,
    }


def _dataset_input(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "kind": record.get("kind", "tabular"),
        "definition": record["definition"],
        "name": record.get("name"),
        "version": record.get("version"),
        "digest": record.get("digest"),
        "file_digests": record.get("file_digests"),
        "baseline": None,
    }


def build_detector_spec(
    detector: DetectorRecord,
    periods: Sequence[Period],
    *,
    feature_list: Sequence[str] | None = None,
    compute_target: str | None = None,
) -> PipelineSpec:
    """The pipeline of a detector run: one step per period."""
    fine, coarse = timestamp_columns(detector.target_dataset, detector.name)
    features = list(feature_list) if feature_list else detector.feature_list
    exclude = [c for c in (fine, coarse) if c]
    baseline = _dataset_input(detector.baseline_dataset)
    steps = []
    for period in periods:
        name = step_name(period)
        output = f"report_{period[0]:%Y%m%d}"
        steps.append(
            StepSpec(
                node_id=name,
                name=name,
                kind="python",
                source_directory=str(DRIFT_STEP_DIR),
                script=_SCRIPT,
                arguments=(
                    {"literal": "--start"},
                    {"literal": period[0].isoformat()},
                    {"literal": "--end"},
                    {"literal": period[1].isoformat()},
                    {"literal": "--features"},
                    {"literal": json.dumps(features) if features else ""},
                    {"literal": "--exclude"},
                    {"literal": json.dumps(exclude)},
                    {"literal": "--code"},
                    {"literal": _code_digest()},
                    {"literal": "--report"},
                    {"output": output},
                ),
                inputs=(
                    InputSpec("baseline", {"dataset": baseline}, "direct"),
                    InputSpec("target", {"dataset": target_period_record(detector.target_dataset, period)}, "direct"),
                ),
                outputs=(OutputSpec(output, path_template=f"datadrift/{detector.name}/{{run-id}}/{{output-name}}"),),
                allow_reuse=True,
                compute_target=compute_target or detector.compute_target,
                environment={"name": "headwater-datadrift"},
            )
        )
    return PipelineSpec(steps=tuple(steps), description=f"Data drift detector {detector.name!r}")


def _periods(frequency: str, target_dates: datetime | date | Sequence[datetime | date]) -> list[Period]:
    dates = [target_dates] if isinstance(target_dates, datetime | date) else list(target_dates)
    return sorted({period_of(frequency, d) for d in dates})


def submit_detector_run(
    ws: Any,
    detector: DetectorRecord | str,
    target_date: datetime | date | Sequence[datetime | date],
    *,
    feature_list: Sequence[str] | None = None,
    compute_target: str | None = None,
    trigger: str = "run",
    occurrence: str | None = None,
    holder: str | None = None,
) -> str | None:
    """Submit a detector run over the period(s) holding ``target_date`` (a date or several: a
    backfill is one run with one step per period); returns the pipeline run's id.

    ``ws``: an SDK Workspace, a :class:`DriftWorkspace` or ``(store, workspace folder)``.
    ``trigger``: ``run`` | ``backfill`` | ``schedule`` (recorded, and SDK v1's ``run_type``
    property). With ``occurrence`` (the scheduler's key of a period), the period is recorded at most
    once per detector: None is returned, and nothing submitted, when it was recorded already.
    """
    from headwater.ops.publish import workspace_ref
    from headwater.ops.submit import SubmitOptions, submit_pipeline

    store, folder = _store_and_folder(ws)
    if isinstance(detector, str):
        found: DetectorRecord | None = store.get_detector(detector)
        if found is None:
            raise NotFoundError("data drift detector", detector, candidates=[d.name for d in store.list_detectors()])
        detector = found
    assert isinstance(detector, DetectorRecord)
    if trigger not in RUN_TYPES:
        raise ConfigurationError(f"trigger must be one of {sorted(RUN_TYPES)}, got {trigger!r}")
    periods = _periods(detector.frequency, target_date)
    if occurrence is not None and len(periods) != 1:
        raise ValueError(f"an occurrence names one period; target_date covers {len(periods)}")
    spec = build_detector_spec(detector, periods, feature_list=feature_list, compute_target=compute_target)
    records = []
    for period in periods:
        rec = store.record_drift_run(
            detector.id, period[0].isoformat(), trigger=trigger, occurrence=occurrence, holder=holder
        )
        if rec is None:
            return None
        records.append(rec)
    try:
        run_id = submit_pipeline(
            store,
            workspace_ref(folder, store),
            spec,
            SubmitOptions(
                experiment_name=detector.experiment_name,
                pipeline_parameters={},
                tags={"datadrift_name": detector.name},
            ),
        )
    except Exception as exc:
        text = str(exc) if isinstance(exc, HeadwaterError) else f"{type(exc).__name__}: {exc}"
        for rec in records:
            store.finish_drift_run(rec.id, error=text)
        raise
    for rec in records:
        store.finish_drift_run(rec.id, run_id=run_id)
    store.add_properties(
        run_id,
        {
            "datadrift_id": detector.id,
            "datadrift_name": detector.name,
            "run_type": RUN_TYPES[trigger],
            "start_date": periods[0][0].isoformat(),
            "end_date": periods[-1][1].isoformat(),
        },
    )
    return run_id
