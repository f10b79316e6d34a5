"""Where workspaces live (``$HEADWATER_HOME``) and which names are valid.

Kept apart from :mod:`headwater.config` (which reads ``config.json`` files) so that creating or
opening a workspace by name imports nothing but :mod:`os`, :mod:`re` and :mod:`pathlib`.
:mod:`headwater.config` re-exports every name here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from headwater.errors import ConfigurationError

__all__ = ["NAME_RE", "headwater_home", "validate_name", "workspaces_root"]

#: What a workspace, experiment or datastore name may look like.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")


def headwater_home() -> Path:
    """The folder that holds Headwater's workspaces: ``$HEADWATER_HOME`` or ``~/.headwater``."""
    env = os.environ.get("HEADWATER_HOME")
    return Path(env).expanduser() if env else Path.home() / ".headwater"


def workspaces_root() -> Path:
    """``$HEADWATER_HOME/workspaces``."""
    return headwater_home() / "workspaces"


def validate_name(kind: str, name: object) -> str:
    """Return ``name`` if it is a valid workspace/experiment/datastore name, else raise."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigurationError(
            f"Invalid {kind} name {name!r}",
            hint="Use letters, digits, '-' and '_', starting with a letter or digit (at most 255 characters).",
        )
    return name
