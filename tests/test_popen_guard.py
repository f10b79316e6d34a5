"""The session guard against subprocesses nobody waits for (tests/fixtures/popen_guard.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.fixtures.popen_guard import unwaited


def test_a_popen_not_waited_for_is_listed_with_the_test_that_started_it() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        listed = [line for line in unwaited() if f"pid {proc.pid} " in line]
        assert len(listed) == 1
        assert listed[0].startswith("tests/test_popen_guard.py::test_a_popen_not_waited_for_is_listed")
    finally:
        proc.wait()
    assert not [line for line in unwaited() if f"pid {proc.pid} " in line]
