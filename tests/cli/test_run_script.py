"""`headwater run SCRIPT [ARGS]` and `headwater compat ...`: SDK v1 imports served by Headwater."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
from azureml.core import Workspace, Experiment
from azureml.pipeline.steps import PythonScriptStep
import headwater
assert Workspace is headwater.Workspace and PythonScriptStep is headwater.PythonScriptStep
print("args", sys.argv[1:])
sys.exit(int(sys.argv[-1]))
"""


def headwater_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("headwater")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_run_script_serves_azureml_names_and_passes_arguments_and_exit_code(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text(SCRIPT)
    done = headwater_cmd("run", "s.py", "--flag", "-x", "4", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert "args ['--flag', '-x', '4']" in done.stdout


def test_run_module(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(SCRIPT)
    done = headwater_cmd("run", "-m", "mod", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "args ['0']" in done.stdout


def test_a_script_error_shows_its_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f():\n    raise ValueError('from the script')\nf()\n")
    done = headwater_cmd("run", "bad.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ValueError: from the script" in done.stderr


def test_a_missing_script_is_one_line(tmp_path: Path) -> None:
    done = headwater_cmd("run", "nosuch.py", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: Script 'nosuch.py' does not exist. Give the path of a Python file, or -m MODULE."
    ]


def test_run_subcommands_still_work(tmp_path: Path) -> None:
    done = headwater_cmd("run", "list", "-w", "nope", cwd=tmp_path)
    assert done.returncode == 1 and "Workspace 'nope' does not exist" in done.stderr


@pytest.mark.slow
def test_compat_install_makes_plain_python_serve_azureml(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    code = "from azureml.core import Workspace; print(Workspace.__module__)"
    before = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    assert before.returncode != 0 and "No module named 'azureml'" in before.stderr

    from headwater.compat.activate import install, uninstall

    install(site_packages=site)
    after = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "headwater.sdk.workspace"
    assert uninstall(site_packages=site)
    again = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    assert again.returncode != 0
