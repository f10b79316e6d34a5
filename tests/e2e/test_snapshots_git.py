"""Snapshots and git: ignore files (``.amlignore`` over ``.gitignore``), the large-snapshot warning,
the ContentSnapshotId property, and the ``azureml.git.*`` properties.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.plan import snapshots
from headwater.plan.snapshots import SnapshotSizeWarning
from tests.conftest import gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.slow

GIT_PROPS = ("azureml.git.repository_uri", "azureml.git.branch", "azureml.git.commit", "azureml.git.dirty")


def finish(ws: Workspace, source: str = "src", **kwargs: Any) -> Any:
    pipeline = Pipeline(ws, steps=[PythonScriptStep("s.py", name="s", source_directory=source, **kwargs)])
    run = Experiment(ws, "snap").submit(pipeline)
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def test_amlignore_takes_precedence_over_gitignore(proj: Path, pws: Workspace) -> None:
    gen(
        proj,
        {
            "src": {
                "s.py": script("s"),
                ".gitignore": "git_ignored.txt\n",
                ".amlignore": "aml_ignored.txt\n",
                "git_ignored.txt": "1",
                "aml_ignored.txt": "1",
            }
        },
    )
    finish(pws)
    ran(proj)
    (proj / "src" / "aml_ignored.txt").write_text("changed")
    finish(pws)
    assert ran(proj) == []  # .amlignore applies
    (proj / "src" / "git_ignored.txt").write_text("changed")
    run = finish(pws)
    assert ran(proj) == ["s"]  # .gitignore is not read when there is an .amlignore
    assert run.find_step_run("s")[0].reason == "git_ignored.txt changed"

    (proj / "src" / ".amlignore").unlink()  # now .gitignore applies (and .amlignore's removal is a change)
    finish(pws)
    ran(proj)
    (proj / "src" / "git_ignored.txt").write_text("changed again")
    finish(pws)
    assert ran(proj) == []


def test_the_working_copy_leaves_out_ignored_files(proj: Path, pws: Workspace) -> None:
    body = "import os\nprint(sorted(os.listdir('.')))\n"
    gen(proj, {"src": {"s.py": script("s", body), ".amlignore": "data/\n", "data": {"big.bin": b"0" * 10}}})
    run = finish(pws)
    log = run.find_step_run("s")[0].get_stdout_log()
    assert "'.amlignore', 'logs', 'outputs', 's.py'" in log and "data" not in log


def test_a_large_snapshot_warns_naming_the_biggest_files(
    proj: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "SNAPSHOT_MAX_FILES", 3)
    gen(proj, {"src": {"s.py": script("s"), "a.txt": "a", "b.txt": "bb", "big.csv": "x" * 1000}})
    with pytest.warns(SnapshotSizeWarning, match=r"has 4 files.*Biggest: big\.csv") as caught:
        finish(pws)
    assert ".amlignore" in str(caught[0].message)
    assert ran(proj) == ["s"]  # a warning, not a failure


def test_the_step_run_records_its_snapshot(proj: Path, pws: Workspace) -> None:
    gen(proj, {"src": {"s.py": script("s")}})
    step = finish(pws).find_step_run("s")[0]
    snapshot = step.get_properties()["ContentSnapshotId"]
    assert snapshot == step._refresh().snapshot_id
    stored = Path(pws.folder) / "snapshots" / snapshot
    assert sorted(p.name for p in stored.iterdir()) == ["s.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_properties_when_the_source_is_in_a_work_tree(proj: Path, pws: Workspace) -> None:
    gen(proj, {"repo": {"src": {"s.py": script("s")}}, "plain": {"s.py": script("s")}})
    repo = proj / "repo"

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    git("init", "-q", "-b", "main")
    git("remote", "add", "origin", "https://user:secret@example.com/team/project.git")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    commit = git("rev-parse", "HEAD")

    props = finish(pws, source="repo/src").find_step_run("s")[0].get_properties()
    assert {k: props[k] for k in GIT_PROPS} == {
        "azureml.git.repository_uri": "https://example.com/team/project.git",  # credentials stripped
        "azureml.git.branch": "main",
        "azureml.git.commit": commit,
        "azureml.git.dirty": "False",
    }
    (repo / "src" / "s.py").write_text(script("s", "# edited\n"))
    dirty = finish(pws, source="repo/src").find_step_run("s")[0].get_properties()
    assert dirty["azureml.git.dirty"] == "True"

    outside = finish(pws, source="plain").find_step_run("s")[0].get_properties()
    assert not any(k.startswith("azureml.git.") for k in outside)
