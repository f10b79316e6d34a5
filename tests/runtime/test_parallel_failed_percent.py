"""allowed_failed_percent stops a ParallelRunStep's job as soon as the failed share of its
mini-batches can no longer end under the limit (failed > percent x total), as error_threshold and
allowed_failed_count stop it once exceeded — not only after every mini-batch was scored.

SDK v1 counts mini-batches for it (not items): "the percent of failed mini batches ... for the
entire input". The driver runs as a real process with a real worker (one, so the mini-batches are
scored in order)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.test_parallel_nodes import _drive

pytestmark = pytest.mark.slow

# Fails the mini-batch holding one of the files named in HW_FAIL; notes the files it scored.
SCORE = """
import os

def init():
    pass

def run(mini_batch):
    for p in mini_batch:
        if os.path.basename(p) in os.environ["HW_FAIL"].split(","):
            raise ValueError("bad file " + p)
    with open(os.environ["HW_EVENTS"], "a") as f:
        f.write("".join(os.path.basename(p) + "\\n" for p in mini_batch))
    return [os.path.basename(p) for p in mini_batch]
"""


def _scored(tmp_path: Path) -> list[str]:
    events = tmp_path / "events.txt"
    return events.read_text().split() if events.exists() else []


def test_the_job_stops_once_the_failed_share_is_certain_to_exceed_the_limit(tmp_path: Path) -> None:
    # 20 mini-batches, 10% allowed: 2 may fail; the third failure (of the first three) ends the job.
    done, logs = _drive(tmp_path, 1, "--allowed_failed_percent", "10", score=SCORE, files=20,
                        fail="f00.txt,f01.txt,f02.txt")  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 failed mini-batch(es) of 20 (15.0%) exceed allowed_failed_percent=10" in done.stderr, done.stderr
    assert (logs / "job_result.txt").read_text().startswith("Failed")
    assert len(_scored(tmp_path)) < 17  # stopped soon, not after scoring all the others


def test_a_failed_share_at_the_limit_lets_the_job_succeed(tmp_path: Path) -> None:
    done, logs = _drive(tmp_path, 1, "--allowed_failed_percent", "10", score=SCORE, files=20,
                        fail="f00.txt,f01.txt")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_scored(tmp_path)) == 18
    assert (logs / "job_result.txt").read_text().startswith("Succeeded")


def test_mini_batches_are_counted_not_items(tmp_path: Path) -> None:
    # 5 mini-batches of 4 files; one failed file fails its mini-batch: 2 of 5 = 40% > 30%
    # (counted in files it would be 2 of 20 = 10%, under the limit).
    done, _ = _drive(tmp_path, 1, "--allowed_failed_percent", "30", "--mini_batch_size", "4", score=SCORE,
                     files=20, fail="f00.txt,f04.txt")  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed mini-batch(es) of 5 (40.0%) exceed allowed_failed_percent=30" in done.stderr, done.stderr
    assert len(_scored(tmp_path)) < 12
