"""Step logs (issue #12, item 12): a size cap that keeps head and tail, and streaming readers.

Memory is measured, never time: the CLI runs in a small wrapper process that reports its only
child's peak RSS (``RUSAGE_CHILDREN``); disk is the size of the log's files while the step runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.engine.executors.log_capture import LogCapture, max_log_bytes
from tests.conftest import gen

HANG_GUARD_S = 120.0
MB = 1024 * 1024

# Prints `lines` numbered lines of 100 bytes each, then waits for the gate file (if any).
LOUD = """
import os, sys, time
n = int(sys.argv[1])
gate = sys.argv[2] if len(sys.argv) > 2 else None
out = sys.stdout
for i in range(n):
    out.write(f"line {i:09d} " + "x" * 84 + "\\n")
out.flush()
if gate:
    while not os.path.exists(gate):
        time.sleep(0.02)
print("the end")
"""


def _loud_run(ws: Workspace, lines: int, gate: Path | None = None) -> object:
    args: list[object] = [str(lines), *([str(gate)] if gate else [])]
    step = PythonScriptStep(
        name="loud", script_name="loud.py", source_directory="src", arguments=args, allow_reuse=False
    )
    return Experiment(ws, "logs").submit(Pipeline(ws, [step]))


def _peak_rss_of(argv: list[str]) -> tuple[int, int]:
    """Run ``argv`` in a wrapper process; (its child's peak RSS in bytes, bytes it printed)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
        "assert p.returncode == 0, p.returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, len(p.stdout))\n"
    )
    # The wrapper holds the output it counts, but only the child's peak is reported.
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True)
    peak, printed = out.stdout.split()
    return int(peak), int(printed)


@pytest.mark.slow
def test_run_logs_streams_a_large_log_in_constant_memory(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"loud.py": LOUD}})
    small = _loud_run(pws, 10)
    small.wait_for_completion(show_output=False)  # type: ignore[attr-defined]
    lines = 600_000  # 60 MB of log
    big = _loud_run(pws, lines)
    big.wait_for_completion(show_output=False)  # type: ignore[attr-defined]
    log = big.find_step_run("loud")[0]._log_path()  # type: ignore[attr-defined]
    size = log.stat().st_size
    assert size > 50 * MB

    cli = [sys.executable, "-m", "headwater", "run", "logs", "-w", pws.name]
    baseline, _ = _peak_rss_of([*cli, small.id])  # type: ignore[attr-defined]
    peak, printed = _peak_rss_of([*cli, big.id])  # type: ignore[attr-defined]
    assert printed >= size  # it printed the whole log ...
    assert peak - baseline < size / 8, f"peak RSS grew by {(peak - baseline) / MB:.0f} MB for a {size / MB:.0f} MB log"

    followed, printed = _peak_rss_of([*cli, big.id, "--follow"])  # type: ignore[attr-defined]
    assert printed >= size
    assert followed - baseline < size / 8

    # the SDK's wait_for_completion(show_output=True) streams the step logs the same way
    waiter = (
        "import sys\n"
        "from headwater import Experiment, Workspace\n"
        "from headwater.sdk.runs import PipelineRun\n"
        "ws = Workspace.get(sys.argv[1])\n"
        "PipelineRun(Experiment(ws, 'logs'), sys.argv[2]).wait_for_completion(show_output=True)\n"
        "ws.close()\n"
    )
    sdk = [sys.executable, "-c", waiter, pws.name]
    baseline, _ = _peak_rss_of([*sdk, small.id])  # type: ignore[attr-defined]
    peak, printed = _peak_rss_of([*sdk, big.id])  # type: ignore[attr-defined]
    assert printed >= size
    assert peak - baseline < size / 8, f"peak RSS grew by {(peak - baseline) / MB:.0f} MB for a {size / MB:.0f} MB log"


def _capture(data_parts: list[bytes], log: Path, cap: int) -> bytes:
    read_fd, write_fd = os.pipe()

    def writer() -> None:
        with open(write_fd, "wb", buffering=0) as w:
            for part in data_parts:
                w.write(part)

    t = threading.Thread(target=writer)
    capture = LogCapture(open(read_fd, "rb", buffering=0), log, cap).start()  # noqa: SIM115  (it closes it)
    t.start()
    t.join()
    capture.close(linger=HANG_GUARD_S)
    return log.read_bytes()


def test_capture_keeps_head_and_tail_and_says_what_was_cut(tmp_path: Path) -> None:
    data = b"".join(f"{i:04d}\n".encode() for i in range(2000))  # 10,000 bytes
    text = _capture([data[i : i + 777] for i in range(0, len(data), 777)], tmp_path / "std_log.txt", 1000)
    head, rest = text[:500], text[500:]
    assert head == data[:500]
    assert text.endswith(data[-500:])
    assert b"[headwater] 9,000 bytes cut here (HEADWATER_MAX_LOG_MB=" in rest
    assert len(text) < 1000 + 400  # the cap and two lines that say so
    assert not list(tmp_path.glob(".*tail"))  # the ring file is gone


def test_capture_below_the_cap_is_the_output_unchanged(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    assert _capture([data[:1], data[1:]], tmp_path / "std_log.txt", 1_000_000) == data


def test_capture_just_over_half_the_cap_cuts_nothing(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3  # 768 bytes; the head is 500
    text = _capture([data], tmp_path / "std_log.txt", 1000)
    assert text.startswith(data[:500]) and text.endswith(data[500:])
    assert b"Nothing was cut" in text


def test_max_log_setting() -> None:
    assert max_log_bytes({}) == (1024 * MB, "")
    assert max_log_bytes({"HEADWATER_MAX_LOG_MB": "0"}) == (1024 * MB, "")
    assert max_log_bytes({"HEADWATER_MAX_LOG_MB": "2"}) == (2 * MB, "")
    assert max_log_bytes({"HEADWATER_MAX_LOG_MB": "0.5"}) == (MB // 2, "")
    cap, note = max_log_bytes({"HEADWATER_MAX_LOG_MB": "lots"})
    assert cap == 1024 * MB and "HEADWATER_MAX_LOG_MB='lots' is not a positive number" in note


@pytest.mark.slow
def test_a_step_log_is_capped_while_the_step_runs(
    pws: Workspace, proj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_MAX_LOG_MB", "1")
    gen(proj, {"src": {"loud.py": LOUD}})
    gate = tmp_path / "gate"
    lines = 50_000  # 5 MB of output through a 1 MB cap
    run = _loud_run(pws, lines, gate)
    step = None
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:  # wait until the step printed everything and waits at the gate
        steps = run.find_step_run("loud")  # type: ignore[attr-defined]
        if steps:
            step = steps[0]
            folder = step._log_path().parent
            ring = folder / ".std_log.txt.tail"
            if ring.exists() and ring.stat().st_size == MB // 2 and step.get_status() == "Running":
                # disk while it runs: the head, the note and the ring, never the 5 MB
                total = sum(p.stat().st_size for p in folder.iterdir())
                assert total < MB + 4096
                break
        time.sleep(0.05)
    else:
        pytest.fail("the step never filled its log's ring")
    # ... and the log can be followed: the head is there already, in order
    assert step._log_path().read_bytes().startswith(b"line 000000000 ")
    gate.write_text("")
    run.wait_for_completion(show_output=False)  # type: ignore[attr-defined]
    log = step._log_path().read_bytes()
    assert len(log) < MB + 1024
    assert log.startswith(b"line 000000000 ")
    assert log.endswith(b"line 000049999 " + b"x" * 84 + b"\nthe end\n")
    cut = lines * 100 + len(b"the end\n") - MB
    assert f"[headwater] {cut:,} bytes cut here (HEADWATER_MAX_LOG_MB=1)".encode() in log
    assert not (step._log_path().parent / ".std_log.txt.tail").exists()


@pytest.mark.slow
def test_a_ray_step_log_is_capped_too(
    pws: Workspace, proj: Path, ray_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater import ComputeTarget, RayCompute

    monkeypatch.setenv("HEADWATER_MAX_LOG_MB", "1")
    gen(proj, {"src": {"loud.py": LOUD}})
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    lines = 30_000  # 3 MB through a 1 MB cap
    step = PythonScriptStep(
        name="loud",
        script_name="loud.py",
        source_directory="src",
        arguments=[str(lines)],
        compute_target=target,
        allow_reuse=False,
    )
    run = Experiment(pws, "logs").submit(Pipeline(pws, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    log = run.find_step_run("loud")[0]._log_path().read_bytes()
    assert len(log) < MB + 1024
    assert log.startswith(b"line 000000000 ")
    assert log.endswith(b"line 000029999 " + b"x" * 84 + b"\nthe end\n")
    assert f"[headwater] {lines * 100 + 8 - MB:,} bytes cut here (HEADWATER_MAX_LOG_MB=1)".encode() in log


def test_a_bad_setting_is_said_in_the_log_and_the_default_used(tmp_path: Path) -> None:
    cap, note = max_log_bytes({"HEADWATER_MAX_LOG_MB": "-3"})
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    LogCapture(open(read_fd, "rb", buffering=0), tmp_path / "log", cap, note=note).start().close(linger=HANG_GUARD_S)  # noqa: SIM115
    assert (tmp_path / "log").read_text().startswith("[headwater] HEADWATER_MAX_LOG_MB='-3' is not a positive number")


@pytest.mark.parametrize("seed", range(5))
def test_capture_keeps_exact_head_and_tail_whatever_the_pieces(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    data = rng.randbytes(rng.randrange(9_000, 120_000))
    cap = rng.choice([10_000, 10_001, 17_777])
    pieces, i = [], 0
    while i < len(data):
        n = rng.choice([1, 7, 4096, 5000, 9000, 70_000])
        pieces.append(data[i : i + n])
        i += n
    text = _capture(pieces, tmp_path / "std_log.txt", cap)
    head, tail = cap - cap // 2, cap // 2
    assert text.startswith(data[:head])
    assert text.endswith(data[-tail:] if len(data) - head > tail else data[head:])
    cut = max(0, len(data) - head - tail)
    assert (f"[headwater] {cut:,} bytes cut here".encode() in text) == (cut > 0)
