"""``headwater compat install|uninstall|status``: the azureml compatibility layer for plain ``python``."""

from __future__ import annotations

import click

__all__ = ["compat"]


@click.group()
def compat() -> None:
    """Make `import azureml...` work in this environment's plain `python` and Jupyter."""


@compat.command("install")
def install_cmd() -> None:
    """Activate the layer for every `python` of this environment (writes a .pth file)."""
    from headwater.compat.activate import install

    path = install()
    click.echo(f"The azureml compatibility layer is active for this environment ({path}).")


@compat.command("uninstall")
def uninstall_cmd() -> None:
    """Remove what `headwater compat install` wrote."""
    from headwater.compat.activate import uninstall

    if uninstall():
        click.echo("The azureml compatibility layer is no longer installed in this environment.")
    else:
        click.echo("The azureml compatibility layer was not installed in this environment.")


@compat.command("status")
def status_cmd() -> None:
    """Say whether the layer is installed, and whether the real SDK is present."""
    from headwater.compat.activate import conflicting_distribution, is_installed, site_packages_dir

    click.echo(f"installed: {'yes' if is_installed() else 'no'} ({site_packages_dir()})")
    conflict = conflicting_distribution()
    if conflict:
        click.echo(f"real Azure ML SDK present: {conflict} (the layer refuses to activate alongside it)")
