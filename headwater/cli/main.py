"""``headwater``: the command-line entry point (the ``headwater`` console script, ``python -m headwater``).

Command groups live one per module (:mod:`.workspace`, :mod:`.datastore`, :mod:`.dataset`,
:mod:`.run`, :mod:`.env`); each command imports the SDK and rich inside its function, so
``headwater --help`` loads only click. Every invocation, from the console script or from click's test runner, goes
through :meth:`HeadwaterGroup.main`, which hands any exception to
:func:`headwater.cli.errors.exit_code_for`: the one place that decides exit codes and error output.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from headwater._version import __version__
from headwater.cli.compat import compat
from headwater.cli.compute import compute
from headwater.cli.dataset import dataset
from headwater.cli.datastore import datastore
from headwater.cli.env import env
from headwater.cli.gc import gc
from headwater.cli.model import model
from headwater.cli.run import run
from headwater.cli.serve import serve
from headwater.cli.token import token
from headwater.cli.workspace import workspace

__all__ = ["CliState", "HeadwaterGroup", "cli", "main"]


@dataclass
class CliState:
    """Options of the top-level command that the error handler needs after the command ended."""

    verbose: bool = False


class HeadwaterGroup(click.Group):
    """The top-level group: runs the command and turns whatever it raised into an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; exit with its code (``standalone_mode``) or return it."""
        state = CliState()
        extra.setdefault("obj", state)
        try:
            result = super().main(
                args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )
            code = result if isinstance(result, int) and not isinstance(result, bool) else 0
        except BaseException as exc:  # every outcome is mapped in one place, Ctrl-C included
            from headwater.cli.errors import exit_code_for

            code = exit_code_for(exc, verbose=state.verbose)
        if standalone_mode:
            sys.exit(code)
        return code


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and isinstance(ctx.obj, CliState):
        ctx.obj.verbose = True


@click.group(cls=HeadwaterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_verbose,
    help="Show the full traceback when a command fails.",
)
@click.version_option(__version__, "--version", prog_name="headwater", message="%(prog)s %(version)s")
def cli() -> None:
    """Headwater: machine-learning pipelines in the Azure ML SDK v1 style, on your own machine.

    Commands that work on a workspace take --workspace/-w NAME; without it the workspace is the
    one named in a .azureml/config.json found from this folder upwards, else $HEADWATER_WORKSPACE.
    """


cli.add_command(workspace)
cli.add_command(datastore)
cli.add_command(dataset)
cli.add_command(run)
cli.add_command(env)
cli.add_command(compat)
cli.add_command(compute)
cli.add_command(gc)
cli.add_command(serve)
cli.add_command(token)
cli.add_command(model)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``headwater`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    code = cli.main(args=argv, prog_name="headwater", standalone_mode=False)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
