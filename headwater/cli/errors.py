"""Exit codes and what the terminal shows when a command does not succeed: all of it here.

=====================================  =====  ==================================================
what happened                          exit   stderr
=====================================  =====  ==================================================
success                                0
a HeadwaterError (bad name, path ...)  1      ``error: <message>``
a usage error (click)                  2      click's usage line and message
Ctrl-C                                 130    (a blank line)
anything else                          1      ``error: <type>: <message> (run with --verbose ...)``
=====================================  =====  ==================================================

With ``--verbose`` the traceback is printed before the ``error:`` line. Commands never call
``sys.exit`` or print errors themselves: they raise, and :func:`exit_code_for` decides.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from headwater.errors import HeadwaterError

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "AmbiguousRunIdError",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class AmbiguousRunIdError(HeadwaterError):
    """A run id prefix that matches more than one run; ``matches`` lists them (a few shown)."""

    def __init__(self, prefix: str, matches: Sequence[str]) -> None:
        self.prefix = prefix
        self.matches = sorted(matches)
        shown = ", ".join(self.matches[:5]) + (" ..." if len(self.matches) > 5 else "")
        super().__init__(
            f"Run id prefix {prefix!r} is ambiguous: it matches {len(self.matches)} runs ({shown}).",
            hint="Give more characters of the id.",
        )


def _interrupted(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def exit_code_for(exc: BaseException, *, verbose: bool) -> int:
    """Report ``exc`` on stderr as the table above says, and return the exit code."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None or isinstance(code, int):
            return code or EXIT_OK
        click.echo(str(code), err=True)
        return EXIT_ERROR
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if _interrupted(exc):  # click turns KeyboardInterrupt into Abort (and prints the blank line)
        return EXIT_INTERRUPTED
    if isinstance(exc, click.Abort):
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
        sys.stderr.flush()
    if isinstance(exc, HeadwaterError):
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if verbose:
        click.echo(f"error: unexpected {text}", err=True)
    else:
        click.echo(f"error: unexpected {text} (run with --verbose for the traceback)", err=True)
    return EXIT_ERROR
