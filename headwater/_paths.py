"""Where Headwater's own files are, for the modules that hand them to other processes."""

from __future__ import annotations

from pathlib import Path

#: The installed ``headwater`` package folder.
PACKAGE_DIR = Path(__file__).resolve().parent
#: The folder holding the opt-in ``azureml`` compatibility package (put on ``sys.path`` to activate it).
COMPAT_SHIM_DIR = PACKAGE_DIR / "compat" / "shim"
