"""``headwater compat install|uninstall|status``: the azureml compatibility layer for plain ``python``.

Each command works on Headwater's own environment, or with ``--python PATH`` on the environment
of another interpreter (a Jupyter kernel's, a project's virtual environment).
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["compat"]

_PYTHON_OPTION = click.option(
    "--python",
    "python",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Work on this Python interpreter's environment instead of Headwater's own (e.g. a Jupyter kernel's).",
)


def _site(python: Path | None) -> Path | None:
    """The site-packages folder of ``python``'s environment (None: Headwater's own)."""
    if python is None:
        return None
    from headwater.compat.activate import site_packages_dir

    return site_packages_dir(python)


@click.group()
def compat() -> None:
    """Make `import azureml...` work in an environment's plain `python` and Jupyter."""


@compat.command("install")
@_PYTHON_OPTION
def install_cmd(python: Path | None) -> None:
    """Activate the layer for every `python` of the environment (writes a .pth file)."""
    from headwater.compat.activate import install

    path = install(site_packages=_site(python))
    click.echo(f"The azureml compatibility layer is active for this environment ({path}).")


@compat.command("uninstall")
@_PYTHON_OPTION
def uninstall_cmd(python: Path | None) -> None:
    """Remove what `headwater compat install` wrote."""
    from headwater.compat.activate import uninstall

    if uninstall(site_packages=_site(python)):
        click.echo("The azureml compatibility layer is no longer installed in this environment.")
    else:
        click.echo("The azureml compatibility layer was not installed in this environment.")


@compat.command("status")
@_PYTHON_OPTION
def status_cmd(python: Path | None) -> None:
    """Say whether the layer is installed, and whether the real SDK is present."""
    from headwater.compat.activate import conflicting_distribution, is_installed, site_packages_dir

    site = _site(python)
    where = site if site is not None else site_packages_dir()
    click.echo(f"installed: {'yes' if is_installed(site) else 'no'} ({where})")
    conflict = conflicting_distribution(None if site is None else [str(site)])
    if conflict:
        click.echo(f"real Azure ML SDK present: {conflict} (the layer refuses to activate alongside it)")
