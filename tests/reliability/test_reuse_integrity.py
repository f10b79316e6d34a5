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

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
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

COPY = (
    """
import os, shutil, sys
"""
    + AGE
    + """
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in sorted(os.listdir(src)):
    shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
age(dst)
"""
)


@pytest.fixture
def chain(proj: Path, pws: Workspace) -> Path:
    gen(
        proj,
        {"s1_src": {"s1.py": S1}, "s2_src": {"s2.py": script("s2", COPY)}, "s3_src": {"s3.py": script("s3", COPY)}},
    )
    return proj


def build(ws: Workspace, *, nonce: bool = False) -> Pipeline:
    s1_out = OutputFileDatasetConfig(name="s1_out")
    s2_out = OutputFileDatasetConfig(name="s2_out")
    s3_out = OutputFileDatasetConfig(name="s3_out")
    s1 = PythonScriptStep(
        "s1.py", name="s1", source_directory="s1_src", arguments=[s1_out, *(["--nonce"] if nonce else [])]
    )
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


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # not a file that can be hashed: never opened


def _link_out(path: Path) -> None:
    path.symlink_to(path.parents[5] / "outside.txt")  # a link leaving the datastore: never followed


@pytest.mark.slow
@pytest.mark.timeout(60)  # without the guard, hashing the FIFO would wait for a writer forever
@pytest.mark.parametrize(
    ("how", "why"), [(_fifo, "not a regular file"), (_link_out, "escapes datastore")], ids=["fifo", "link"]
)
def test_an_output_that_cannot_be_read_reruns_its_producer(
    chain: Path, pws: Workspace, how: Callable[[Path], None], why: str
) -> None:
    first = submit(pws, build(pws))
    ran(chain)
    folder = output_folder(pws, first, "s1")
    (folder / "data.txt").unlink()
    how(folder / "data.txt")
    second = submit(pws, build(pws))
    assert ran(chain) == ["s1"]
    got = reasons(second)["s1"]
    assert got.startswith(f"output 's1_out' of the reused run {first.find_step_run('s1')[0].id} cannot be read")
    assert why in got, got


@pytest.mark.slow
def test_an_output_left_empty_is_reused_while_it_stays_empty(proj: Path, pws: Workspace) -> None:
    gen(proj, {"e_src": {"e.py": script("e", "import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\n")}})

    def pipeline() -> Pipeline:
        out = OutputFileDatasetConfig(name="e_out")
        return Pipeline(pws, steps=[PythonScriptStep("e.py", name="e", source_directory="e_src", arguments=[out])])

    first = submit(pws, pipeline())
    assert ran(proj) == ["e"]
    submit(pws, pipeline())
    assert ran(proj) == []  # an empty folder is the empty output it was, not a missing one
    _add(output_folder(pws, first, "e"))
    assert reasons(submit(pws, pipeline()))["e"].startswith(changed_on_disk("e", first.find_step_run("e")[0].id))


@pytest.mark.slow
def test_a_removed_output_folder_still_says_it_no_longer_exists(chain: Path, pws: Workspace) -> None:
    first = submit(pws, build(pws))
    ran(chain)
    shutil.rmtree(output_folder(pws, first, "s1"))
    second = submit(pws, build(pws))
    assert ran(chain) == ["s1"]
    assert reasons(second)["s1"] == f"the outputs of run {first.find_step_run('s1')[0].id} no longer exist"


# -- item 3: one fixed destination, concurrent runs -------------------------------------------------

WRITER = script(
    "writer",
    """
import argparse, os, time
p = argparse.ArgumentParser()
p.add_argument("--tag"); p.add_argument("--out"); p.add_argument("--go", default="")
a = p.parse_args()
while a.go and not os.path.exists(a.go):  # hold still until the test says go
    time.sleep(0.02)
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "data.txt"), "w") as fh:
    fh.write(a.tag)
""",
)

READER = script(
    "reader",
    """
import os, sys, time
src, dst = sys.argv[1], sys.argv[2]
time.sleep(0.3)  # long enough for another run's writer to commit over the input, if it may
with open(os.path.join(src, "data.txt")) as fh:
    seen = fh.read()
os.makedirs(dst, exist_ok=True)
with open(os.path.join(dst, "seen.txt"), "w") as fh:
    fh.write(seen)
if len(sys.argv) > 3:  # write straight into the shared destination, as another writer would
    with open(os.path.join(sys.argv[3], "data.txt"), "w") as fh:
        fh.write("scribbled by the reader")
""",
)

TAMPERER = script(
    "tamperer",
    """
import os, sys
with open(os.path.join(sys.argv[1], "data.txt"), "w") as fh:
    fh.write("scribbled by another tool")
""",
)

FIXED = "fixed/out"


@pytest.fixture
def shared(proj: Path, pws: Workspace) -> Path:
    gen(proj, {"w_src": {"writer.py": WRITER}, "r_src": {"reader.py": READER}, "t_src": {"tamperer.py": TAMPERER}})
    return proj


def fixed_pipeline(ws: Workspace, *, go: str = "", tamper: bool = False, scribble: bool = False) -> Pipeline:
    store = Datastore(ws, STORE)
    fixed = OutputFileDatasetConfig(name="shared", destination=(store, FIXED))
    seen = OutputFileDatasetConfig(name="seen")
    tag = PipelineParameter(name="tag", default_value="none")
    local = str(store._backend.local_path(FIXED))
    writer = PythonScriptStep(
        "writer.py",
        name="writer",
        source_directory="w_src",
        allow_reuse=False,
        arguments=["--tag", tag, "--out", fixed, *(["--go", go] if go else [])],
    )
    reader = PythonScriptStep(
        "reader.py",
        name="reader",
        source_directory="r_src",
        allow_reuse=False,
        arguments=[fixed.as_input("shared_in"), seen, *([local] if scribble else [])],
    )
    steps = [writer, reader]
    if tamper:  # between the writer's commit and the reader's start
        tamperer = PythonScriptStep(
            "tamperer.py", name="tamperer", source_directory="t_src", allow_reuse=False, arguments=[local]
        )
        tamperer.run_after(writer)
        reader.run_after(tamperer)
        steps.append(tamperer)
    return Pipeline(ws, steps=steps)


def seen_by_reader(ws: Workspace, run: Any) -> str:
    step = run.find_step_run("reader")[0]
    path = step.get_output_data("seen").path_on_datastore
    return Path(Datastore(ws, STORE)._backend.root, path, "seen.txt").read_text()


def reader_error(run: Any) -> str:
    return str(run.find_step_run("reader")[0].get_details().get("error", {}).get("message", ""))


@pytest.mark.slow
def test_concurrent_runs_on_one_fixed_destination_each_read_their_own_writer(shared: Path, pws: Workspace) -> None:
    pipeline = fixed_pipeline(pws)
    runs = {
        f"run-{i}": Experiment(pws, "fixed").submit(pipeline, pipeline_parameters={"tag": f"run-{i}"}) for i in range(4)
    }
    for tag, run in runs.items():
        status = run.wait_for_completion(show_output=False, raise_on_error=False)
        if status == "Finished":
            assert seen_by_reader(pws, run) == tag  # never another run's bytes
        else:  # the only other acceptable outcome: the reader refused, saying why and what to do
            assert status == "Failed" and "{run-id}" in reader_error(run) and FIXED in reader_error(run)
    # on one machine the runs take turns on the destination: none has to fail
    assert [r.get_status() for r in runs.values()] == ["Finished"] * 4


@pytest.mark.slow
def test_a_run_waits_queued_for_the_run_holding_a_fixed_destination(shared: Path, pws: Workspace) -> None:
    go = shared / "go"
    first = Experiment(pws, "fixed").submit(fixed_pipeline(pws, go=str(go)), pipeline_parameters={"tag": "first"})
    wait_for(lambda: _status(first, "writer") == "Running")
    second = Experiment(pws, "fixed").submit(fixed_pipeline(pws), pipeline_parameters={"tag": "second"})
    leases = lambda: _step_folder(pws, second, "writer") / "system_logs" / "leases.txt"  # noqa: E731
    wait_for(lambda: leases().exists())
    text = leases().read_text()
    assert first.id in text and FIXED in text and "{run-id}" in text
    assert _status(second, "writer") == "Queued"
    go.write_text("")
    assert first.wait_for_completion(show_output=False) == "Finished"
    assert second.wait_for_completion(show_output=False) == "Finished"
    assert seen_by_reader(pws, first) == "first" and seen_by_reader(pws, second) == "second"
    assert "now holds" in leases().read_text().splitlines()[-1]
    assert Path(Datastore(pws, STORE)._backend.root, FIXED, "data.txt").read_text() == "second"


@pytest.mark.slow
def test_a_consumer_whose_fixed_input_changed_before_it_started_fails_saying_so(shared: Path, pws: Workspace) -> None:
    run = Experiment(pws, "fixed").submit(fixed_pipeline(pws, tamper=True), pipeline_parameters={"tag": "mine"})
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    error = reader_error(run)
    assert "Step 'reader' could not start" in error and "changed before it started" in error, error
    assert "'shared'" in error and repr(FIXED) in error and "{run-id}" in error, error
    assert "reader" not in ran(shared)  # its process never started


@pytest.mark.slow
def test_a_consumer_whose_fixed_input_changed_while_it_ran_fails_saying_so(shared: Path, pws: Workspace) -> None:
    run = Experiment(pws, "fixed").submit(fixed_pipeline(pws, scribble=True), pipeline_parameters={"tag": "mine"})
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    error = reader_error(run)
    assert "Step 'reader' failed" in error and "changed while it ran" in error, error
    assert repr(FIXED) in error and "{run-id}" in error, error
    reader_id = run.find_step_run("reader")[0].id
    assert not Path(Datastore(pws, STORE)._backend.root, "dataset", reader_id, "seen").exists()  # nothing committed


def wait_for(condition: Callable[[], bool], *, attempts: int = 1500) -> None:
    """Poll ``condition`` every 20 ms, up to ``attempts`` times (a bound, not a timed assertion)."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("the condition was never met")


def _status(run: Any, step: str) -> str | None:
    found = run.find_step_run(step)
    return found[0].get_status() if found else None


def _step_folder(ws: Workspace, run: Any, step: str) -> Path:
    return Path(ws.folder) / "runs" / run.find_step_run(step)[0].id
