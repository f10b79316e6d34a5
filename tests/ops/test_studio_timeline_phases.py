"""The timeline's phases of a step: queue (created -> started, less the build), build, run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.ops.studio_timeline import step_phases

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_step_that_waited_built_and_ran() -> None:
    p = step_phases(at(0), at(10), at(15), build=(at(2), at(8)), now=at(99))
    assert (p.queue, p.build, p.run) == (4.0, 6.0, 5.0)


def test_a_step_with_no_build_only_queued_and_ran() -> None:
    p = step_phases(at(0), at(3), at(4), build=None, now=at(99))
    assert (p.queue, p.build, p.run) == (3.0, None, 1.0)


def test_a_build_in_progress_counts_until_now_and_the_step_has_not_run() -> None:
    p = step_phases(at(0), None, None, build=(at(1), None), now=at(5))
    assert (p.queue, p.build, p.run) == (1.0, 4.0, None)


def test_a_running_step_runs_until_now() -> None:
    p = step_phases(at(0), at(2), None, build=None, now=at(7))
    assert (p.queue, p.build, p.run) == (2.0, None, 5.0)


def test_a_step_not_created_yet_has_no_phase() -> None:
    p = step_phases(None, None, None, build=None, now=at(7))
    assert (p.queue, p.build, p.run) == (None, None, None)


def test_the_queue_is_never_negative() -> None:
    p = step_phases(at(5), at(6), at(7), build=(at(0), at(6)), now=at(9))  # clock skew
    assert p.queue == pytest.approx(0.0) and p.build == 6.0
