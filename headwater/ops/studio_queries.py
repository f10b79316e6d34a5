"""What the studio's run pages show: the paged run listing and a pipeline run's step graph.

Pages and JSON routes share these functions. Everything is read with a few index-backed queries
(:mod:`headwater.store.repo_studio`): a page of the listing is one ``LIMIT``/``OFFSET`` query, one
count and one query each for the page's tags and step counts, whatever the number of runs; a
pipeline run's graph is one query for its steps plus its plan file (cached while unchanged).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError
from headwater.status import PipelineRunStatus, ScriptRunStatus, StepRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord
from headwater.store.repo_studio import SORT_COLUMNS, RunFilter, StepRow

__all__ = [
    "GRAPH_LIMIT",
    "PAGE_SIZE",
    "RunGraph",
    "RunsPage",
    "RunsQuery",
    "StepNode",
    "list_runs_page",
    "parse_runs_query",
    "run_graph",
    "step_state",
]

#: Runs per page of the listing.
PAGE_SIZE = 50
#: Past this many steps the page draws a filtered graph (the step table always lists them all).
GRAPH_LIMIT = 200

#: Every status a top-level run may have, for the status filter.
RUN_STATUSES: tuple[str, ...] = tuple(dict.fromkeys([*PipelineRunStatus, *ScriptRunStatus]))


@dataclass(frozen=True)
class RunsQuery:
    """The runs page's filters, sort and page, as its query string carries them."""

    experiment: str | None = None
    status: str | None = None
    kind: str | None = None
    tag: str | None = None  # "key" or "key=value"
    since: date | None = None
    until: date | None = None  # inclusive
    sort: str = "created"
    order: str = "desc"
    page: int = 1

    def params(self) -> dict[str, str]:
        """The query string's parameters (defaults left out), for links that keep them."""
        out = {
            "experiment": self.experiment,
            "status": self.status,
            "kind": self.kind,
            "tag": self.tag,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "sort": None if self.sort == "created" else self.sort,
            "order": None if self.order == "desc" else self.order,
        }
        return {k: v for k, v in out.items() if v}


def _date(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"{name}={value!r} is not a date", key=name, hint="Write dates as YYYY-MM-DD."
        ) from None


def parse_runs_query(params: Mapping[str, str]) -> RunsQuery:
    """The :class:`RunsQuery` of a query string; a bad value is a ConfigurationError naming it."""

    def text(key: str) -> str | None:
        value = (params.get(key) or "").strip()
        return value or None

    sort = text("sort") or "created"
    if sort not in SORT_COLUMNS:
        raise ConfigurationError(
            f"sort={sort!r} is unknown", key="sort", hint=f"Use one of: {', '.join(SORT_COLUMNS)}."
        )
    order = text("order") or "desc"
    if order not in ("asc", "desc"):
        raise ConfigurationError(f"order={order!r} is unknown", key="order", hint="Use asc or desc.")
    kind = text("kind")
    if kind not in (None, "pipeline", "script"):
        raise ConfigurationError(f"kind={kind!r} is unknown", key="kind", hint="Use pipeline or script.")
    try:
        page = max(1, int(text("page") or 1))
    except ValueError:
        raise ConfigurationError("page must be a whole number", key="page") from None
    return RunsQuery(
        experiment=text("experiment"),
        status=text("status"),
        kind=kind,
        tag=text("tag"),
        since=_date("since", text("since")),
        until=_date("until", text("until")),
        sort=sort,
        order=order,
        page=page,
    )


@dataclass(frozen=True)
class RunRow:
    """A row of the runs page."""

    run: RunRecord
    experiment: str
    tags: dict[str, str | None]
    steps: dict[str, int]  # step counts by status, "Reused" apart (pipeline runs)


@dataclass(frozen=True)
class RunsPage:
    """One page of the listing, with what its filter form offers."""

    query: RunsQuery
    rows: list[RunRow]
    total: int
    page: int
    pages: int
    experiments: list[str]
    statuses: tuple[str, ...] = RUN_STATUSES


def _filter(store: MetadataStore, q: RunsQuery, experiments: dict[str, str]) -> RunFilter | None:
    experiment_id = None
    if q.experiment is not None:
        experiment_id = next((i for i, n in experiments.items() if n == q.experiment), None)
        if experiment_id is None:
            return None  # no such experiment: no runs
    tag_key, tag_value = q.tag, None
    if q.tag is not None and "=" in q.tag:
        tag_key, tag_value = (part.strip() for part in q.tag.split("=", 1))
    return RunFilter(
        experiment_id=experiment_id,
        status=q.status,
        kind=q.kind,
        tag_key=tag_key or None,
        tag_value=tag_value,
        created_from=q.since.isoformat() if q.since else None,
        created_to=(q.until + timedelta(days=1)).isoformat() if q.until else None,
    )


def list_runs_page(store: MetadataStore, q: RunsQuery, page_size: int = PAGE_SIZE) -> RunsPage:
    """The page ``q`` asks for of every experiment's top-level runs."""
    experiments = {e.id: e.name for e in store.list_experiments()}
    f = _filter(store, q, experiments)
    total = 0 if f is None else store.count_runs(f)
    pages = max(1, math.ceil(total / page_size))
    page = min(q.page, pages)
    runs = (
        []
        if f is None
        else store.page_runs(
            f, sort=q.sort, descending=q.order == "desc", limit=page_size, offset=(page - 1) * page_size
        )
    )
    ids = [r.id for r in runs]
    tags = store.tags_of(ids)
    counts = store.step_counts([r.id for r in runs if r.kind == "pipeline"])
    rows = [RunRow(r, experiments.get(r.experiment_id, ""), tags.get(r.id, {}), counts.get(r.id, {})) for r in runs]
    return RunsPage(q, rows, total, page, pages, sorted(experiments.values()))


# -- a pipeline run's graph -----------------------------------------------------------------------

_UPSTREAM = re.compile(r"upstream step '(?P<name>.+?)' (?P<what>failed|was canceled)")


def step_state(status: str, reused_run_id: str | None) -> str:
    """What happened to a step, as the graph colours it: ran, reused, failed, canceled, running,
    queued or notstarted."""
    if status == StepRunStatus.Finished:
        return "reused" if reused_run_id else "ran"
    states: dict[str, str] = {
        StepRunStatus.Failed: "failed",
        StepRunStatus.Canceled: "canceled",
        StepRunStatus.Running: "running",
        StepRunStatus.Queued: "queued",
    }
    return states.get(status, "notstarted")


def short_reason(reason: str | None, reused: bool) -> str:
    """The reason as the node shows it: ``reused run X: unchanged`` reads ``unchanged``."""
    if not reason:
        return ""
    if reused and ": " in reason:
        return reason.split(": ", 1)[1]
    return reason


@dataclass
class StepNode:
    """A step in the graph and the table."""

    id: str
    node_id: str
    name: str
    status: str
    state: str
    reason: str
    started_at: str | None
    ended_at: str | None
    reused_run_id: str | None
    compute_target: str | None
    error: str | None = None
    cause_id: str | None = None  # a canceled step: the failed step it was canceled because of
    cause_name: str | None = None
    root_cause: bool = False  # a failed step (canceled ones point at it)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "node": self.node_id,
            "name": self.name,
            "status": self.status,
            "state": self.state,
            "reason": self.reason,
            "started": self.started_at,
            "ended": self.ended_at,
            "reused": self.reused_run_id,
            "cause": self.cause_id,
            "causeName": self.cause_name,
            "root": self.root_cause,
            "error": self.error,
        }


@dataclass
class RunGraph:
    """A pipeline run's steps and the edges between them (``[from node, to node, label]``)."""

    run: RunRecord
    steps: list[StepNode]
    edges: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def collapsed(self) -> bool:
        return len(self.steps) > GRAPH_LIMIT

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.steps:
            out[s.state] = out.get(s.state, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run.id,
            "status": self.run.status,
            "limit": GRAPH_LIMIT,
            "steps": [s.to_json() for s in self.steps],
            "edges": [list(e) for e in self.edges],
        }


@lru_cache(maxsize=16)
def _plan_edges(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, str, str], ...]:
    """The data edges (labelled with the output they carry) and control edges of a plan file."""
    spec = json.loads(Path(path).read_text(encoding="utf-8"))["spec"]
    made_by: dict[str, list[str]] = {}
    for s in spec["steps"]:
        for o in s.get("outputs", ()):
            made_by.setdefault(o["name"], []).append(s["node_id"])
    edges: list[tuple[str, str, str]] = []
    for s in spec["steps"]:
        for i in s.get("inputs", ()):
            output = i.get("source", {}).get("output")
            for producer in made_by.get(output, ()) if output else ():
                if producer != s["node_id"]:
                    edges.append((producer, s["node_id"], output))
        edges.extend((after, s["node_id"], "") for after in s.get("run_after", ()))
    return tuple(edges)


def plan_edges(run: RunRecord) -> list[tuple[str, str, str]]:
    """The edges of a pipeline run's graph, from its plan file (none when the file is gone)."""
    path = run.definition.get("plan")
    if not path:
        return []
    try:
        st = Path(path).stat()
        return list(_plan_edges(str(path), st.st_mtime_ns, st.st_size))
    except (OSError, ValueError, KeyError):
        return []


def step_nodes(rows: list[StepRow]) -> list[StepNode]:
    """The steps' graph nodes, canceled ones linked to the failure that canceled them."""
    nodes = [
        StepNode(
            id=r.id,
            node_id=r.node_id or r.name or r.id,
            name=r.name or r.node_id or r.id,
            status=r.status,
            state=step_state(r.status, r.reused_run_id),
            reason=short_reason(r.reason, r.reused_run_id is not None),
            started_at=r.started_at,
            ended_at=r.ended_at,
            reused_run_id=r.reused_run_id,
            compute_target=r.compute_target,
            error=(r.error or {}).get("message") if isinstance(r.error, dict) else None,
        )
        for r in rows
    ]
    failed = sorted((n for n in nodes if n.state == "failed"), key=lambda n: n.ended_at or "")
    by_name: dict[str, StepNode] = {}
    for n in nodes:
        by_name.setdefault(n.name, n)
    for n in failed:
        n.root_cause = True
        by_name[n.name] = n  # a failed step wins a name shared with another step
    for n in nodes:
        if n.state != "canceled":
            continue
        found = _UPSTREAM.search(n.error or "")
        cause = by_name.get(found.group("name")) if found else None
        if cause is not None and cause.state == "canceled" and cause.cause_id is not None:
            cause = next((c for c in nodes if c.id == cause.cause_id), cause)
        if (cause is None or cause.state != "failed") and failed:
            cause = failed[0]
        if cause is not None and cause.state == "failed":
            n.cause_id, n.cause_name = cause.id, cause.name
    return nodes


def run_graph(store: MetadataStore, run: RunRecord) -> RunGraph:
    """A pipeline run's steps (oldest first) and the edges between them."""
    return RunGraph(run, step_nodes(store.step_rows(run.id)), plan_edges(run))
