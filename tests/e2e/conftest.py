"""End-to-end fixtures: a small prep -> train -> compare project like the seed page's (``project``),
an empty project (``proj``), and helpers that read behaviour from records, never from wall time.

Every script appends one line to ``$HW_TEST_LEDGER`` when it starts (``script(tag, body)`` writes
such a script), so ``ran()`` tells which step processes really ran: a reused step's process never
starts. ``times()`` reads the start/end times the step runs recorded; ``overlapped()`` and
``serial()`` compare them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from tests.conftest import gen

PREP = """
import argparse, os, sys
from headwater import Run
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("prep\\n")
p = argparse.ArgumentParser()
p.add_argument("--input")
p.add_argument("--output")
p.add_argument("--scale", type=float, default=1.0)
a = p.parse_args()
os.makedirs(a.output, exist_ok=True)
rows = []
for name in sorted(os.listdir(a.input)):
    with open(os.path.join(a.input, name)) as fh:
        rows += [float(x) * a.scale for x in fh.read().split()]
with open(os.path.join(a.output, "prepped.txt"), "w") as fh:
    fh.write("\\n".join(str(r) for r in rows))
Run.get_context().log("rows", len(rows))
print("prepared", len(rows), "rows")
"""

TRAIN = """
import argparse, os
from headwater import Run
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("train\\n")
p = argparse.ArgumentParser()
p.add_argument("--prepped")
p.add_argument("--model")
p.add_argument("--lr", type=float)
a = p.parse_args()
with open(os.path.join(a.prepped, "prepped.txt")) as fh:
    values = [float(x) for x in fh.read().split()]
os.makedirs(a.model, exist_ok=True)
weight = sum(values) * a.lr
with open(os.path.join(a.model, "model.txt"), "w") as fh:
    fh.write(str(weight))
run = Run.get_context()
run.log("loss", 1.0)
run.log("loss", 0.5)
run.parent.log("best_weight", weight)
print("trained", weight)
"""

COMPARE = """
import os, sys
from headwater import Run
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("compare\\n")
model_dir = sys.argv[1]
with open(os.path.join(model_dir, "model.txt")) as fh:
    weight = float(fh.read())
Run.get_context().log("weight", weight)
os.makedirs("outputs", exist_ok=True)
with open("outputs/report.txt", "w") as fh:
    fh.write(f"weight={weight}")
print("compared", weight)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Source folders for three steps, and a ledger file that records which step processes ran."""
    root = gen(
        tmp_path / "project",
        {
            "prep_src": {"prep.py": PREP},
            "train_src": {"train.py": TRAIN},
            "compare_src": {"compare.py": COMPARE},
            "data": {"a.txt": "1 2 3\n", "b.txt": "4 5\n"},
        },
    )
    ledger = tmp_path / "ledger.txt"
    ledger.write_text("")
    monkeypatch.setenv("HW_TEST_LEDGER", str(ledger))
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder (the current directory) and the ledger; fill it with ``gen``."""
    root = tmp_path / "proj"
    root.mkdir()
    ledger = tmp_path / "ledger.txt"
    ledger.write_text("")
    monkeypatch.setenv("HW_TEST_LEDGER", str(ledger))
    monkeypatch.chdir(root)
    return root


def ran(project: Path) -> list[str]:
    """The steps whose processes started since the last call (and reset the ledger)."""
    ledger = project.parent / "ledger.txt"
    lines = [line for line in ledger.read_text().splitlines() if line]
    ledger.write_text("")
    return lines


@pytest.fixture
def pws(headwater_home: Path) -> Iterator[Workspace]:
    ws = Workspace.create("pipelines")
    yield ws
    ws.close()


@pytest.fixture
def rws(pws: Workspace) -> Workspace:
    """The workspace of the remote-datastore tests: ``pws``, under the name those tests use."""
    return pws


LEDGER_LINE = """import os as _os
with open(_os.environ["HW_TEST_LEDGER"], "a") as _f:
    _f.write({tag!r} + "\\n")
"""


def script(tag: str, body: str = "") -> str:
    """A step script that first appends ``tag`` to the ledger (its process started), then runs ``body``."""
    return LEDGER_LINE.format(tag=tag) + body


def times(run: Any) -> dict[str, tuple[datetime, datetime]]:
    """Each step run's recorded (started_at, ended_at), by step name (steps that never ran are left out)."""
    out = {}
    for step in run.get_children():
        details = step.get_details()
        if not details["startTimeUtc"] or not details["endTimeUtc"]:
            continue
        out[step.name] = (
            datetime.fromisoformat(details["startTimeUtc"]),
            datetime.fromisoformat(details["endTimeUtc"]),
        )
    return out


def overlapped(spans: list[tuple[datetime, datetime]]) -> bool:
    """True when every span started before every other one ended (they all ran at once)."""
    return max(s for s, _ in spans) < min(e for _, e in spans)


def serial(spans: list[tuple[datetime, datetime]]) -> bool:
    """True when no two spans overlap."""
    ordered = sorted(spans)
    return all(a[1] <= b[0] for a, b in itertools.pairwise(ordered))
