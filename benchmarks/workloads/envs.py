"""Environments: resolving one already built, and a first build of a small one against uv by hand.

- *resolve built*: a whole process, ``python -c`` importing the builder and calling
  ``ensure_environment`` on a spec whose environment is already built (``six==1.16.0``, absent
  from Headwater's own environment, so the running Python does not satisfy it), printing the
  interpreter — what a step's launcher pays for an environment once it exists. Floor:
  ``python -c pass``. Short processes: four times the usual number of samples.
- *first build*: the same process on a new environments folder, so it builds (``uv venv``,
  ``uv pip install``, ``uv pip freeze`` for the lock, marker, rename). Floor: ``uv venv`` then
  ``uv pip install six==1.16.0`` run by hand with the same uv binary and base Python. uv's cache
  is warm for both (warm-up runs of each first), as it is on a machine after its first build.

Every resolve is checked once (untimed) to reuse the built folder; every first build is checked
to leave a complete environment (its marker) in its new folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.figures import Figure
from benchmarks.harness import Bench, BenchError

__all__ = ["run"]

SPEC = {"pip_packages": ["six==1.16.0"]}
ENSURE_CODE = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from headwater.engine.environments import ensure_environment\n"
    "built = ensure_environment(json.loads(sys.argv[1]), Path(sys.argv[2]))\n"
    "print(built.interpreter)\n"
    "if len(sys.argv) > 3:\n"
    "    Path(sys.argv[3]).write_text(json.dumps({'path': str(built.path), 'reused': built.reused}))\n"
)


def _uv_env(bench: Bench) -> dict[str, str]:
    """The runs' environment as the builder gives uv its own (no venv or conda activated, no downloads)."""
    env = bench.env(NO_COLOR="1", UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never")
    for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON"):
        env.pop(key, None)
    return env


def _ensure(bench: Bench, root: Path, label: str, result: Path | None = None) -> float:
    argv = [bench.python, "-c", ENSURE_CODE, json.dumps(SPEC), str(root)]
    return bench.timed([*argv, str(result)] if result else argv, cwd=bench.work, label=label)


def _complete(root: Path, label: str) -> None:
    from headwater.engine.environments import MARKER

    markers = list(root.glob(f"*/{MARKER}"))
    if len(markers) != 1:
        raise BenchError(f"{label}: expected one complete environment in {root}, found {len(markers)}")


def run(bench: Bench) -> list[Figure]:
    from headwater.engine.environments import uv_binary

    uv = uv_binary()
    work = bench.work / "envs"
    work.mkdir()

    bench.say("environments: first build (uv cache warm) vs uv venv + uv pip install by hand")
    counter = iter(range(1_000_000))

    def by_hand() -> float:
        venv = work / f"hand-{next(counter)}"
        python = venv / "bin" / "python"
        env = _uv_env(bench)
        made = bench.timed([uv, "venv", "--python", bench.python, str(venv)], cwd=work, label="uv venv", env=env)
        return made + bench.timed(
            [uv, "pip", "install", "--python", str(python), "six==1.16.0"], cwd=work, label="uv pip install", env=env
        )

    def first_build(i: int) -> float:
        root = work / f"first-{next(counter)}"
        elapsed = _ensure(bench, root, "environment first build")
        _complete(root, "environment first build")
        return elapsed

    by_hand(), first_build(0)  # warm-up: uv's cache holds six afterwards
    build_floors, builds = bench.repeat_pairs("environment first build", by_hand, first_build)

    bench.say("environments: resolving an already-built environment vs python -c pass")
    root = work / "built"
    _ensure(bench, root, "environment build")
    check = work / "resolve-check.json"
    _ensure(bench, root, "environment resolve check", check)
    seen = json.loads(check.read_text())
    if not seen["reused"] or not str(seen["path"]).startswith(str(root)):
        raise BenchError(f"resolving the built environment did not reuse it: {seen}")

    def floor() -> float:
        return bench.timed([bench.python, "-c", "pass"], cwd=work, label="python -c pass")

    def resolve(i: int) -> float:
        return _ensure(bench, root, "environment resolve")

    floor(), resolve(0)  # warm-up (bytecode caches)
    floors, samples = bench.repeat_pairs("environment resolve", floor, resolve, times=4 * bench.repeat)
    return [
        Figure(
            "env.resolve_built",
            "environment resolve, already built: python -c ensure_environment(...)",
            "s",
            samples,
            "python -c pass",
            floors,
        ),
        Figure(
            "env.first_build",
            "environment first build, one small package (six), uv cache warm",
            "s",
            builds,
            "uv venv + uv pip install by hand",
            build_floors,
        ),
    ]
