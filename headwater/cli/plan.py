"""``headwater plan SCRIPT [ARGS]...``: run a pipeline script, but show its plan instead of submitting.

The script runs as ``python SCRIPT ARGS`` would (``__main__``, its folder first on ``sys.path``,
``sys.argv``), until its first ``Experiment.submit`` of a Pipeline: that prints which steps would
run and which would be reused, and why (:mod:`headwater.ops.preview`), and stops the script.
Nothing is recorded, nothing runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from headwater.errors import ConfigurationError

__all__ = ["plan"]


@click.command("plan", context_settings={"ignore_unknown_options": True})
@click.argument("script_path", metavar="SCRIPT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def plan(script_path: Path, args: tuple[str, ...]) -> None:
    """Show which steps SCRIPT's pipeline would run or reuse, and why; submit nothing."""
    import runpy
    import sys

    from headwater.sdk.pipeline import Pipeline, PlanShown

    saved_argv, saved_path = list(sys.argv), list(sys.path)
    sys.argv = [str(script_path), *args]
    sys.path.insert(0, str(script_path.resolve().parent))
    Pipeline._plan_only = True
    try:
        runpy.run_path(str(script_path), run_name="__main__")
    except PlanShown:
        return
    finally:
        Pipeline._plan_only = False
        sys.argv, sys.path[:] = saved_argv, saved_path
    raise ConfigurationError(
        f"{script_path} ended without submitting a pipeline: there is no plan to show.",
        hint="headwater plan shows the plan of the script's first Experiment.submit(pipeline).",
    )
