"""``_OfflineRun``: what ``Run.get_context()`` returns in a script not started by Headwater.

It prints what it is asked to log, in SDK v1's words::

    Attempted to log scalar metric acc:
    0.9
    Attempted to track file model.pkl at outputs/model.pkl

(``scalar`` becomes ``list``, ``row``, ``table``, ``image``, or the table type for
``log_accuracy_table`` and friends.) Tags and properties print ``Attempted to set tags:``,
``Attempted to remove tags:`` and ``Attempted to add properties:`` followed by the value; SDK v1
only keeps those in memory, so these lines are Headwater's.

Unlike SDK v1 it does not crash on what a script uses from a submitted run:
``run.experiment.workspace`` is a real workspace (see :func:`headwater.runtime._bridge.offline_workspace`),
``run.parent`` is another offline run, ``run.input_datasets`` and ``run.output_datasets`` are empty.
"""

from __future__ import annotations

import os

from headwater.runtime.run import Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["_OfflineRun"]


def _uuid4() -> str:
    """A random UUID4 as text, like ``str(uuid.uuid4())``; ``uuid`` itself costs ~2 ms to import."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _OfflineExperiment:
    """``run.experiment`` of an offline run: ``.workspace`` finds or creates a local workspace."""

    name = "offline"
    id = None

    def __init__(self) -> None:
        self._workspace: Any = None

    @property
    def workspace(self) -> Any:
        """The workspace of the config file found from the current folder upwards, else a default one."""
        if self._workspace is None:
            from headwater.runtime._bridge import offline_workspace

            self._workspace = offline_workspace()
        return self._workspace

    def __repr__(self) -> str:
        return "Experiment(Name: offline)"


class _OfflineRun(Run):
    """A run outside Headwater (SDK v1: ``azureml.core.run._OfflineRun``), id ``OfflineRun_<uuid4>``."""

    _shared_run: ClassVar[_OfflineRun | None] = None

    def __init__(self, run_id: str | None = None, *, experiment: Any = None, has_parent: bool = True) -> None:
        super().__init__(experiment or _OfflineExperiment(), run_id or f"OfflineRun_{_uuid4()}")
        self._has_parent = has_parent
        self._parent: _OfflineRun | None = None

    @classmethod
    def _shared(cls) -> _OfflineRun:
        """The process's offline run (``Run.get_context()`` returns the same one every time)."""
        if cls._shared_run is None:
            cls._shared_run = cls()
        return cls._shared_run

    @property
    def parent(self) -> Run | None:
        """An offline stand-in for the pipeline run, so ``run.parent.log(...)`` prints instead of crashing."""
        if not self._has_parent:
            return None
        if self._parent is None:
            self._parent = _OfflineRun(experiment=self._experiment, has_parent=False)
        return self._parent

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: Any = None) -> _OfflineRun:
        """Another offline run, id ``<this id>.<name>`` (SDK v1's offline child), whose parent is this one."""
        child = _OfflineRun(run_id or f"{self._run_id}.{name or _uuid4()}", experiment=self._experiment)
        child._parent = self
        return child

    def create_children(self, count: int | None = None, tag_key: str | None = None, tag_values: Any = None) -> Any:
        """``count`` offline child runs (or one per ``tag_values`` entry, tagged ``tag_key``)."""
        values = list(tag_values) if tag_values is not None else None
        children = [self.child_run() for _ in range(len(values) if values is not None else int(count or 0))]
        for child, value in zip(children, values or [], strict=False):
            child.tag(str(tag_key), value)
        return children

    def _emit(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "metric":
            label = event.get("table_type") or event["kind"]
            print(f"Attempted to log {label} metric {event['name']}:\n{event['value']}")
        elif kind == "file":
            print(f"Attempted to track file {event['name']} at {event['path']}")
        elif kind == "tags":
            print(f"Attempted to set tags:\n{event['tags']}")
        elif kind == "remove_tags":
            print(f"Attempted to remove tags:\n{event['keys']}")
        elif kind == "properties":
            print(f"Attempted to add properties:\n{event['properties']}")

    def _put_artifact(self, artifact: str, source: Any) -> str:
        return str(source)  # nothing is kept; the line printed names the source, as SDK v1's does

    def _image_value(self, name: str, path: Any, plot: Any) -> Any:
        return path if plot is None else plot

    def __repr__(self) -> str:
        return f"Run(Experiment: offline, Id: {self._run_id}, Type: None, Status: Running)"
