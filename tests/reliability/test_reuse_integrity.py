"""Reuse trusts an output only while it holds the bytes its run committed (issue #12, items 1 and 3).

Item 1: a committed output on a local datastore that was edited, emptied, pruned or added to after
its run wrote it is not reused: its producer runs again and says why, and its consumers run again
only when the producer's new bytes differ (early cut-off). An unchanged output is checked through
the digest cache (``stat`` only), never re-read.

Item 3: concurrent runs that write one fixed destination (no ``{run-id}`` in it) never read each
other's bytes: a run holds a lease on the destination from before its producer starts until its
consumers have ended, and a consumer whose upstream output changed under it fails, saying so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    Workspace,
)
from headwater.plan import digests
from tests.conftest import gen
from tests.e2e.conftest import ran, script

STORE = "workspaceblobstore"

#: Output files are dated an hour back, as if written long before the step ended, so the digest
#: taken at commit is cached (a file modified in the last 2 s is "racy" and never cached).
AGE = """
import time as _time
def age(folder):
    then = _time.time() - 3600
    for root, _dirs, files in os.walk(folder):
        for name in files:
            os.utime(os.path.join(root, name), (then, then))
"""

S1 = script(
    "s1",
    """
import os, sys, uuid
"""
    + AGE
    + """
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "data.txt"), "w") as fh:
    fh.write("hello\\n")
if "--nonce" in sys.argv:
    with open(os.path.join(out, "nonce.txt"), "w") as fh:
        fh.write(uuid.uuid4().hex)
age(out)
""",
)

COPY = """
import os, shutil, sys
"""  + AGE + """
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in sorted(os.listdir(src)):
    shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
age(dst)
"""


@pytest.fixture
def chain(proj: Path, pws: Workspace) -> Path:
    gen(proj, {"s1_src": {"s1.py": S1}, "s2_src": {"s2.py": script("s2", COPY)},
               "s3_src": {"s3.py": script("s3", COPY)}})
    return proj


def build(ws: Workspace, *, nonce: bool = False) -> Pipeline:
    s1_out = OutputFileDatasetConfig(name="s1_out")
    s2_out = OutputFileDatasetConfig(name="s2_out")
    s3_out = OutputFileDatasetConfig(name="s3_out")
    s1 = PythonScriptStep("s1.py", name="s1", source_directory="s1_src",
                          arguments=[s1_out, *(["--nonce"] if nonce else [])])
    s2 = PythonScriptStep("s2.py", name="s2", source_directory="s2_src", arguments=[s1_out.as_input("s1_in"), s2_out])
    s3 = PythonScriptStep("s3.py", name="s3", source_directory="s3_src", arguments=[s2_out.as_input("s2_in"), s3_out])
    return Pipeline(ws, steps=[s1, s2, s3])


def submit(ws: Workspace, pipeline: Pipeline, **kwargs: Any) -> Any:
    run = Experiment(ws, "integrity").submit(pipeline, **kwargs)
    status = run.wait_for_completion(show_output=False)
    assert status == "Finished", [(s.name, s.get_details().get("error")) for s in run.get_steps()]
    return run


def reasons(run: Any) -> dict[str, str]:
    return {s.name: s.reason for s in run.get_steps()}


def output_folder(ws: Workspace, run: Any, step: str) -> Path:
    step_run = run.find_step_run(step)[0]
    path = step_run.get_output_data(f"{step}_out").path_on_datastore
    local = Datastore(ws, STORE)._backend.local_path(path)
    assert local is not None and local.is_dir()
    return Path(local)


def _edit(folder: Path) -> None:  # same size, other bytes
    (folder / "data.txt").write_text("HELLO\n")


def _empty(folder: Path) -> None:
    (folder / "data.txt").write_text("")


def _delete(folder: Path) -> None:
    (folder / "data.txt").unlink()


def _add(folder: Path) -> None:
    (folder / "extra.txt").write_text("not written by the step\n")


TAMPER: dict[str, Callable[[Path], None]] = {"edit": _edit, "empty": _empty, "delete": _delete, "add": _add}
REUSED = "reused run"


def changed_on_disk(step: str, run_id: str) -> str:
    return f"output '{step}_out' of the reused run {run_id} changed on disk"


@pytest.mark.slow
@pytest.mark.parametrize("how", sorted(TAMPER))
def test_a_tampered_output_reruns_its_producer_and_cuts_off_its_consumers(
    chain: Path, pws: Workspace, how: str
) -> None:
    first = submit(pws, build(pws))
    assert sorted(ran(chain)) == ["s1", "s2", "s3"]
    s1_first = first.find_step_run("s1")[0]
    TAMPER[how](output_folder(pws, first, "s1"))

    second = submit(pws, build(pws))
    assert ran(chain) == ["s1"]  # s1 writes the same bytes again: s2 and s3 are cut off
    got = reasons(second)
    assert got["s1"].startswith(changed_on_disk("s1", s1_first.id)), got
    assert got["s2"].startswith(REUSED) and got["s3"].startswith(REUSED), got
    assert (output_folder(pws, second, "s1") / "data.txt").read_text() == "hello\n"

    third = submit(pws, build(pws))  # what s1 wrote again is intact: nothing runs, every submit after
    assert ran(chain) == []
    assert all(r.startswith(REUSED) for r in reasons(third).values())


@pytest.mark.slow
def test_consumers_rerun_when_the_producer_writes_other_bytes(chain: Path, pws: Workspace) -> None:
    first = submit(pws, build(pws, nonce=True))
    ran(chain)
    _edit(output_folder(pws, first, "s1"))
    second = submit(pws, build(pws, nonce=True))
    assert sorted(ran(chain)) == ["s1", "s2", "s3"]  # a new nonce: s2's input differs, and s3's
    got = reasons(second)
    assert got["s1"].startswith(changed_on_disk("s1", first.find_step_run("s1")[0].id))
    assert got == {"s1": got["s1"], "s2": "input 's1_in' changed", "s3": "input 's2_in' changed"}


@pytest.mark.slow
@pytest.mark.parametrize("step", ["s2", "s3"])
def test_a_tampered_output_further_down_reruns_only_its_producer(chain: Path, pws: Workspace, step: str) -> None:
    # s3's output tampered: s1 and s2 would be reused, so only the last decision says no (the
    # submit-time "every step is reused" path must not finish the run)
    first = submit(pws, build(pws))
    ran(chain)
    _edit(output_folder(pws, first, step))
    second = submit(pws, build(pws))
    assert ran(chain) == [step]
    got = reasons(second)
    assert got[step].startswith(changed_on_disk(step, first.find_step_run(step)[0].id)), got
    assert all(r.startswith(REUSED) for name, r in got.items() if name != step), got


@pytest.mark.slow
def test_an_unchanged_output_is_not_read_again(chain: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    first = submit(pws, build(pws))
    ran(chain)
    outputs = [str(output_folder(pws, first, s)) for s in ("s1", "s2", "s3")]
    hashed: list[str] = []
    real = digests._hash_file

    def counting(path: str, size: int) -> str:
        hashed.append(path)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", counting)
    second = submit(pws, build(pws))  # every step reused: decided inside this process
    assert ran(chain) == []
    assert all(r.startswith(REUSED) for r in reasons(second).values())
    # the digests taken when the outputs were committed were kept for the committed files: a stat each
    assert [p for p in hashed if any(p.startswith(o) for o in outputs)] == []
    # and a changed file is read again (the check is not just a cache look-up)
    _edit(Path(outputs[2]))
    hashed.clear()
    third = submit(pws, build(pws))
    assert ran(chain) == ["s3"]
    assert str(Path(outputs[2]) / "data.txt") in hashed
    assert reasons(third)["s3"].startswith(changed_on_disk("s3", first.find_step_run("s3")[0].id))


@pytest.mark.slow
def test_a_removed_output_folder_still_says_it_no_longer_exists(chain: Path, pws: Workspace) -> None:
    first = submit(pws, build(pws))
    ran(chain)
    shutil.rmtree(output_folder(pws, first, "s1"))
    second = submit(pws, build(pws))
    assert ran(chain) == ["s1"]
    assert reasons(second)["s1"] == f"the outputs of run {first.find_step_run('s1')[0].id} no longer exist"
