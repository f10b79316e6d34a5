"""A pipeline run's timeline, for the studio's gantt (``/studio/runs/{run_id}/timeline``).

One bar per step from the times the step run recorded, in phases: queue (from the step run's
creation until it started: its upstream steps, a free slot), build (its environment being built,
from the ``headwater.build_started``/``headwater.build_ended`` properties the orchestrator records
for a step whose environment it builds) and run (started → ended). A reused step takes no time;
its row shows the time reuse saved: the duration of the run it reused (the run that really ran:
reuse always points at one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from headwater.engine.env_builds import BUILD_ENDED, BUILD_STARTED
from headwater.errors import NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["Phases", "Timeline", "TimelineRow", "run_timeline", "step_phases"]


@dataclass(frozen=True)
class Phases:
    """Seconds a step spent queued (created → started, less its build), building its environment
    and running (None: a phase it did not reach or have)."""

    queue: float | None
    build: float | None
    run: float | None


def step_phases(
    created: datetime | None,
    started: datetime | None,
    ended: datetime | None,
    *,
    build: tuple[datetime, datetime | None] | None,
    now: datetime,
) -> Phases:
    """A step's phases from its times; ``build`` is (started, ended or None while it builds)."""
    built = None if build is None else _seconds(build[0], build[1] or started or ended or now)
    waited = _seconds(created, started or now) if created is not None else None
    queue = None if waited is None else max(0.0, waited - (built or 0.0))
    ran = _seconds(started, ended or now) if started is not None else None
    return Phases(queue, built, ran)


@dataclass(frozen=True)
class TimelineRow:
    """One step's bar; offsets and lengths in seconds from the run's start (None: not reached)."""

    run_id: str
    name: str
    status: str
    start: float | None  # when the step started running
    end: float | None  # when it ended (or now, while it runs)
    running: bool
    reused_run_id: str | None
    saved: float | None  # seconds a reused step saved: the reused run's duration
    reason: str | None
    queued: float | None = None  # when the step run was created (its queue starts)
    build_start: float | None = None  # its environment build (None: no build)
    build_end: float | None = None
    phases: Phases = Phases(None, None, None)

    @property
    def duration(self) -> float | None:
        return None if self.start is None or self.end is None else max(0.0, self.end - self.start)


@dataclass(frozen=True)
class Timeline:
    run: RunRecord
    span: float  # seconds from the run's start to its end (or now)
    rows: list[TimelineRow]

    @property
    def saved(self) -> float:
        """Seconds reuse saved in this run (the sum over reused steps)."""
        return sum(r.saved or 0.0 for r in self.rows)

    def percent(self, seconds: float | None) -> float:
        """``seconds`` as a percentage of the span (for the bars' CSS)."""
        if seconds is None or self.span <= 0:
            return 0.0
        return round(max(0.0, min(100.0, 100.0 * seconds / self.span)), 3)


def _t(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds()


def run_timeline(store: MetadataStore, run_id: str, now: datetime | None = None) -> Timeline:
    """The timeline of pipeline run ``run_id`` (a script run: one row)."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError("Run", run_id, hint="Pick a run from the runs list.")
    now = now or datetime.now(UTC)
    steps = list(reversed(store.list_runs(parent_id=run.id))) if run.kind == "pipeline" else [run]
    origin = _t(run.started_at) or _t(run.created_at) or now
    for s in steps:  # a step recorded before the run's start (clock skew): the timeline starts there
        started = _t(s.started_at)
        if started is not None and started < origin:
            origin = started
    rows: list[TimelineRow] = []
    last = _t(run.ended_at) or now
    reused_ids = [s.reused_run_id for s in steps if s.reused_run_id]
    earlier = {r.id: r for r in (store.get_run(i) for i in dict.fromkeys(reused_ids)) if r is not None}
    builds = store.properties_of([s.id for s in steps], (BUILD_STARTED, BUILD_ENDED))
    for s in steps:
        started, ended = _t(s.started_at), _t(s.ended_at)
        recorded = builds.get(s.id, {})
        build_start, build_end = _t(recorded.get(BUILD_STARTED)), _t(recorded.get(BUILD_ENDED))
        phases = step_phases(
            _t(s.created_at), started, ended, build=None if build_start is None else (build_start, build_end), now=now
        )
        created = _seconds(origin, _t(s.created_at))
        running = started is not None and ended is None
        if running:
            ended = now
        if ended is not None and ended > last:
            last = ended
        saved = None
        if s.reused_run_id:
            e = earlier.get(s.reused_run_id)
            saved = None if e is None else _seconds(_t(e.started_at), _t(e.ended_at))
        rows.append(
            TimelineRow(
                s.id,
                s.name or s.id,
                s.status,
                _seconds(origin, started),
                _seconds(origin, ended),
                running,
                s.reused_run_id,
                saved,
                s.reason,
                None if created is None else max(0.0, created),
                _seconds(origin, build_start),
                _seconds(origin, build_end or (None if build_start is None else started or ended or now)),
                phases,
            )
        )
    return Timeline(run, max(0.0, (last - origin).total_seconds()), rows)
