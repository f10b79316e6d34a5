"""The studio's metric queries: one run's metrics grouped for display, and one metric across runs.

A run's metrics (:func:`run_metrics`) come out as what the page shows: scalars logged once (a
table), series (a scalar logged more than once: a line chart), tables (``log_table``, the rows of
``log_row``, ``log_list`` as one column, SDK v1's typed tables) and images (``log_image``: the
artifact file, served from the run folder by :func:`image_file`). A pipeline run's own metrics are
those its steps logged with ``run.parent.log(...)``; :func:`run_metrics` of a pipeline run adds
each step's metrics by step.

:func:`experiment_metric` compares one metric across an experiment's runs (a pipeline's steps
count as part of their pipeline run: ``<step>/<metric>``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.layout import ARTIFACTS_DIR
from headwater.store.metadata import MetadataStore
from headwater.store.records import MetricRecord, RunRecord

__all__ = [
    "ImageMetric",
    "RunMetrics",
    "Series",
    "TableMetric",
    "experiment_metric",
    "experiment_metric_names",
    "image_file",
    "run_metrics",
]


@dataclass(frozen=True)
class Series:
    """A metric logged several times: its values in logging order (``None`` for a non-number)."""

    name: str
    values: list[float | None]
    description: str | None = None


@dataclass(frozen=True)
class TableMetric:
    """A table: column names and rows (``log_table``, ``log_row`` rows, ``log_list`` as one column)."""

    name: str
    kind: str  # 'table' | 'row' | 'list'
    columns: list[str]
    rows: list[list[Any]]
    description: str | None = None


@dataclass(frozen=True)
class ImageMetric:
    name: str
    artifact: str  #: the artifact's path inside ``artifacts/`` (``images/<name>.png``)
    description: str | None = None


@dataclass
class RunMetrics:
    """What the metrics page of one run shows."""

    run_id: str
    scalars: list[tuple[str, Any, str | None]] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    tables: list[TableMetric] = field(default_factory=list)
    images: list[ImageMetric] = field(default_factory=list)
    steps: list[tuple[RunRecord, RunMetrics]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.scalars or self.series or self.tables or self.images or self.steps)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def group_metrics(run_id: str, records: list[MetricRecord]) -> RunMetrics:
    """``records`` (one run's, in logging order) grouped as the page shows them."""
    out = RunMetrics(run_id)
    by_name: dict[str, list[MetricRecord]] = {}
    for m in records:
        by_name.setdefault(m.name, []).append(m)
    for name, group in by_name.items():
        kind, description = group[0].kind, group[-1].description
        if kind == "scalar" and len(group) == 1:
            out.scalars.append((name, group[0].value, description))
        elif kind == "scalar":
            out.series.append(Series(name, [_number(m.value) for m in group], description))
        elif kind == "row":
            columns: list[str] = []
            for m in group:
                columns += [c for c in m.value if c not in columns]
            rows = [[m.value.get(c) for c in columns] for m in group]
            out.tables.append(TableMetric(name, "row", columns, rows, description))
        elif kind == "list":
            for i, m in enumerate(group):
                label = name if len(group) == 1 else f"{name} ({i + 1})"
                values = m.value if isinstance(m.value, list) else [m.value]
                out.tables.append(TableMetric(label, "list", [name], [[v] for v in values], description))
        elif kind == "table":
            for m in group:
                out.tables.append(_table(name, m.value, description))
        elif kind == "image":
            out.images += [ImageMetric(name, str(m.value), description) for m in group]
    return out


def _table(name: str, value: Any, description: str | None) -> TableMetric:
    """A ``log_table`` value (``{column: [values]}``) as rows; another shape (SDK v1's typed tables)
    as one row of its top-level keys."""
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        columns = list(value)
        length = max(len(v) for v in value.values())
        rows = [[value[c][i] if i < len(value[c]) else None for c in columns] for i in range(length)]
        return TableMetric(name, "table", columns, rows, description)
    if isinstance(value, dict):
        return TableMetric(name, "table", list(value), [list(value.values())], description)
    return TableMetric(name, "table", [name], [[value]], description)


def run_metrics(store: MetadataStore, run: RunRecord) -> RunMetrics:
    """The metrics of ``run``; for a pipeline run, its own (``run.parent.log``) and each step's."""
    out = group_metrics(run.id, store.get_metrics(run.id))
    if run.kind == "pipeline":
        for step in reversed(store.list_runs(parent_id=run.id)):
            metrics = group_metrics(step.id, store.get_metrics(step.id))
            if not metrics.empty:
                out.steps.append((step, metrics))
    return out


def image_file(store: MetadataStore, ws_folder: Path, run: RunRecord, artifact: str) -> Path:
    """The file of image artifact ``artifact`` of ``run``: in its own ``artifacts/``, or, for an image
    a step logged on its pipeline run (``run.parent.log_image``), in that step's.

    The artifact must be one an image metric of the run (or of one of its steps) names, so only
    files inside run folders are ever served (:func:`~headwater.ops.studio_logs.run_file` checks).
    """
    from headwater.errors import NotFoundError
    from headwater.ops.studio_logs import run_file

    runs = [run, *(store.list_runs(parent_id=run.id) if run.kind == "pipeline" else [])]
    named = {str(m.value) for r in runs for m in store.get_metrics(r.id) if m.kind == "image"}
    if artifact in named:
        for owner in runs:  # a step's run.parent.log_image keeps the file in the step's folder
            try:
                return run_file(ws_folder, owner.id, f"{ARTIFACTS_DIR}/{artifact}")
            except NotFoundError:
                continue
    raise NotFoundError("Image", artifact, where=f"run {run.id}", hint="Open the run's metrics page to see its images.")


# -- across runs -------------------------------------------------------------------------------------


def _runs_and_steps(store: MetadataStore, runs: list[RunRecord]) -> dict[str, list[MetricRecord]]:
    """``{run id: metrics}`` of top-level runs, their steps' metrics named ``<step>/<metric>``
    (one query for all the metrics)."""
    owner: dict[str, tuple[str, str | None]] = {r.id: (r.id, None) for r in runs}
    for run in runs:
        if run.kind == "pipeline":
            for step in store.list_runs(parent_id=run.id):
                owner[step.id] = (run.id, step.name or step.id)
    out: dict[str, list[MetricRecord]] = {r.id: [] for r in runs}
    for m in store.get_metrics_of_runs(list(owner)):
        top, step_name = owner[m.run_id]
        name = m.name if step_name is None else f"{step_name}/{m.name}"
        out[top].append(MetricRecord(m.run_id, name, m.kind, m.value, m.description, m.logged_at))
    return out


def experiment_metric_names(store: MetadataStore, runs: list[RunRecord]) -> list[str]:
    """The numeric metric names (scalar kind) logged by ``runs`` (or their steps), sorted."""
    return sorted({m.name for ms in _runs_and_steps(store, runs).values() for m in ms if m.kind == "scalar"})


def experiment_metric(store: MetadataStore, runs: list[RunRecord], metric: str) -> dict[str, list[float | None]]:
    """``{run id: values of `metric` in logging order}`` for the runs that logged it (scalars only)."""
    out: dict[str, list[float | None]] = {}
    for run_id, metrics in _runs_and_steps(store, runs).items():
        values = [_number(m.value) for m in metrics if m.name == metric and m.kind == "scalar"]
        if values:
            out[run_id] = values
    return out
