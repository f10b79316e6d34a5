"""``headwater env list|show|build|prune``.

Most tests lay out built environments by hand (a ``<digest>/headwater-env.json`` marker is what
makes a folder a complete environment); the ``slow`` one builds a real environment with uv,
installing ``six==1.16.0``, which Headwater's own environment does not have.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from headwater import CondaDependencies, Environment, Workspace
from headwater.engine.environments import MARKER
from headwater.plan.environments import environment_digest, normalize_spec
from tests.cli.conftest import Cli, fields, one_error_line, section, table

SIX = "six==1.16.0"


def _register(ws: Workspace, name: str, *pip: str) -> Environment:
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=list(pip))
    return env.register(ws)


def _fake_built(ws: Workspace, spec: dict[str, Any], *, digest: str | None = None, recent: bool = False) -> str:
    """A complete environment folder as the builder leaves it (no real venv inside)."""
    digest = digest or environment_digest(spec)
    folder = ws.folder / "environments" / digest
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").write_bytes(b"x" * 2048)
    record = {
        "digest": digest,
        "spec": normalize_spec(spec),
        "python": {"version": "3.11.7"},
        "lock": {"six": "1.16.0"},
        "notices": [],
    }
    (folder / MARKER).write_text(json.dumps(record))
    if not recent:  # last used by a step a day ago
        day_ago = time.time() - 86400
        os.utime(folder / MARKER, (day_ago, day_ago))
    return digest


def test_list_shows_registered_and_built_environments(hw: Cli, cli_ws: Workspace) -> None:
    plain = _register(cli_ws, "plain")
    needs_six = _register(cli_ws, "needs-six", SIX)
    six_digest = _fake_built(cli_ws, needs_six.to_spec())
    stray = _fake_built(cli_ws, {"pip_packages": ["tomli-w==1.0.0"]})

    out = hw("env", "list", "-w", "test-ws").stdout
    assert table(section(out, 0)) == [
        {"name": "needs-six", "version": "1", "digest": six_digest[:12], "state": "built"},
        {
            "name": "plain",
            "version": "1",
            "digest": environment_digest(plain.to_spec())[:12],
            "state": "current python",
        },
    ]
    built = {row["digest"]: row for row in table(section(out, 1))}
    assert built[six_digest[:12]] == {
        "digest": six_digest[:12],
        "python": "3.11.7",
        "packages": "1",
        "size": built[six_digest[:12]]["size"],
        "used by": "needs-six",
    }
    assert built[stray[:12]]["used by"] == "-"

    data = json.loads(hw("env", "list", "-w", "test-ws", "--json").stdout)
    states = [(r["name"], r["state"]) for r in data["registered"]]
    assert states == [("needs-six", "built"), ("plain", "current python")]
    assert {b["digest"]: b["used_by"] for b in data["built"]} == {six_digest: ["needs-six"], stray: []}
    assert all(b["size_bytes"] >= 2048 for b in data["built"])


def test_list_in_an_empty_workspace(hw: Cli, cli_ws: Workspace) -> None:
    data = json.loads(hw("env", "list", "-w", "test-ws", "--json").stdout)
    assert data == {"registered": [], "built": []}


def test_show_by_name_version_and_digest(hw: Cli, cli_ws: Workspace) -> None:
    first = _register(cli_ws, "needs-six", SIX)
    _register(cli_ws, "needs-six", SIX, "packaging")
    digest = environment_digest(first.to_spec())

    shown = fields(hw("env", "show", "needs-six:1", "-w", "test-ws").stdout)
    assert (shown["name"], shown["version"], shown["digest"]) == ("needs-six", "1", digest)
    assert shown["pip packages"] == f"azureml-defaults, {SIX}"
    assert shown["running python"].startswith(f"lacks {SIX} (")  # not installed, or another version
    assert shown["built"] == "no"
    assert fields(hw("env", "show", "needs-six", "-w", "test-ws").stdout)["version"] == "2"

    _fake_built(cli_ws, first.to_spec())
    out = hw("env", "show", digest[:10], "-w", "test-ws").stdout
    by_digest = fields(out)
    assert by_digest["digest"] == digest and by_digest["name"] == "needs-six"  # the spec it was built from
    assert by_digest["built"] == str(cli_ws.folder / "environments" / digest)
    assert (by_digest["built python"], by_digest["packages"]) == ("3.11.7", "1")
    assert section(out, 1).strip() == "six==1.16.0"  # the lock

    data = json.loads(hw("env", "show", "needs-six:1", "-w", "test-ws", "--json").stdout)
    assert data["digest"] == digest and data["built"]["lock"] == {"six": "1.16.0"}
    assert data["current_interpreter"]["satisfied"] is False
    assert data["spec"]["pip_packages"] == ["azureml-defaults", SIX]


def test_show_a_curated_environment_satisfied_by_the_running_python(hw: Cli, cli_ws: Workspace) -> None:
    data = json.loads(hw("env", "show", "AzureML-Minimal", "-w", "test-ws", "--json").stdout)
    assert data["current_interpreter"]["satisfied"] is True
    assert data["current_interpreter"]["interpreter"] == str(Path(sys.executable).absolute())
    assert data["built"] is None


def test_show_errors(hw: Cli, cli_ws: Workspace) -> None:
    _register(cli_ws, "forecasting")
    assert "Did you mean 'forecasting'" in one_error_line(hw("env", "show", "forecastin", "-w", "test-ws", code=1))
    assert "does not exist" in one_error_line(hw("env", "show", "abcdef", "-w", "test-ws", code=1))
    _fake_built(cli_ws, {"pip_packages": ["a"]}, digest="abcd" + "0" * 60)
    _fake_built(cli_ws, {"pip_packages": ["b"]}, digest="abcd" + "1" * 60)
    assert fields(hw("env", "show", "abcd0", "-w", "test-ws").stdout)["digest"] == environment_digest(
        {"pip_packages": ["a"]}
    )  # the folder's name is only the key; the digest shown is the spec's
    assert "matches 2 environments" in one_error_line(hw("env", "show", "abcd", "-w", "test-ws", code=1))


def test_build_of_a_satisfied_environment_prints_the_running_interpreter(hw: Cli, cli_ws: Workspace) -> None:
    result = hw("env", "build", "--curated", "AzureML-Minimal", "-w", "test-ws")
    assert result.stdout.strip() == str(Path(sys.executable).absolute())
    assert "nothing to build" in result.stderr
    assert not (cli_ws.folder / "environments").exists()


def test_build_needs_exactly_one_of_name_or_curated(hw: Cli, cli_ws: Workspace) -> None:
    assert "one of them" in hw("env", "build", "-w", "test-ws", code=2).stderr
    assert "one of them" in hw("env", "build", "x", "--curated", "AzureML-Minimal", "-w", "test-ws", code=2).stderr
    error = one_error_line(hw("env", "build", "--curated", "AzureML-Minimall", "-w", "test-ws", code=1))
    assert "Did you mean 'AzureML-Minimal'" in error


def test_prune_keeps_registered_curated_and_kept_digests(hw: Cli, cli_ws: Workspace) -> None:
    registered = _fake_built(cli_ws, _register(cli_ws, "needs-six", SIX).to_spec())
    curated = _fake_built(cli_ws, Environment.get(cli_ws, "AzureML-Tutorial").to_spec())
    kept = _fake_built(cli_ws, {"pip_packages": ["kept==1"]})
    stray = _fake_built(cli_ws, {"pip_packages": ["stray==1"]})
    root = cli_ws.folder / "environments"

    out = hw("env", "prune", "--dry-run", "--keep", kept[:8], "-w", "test-ws").stdout
    assert out.splitlines()[0].startswith(f"Would remove {stray[:12]} (1 packages, ")
    assert out.splitlines()[-1].startswith("Would remove 1 environment(s)")
    assert (root / stray).is_dir()

    out = hw("env", "prune", "--keep", kept[:8], "-w", "test-ws").stdout
    assert out.splitlines()[0].startswith(f"Removed {stray[:12]} (")
    assert sorted(p.name for p in root.iterdir() if not p.name.endswith(".lock")) == sorted([registered, curated, kept])
    hw("env", "prune", "-w", "test-ws")
    assert not (root / kept).exists() and (root / registered).is_dir() and (root / curated).is_dir()
    assert "does not exist" in one_error_line(hw("env", "prune", "--keep", "ffff", "-w", "test-ws", code=1))


def test_prune_keeps_an_environment_a_step_started_with_recently(hw: Cli, cli_ws: Workspace) -> None:
    """A step may still be running in it: only --include-recent removes it."""
    from headwater.engine.environments import ensure_environment

    root = cli_ws.folder / "environments"
    stale = _fake_built(cli_ws, {"pip_packages": ["stale==1"]})
    in_use = _fake_built(cli_ws, {"pip_packages": ["in-use==1"]})
    ensure_environment({"pip_packages": ["in-use==1"]}, root)  # what a step's launcher calls: marks it used

    out = hw("env", "prune", "-w", "test-ws").stdout
    assert f"Keeping {in_use[:12]}: a step started with it in the last 6 hours" in out
    assert f"Removed {stale[:12]} (" in out
    assert (root / in_use).is_dir() and not (root / stale).exists()
    hw("env", "prune", "--include-recent", "-w", "test-ws")
    assert not (root / in_use).exists()


@pytest.mark.slow
def test_build_installs_then_reuses_and_show_lists_the_lock(hw: Cli, cli_ws: Workspace) -> None:
    import subprocess

    env = _register(cli_ws, "needs-six", SIX)
    digest = environment_digest(env.to_spec())
    first = hw("env", "build", "needs-six", "-w", "test-ws")
    interpreter = first.stdout.strip()
    assert interpreter == str(cli_ws.folder / "environments" / digest / "bin" / "python")
    assert "Building environment" in first.stderr and "six" in first.stderr  # uv's output, streamed
    done = subprocess.run([interpreter, "-c", "import six; print(six.__version__)"], capture_output=True, text=True)
    assert done.stdout.strip() == "1.16.0"

    again = hw("env", "build", "needs-six:1", "-w", "test-ws")
    assert again.stdout.strip() == interpreter and "Using environment" in again.stderr
    data = json.loads(hw("env", "show", "needs-six", "-w", "test-ws", "--json").stdout)
    assert data["built"]["lock"] == {"six": "1.16.0"}
    assert data["built"]["interpreter"] == interpreter
    assert hw("env", "prune", "-w", "test-ws").stdout.startswith("Removed 0 environment(s)")


def test_build_follows_the_workspaces_strict_python_setting(hw: Cli, headwater_home: Path) -> None:
    with Workspace.create("strict-ws", strict_python=True) as ws:
        env = Environment("ancient")
        env.python.conda_dependencies = CondaDependencies.create(python_version="3.99", pip_packages=[SIX])
        env.register(ws)
    result = hw("env", "build", "ancient", "-w", "strict-ws", code=1)
    error = result.stderr.strip().splitlines()[-1]  # after the build log's first line
    assert error.startswith("error: The environment asks for Python 3.99") and "strict" in error
    assert result.stdout == ""
