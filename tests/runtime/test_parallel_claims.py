"""Mini-batch claims shared by several drivers (one per node) through one progress folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.runtime.parallel_claims import claim, claims


def test_a_mini_batch_is_claimed_once_and_says_by_whom(tmp_path: Path) -> None:
    assert claim(str(tmp_path), 3, "node-a")
    assert not claim(str(tmp_path), 3, "node-b")
    assert claim(str(tmp_path), 4, "node-b")
    assert claims(str(tmp_path)) == {3: "node-a", 4: "node-b"}


@pytest.mark.slow
def test_drivers_racing_as_processes_claim_every_mini_batch_exactly_once(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from headwater.runtime.parallel_claims import claim\n"
        "won = [i for i in range(300) if claim(sys.argv[1], i, sys.argv[2])]\n"
        "print(json.dumps(won))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), f"node{n}"], stdout=subprocess.PIPE, text=True)
        for n in range(4)
    ]
    won = {}
    for n, p in enumerate(procs):
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        won[f"node{n}"] = json.loads(out)
    every = sorted(i for batch in won.values() for i in batch)
    assert every == list(range(300))  # each claimed once, none lost
    assert claims(str(tmp_path)) == {i: node for node, batch in won.items() for i in batch}
