"""The runtime's only way into the SDK: opening a workspace and building a Dataset, lazily.

Nothing here is imported until a script asks for ``run.experiment.workspace`` or a direct-mode
``run.input_datasets[...]``; a script that only logs never loads the SDK. The import-linter
contract that keeps :mod:`headwater.runtime` stdlib-only names these imports as its exceptions.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from headwater.runtime.context import WorkspaceRef
    from headwater.sdk.workspace import Workspace

__all__ = [
    "DEFAULT_OFFLINE_WORKSPACE",
    "WORKSPACE_ENV",
    "dataset_from_record",
    "offline_workspace",
    "open_workspace",
    "require_sdk",
]

#: Names the workspace an offline run uses when no config file is found.
WORKSPACE_ENV = "HEADWATER_WORKSPACE"
DEFAULT_OFFLINE_WORKSPACE = "default"

_DATASET_RECORD_KEYS = (
    "id",
    "kind",
    "definition",
    "name",
    "version",
    "digest",
    "file_digests",
    "description",
    "tags",
)


def require_sdk(what: str) -> None:
    """NotSupportedError when the step's Python is older than Headwater's SDK needs."""
    from headwater.runtime.pythons import SDK_PYTHON, running, sdk_available

    if not sdk_available():
        from headwater.errors import NotSupportedError

        version = "{}.{}".format(*SDK_PYTHON)
        raise NotSupportedError(
            f"{what} is a Headwater SDK object, which needs Python {version} or later; this step runs on "
            f"Python {running()}.",
            hint="Give the step its data as files (.as_download() or .as_mount(): run.input_datasets[name] "
            f"is then a path), or pin the step environment's Python to {version} or later.",
        )


def open_workspace(ref: WorkspaceRef) -> Workspace:
    """The step's workspace, from the folder named in its context file."""
    require_sdk("run.experiment.workspace")
    from headwater.sdk.workspace import Workspace

    return Workspace(ref.subscription_id or None, ref.resource_group or None, ref.name, folder=ref.folder)


def offline_workspace() -> Workspace:
    """The workspace an offline run's ``experiment.workspace`` returns.

    In order: the workspace of a ``config.json`` found from the current folder upwards (as
    ``Workspace.from_config()`` finds it); the workspace named by ``$HEADWATER_WORKSPACE``; the
    workspace ``default``. The last two are created when missing; an info line on stderr says
    which workspace is used.
    """
    from headwater.config import find_config
    from headwater.errors import ConfigurationError, NotFoundError
    from headwater.sdk.workspace import Workspace

    try:
        config = find_config()
    except ConfigurationError:  # without a path, find_config raises only when nothing is found
        config = None
    if config is not None:
        return Workspace.from_config(path=config)
    name = os.environ.get(WORKSPACE_ENV) or DEFAULT_OFFLINE_WORKSPACE
    why = f"${WORKSPACE_ENV}" if os.environ.get(WORKSPACE_ENV) else "the default"
    try:
        ws = Workspace.get(name)
        action = "using"
    except NotFoundError:
        ws = Workspace.create(name, exist_ok=True)
        action = "created"
    print(
        f"Headwater: offline run and no config.json found from {os.getcwd()} upwards; "
        f"{action} workspace {name!r} ({why}) at {ws.folder}.",
        file=sys.stderr,
    )
    return ws


def dataset_from_record(workspace: Workspace, data: dict[str, Any]) -> Any:
    """A direct-mode input's Dataset, from the record the executor put in the context file."""
    from headwater.sdk.dataset import Dataset
    from headwater.store.records import DatasetRecord

    fields = {k: data[k] for k in _DATASET_RECORD_KEYS if data.get(k) is not None}
    fields.setdefault("definition", {})
    return Dataset._from_record(workspace, DatasetRecord(**fields))
