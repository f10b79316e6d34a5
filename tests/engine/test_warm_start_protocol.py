"""The starter's side of the step server's protocol (engine/executors/warm_start.py), without a server:
the replies are written into a socket pair as a server writes them."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from headwater.engine.executors.warm_start import ForkedStep, _read_line

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="warm starts are Linux-only")


def test_a_step_that_ended_before_its_pid_was_read_keeps_its_status() -> None:
    # A tiny step can end before the starter reads the server's first reply: the pid and the
    # wait status then arrive in one read.
    ours, server = socket.socketpair()
    read_end, write_end = os.pipe()
    os.close(write_end)
    with server:
        server.sendall(b'{"pid": 4242}\n{"status": 768, "orphans": false}\n')
    reply, rest = _read_line(ours)
    assert reply == {"pid": 4242}
    proc = ForkedStep(4242, ours, os.fdopen(read_end, "rb"), ["python", "x.py"], rest)
    with proc.stdout:
        assert proc.wait(timeout=5) == 3
    assert proc.orphans is False
