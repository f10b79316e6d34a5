"""Environment builds inside a run: one background build per environment digest.

A step whose environment is neither satisfied by Headwater's interpreter nor built yet waits,
``Queued``, while :func:`headwater.engine.environments.ensure_environment` builds it in a thread
(the orchestrator keeps running other steps). Steps needing the same environment share one build;
its output goes to the first such step's ``system_logs/environment_build.log`` (the others' logs
say where). The build's own file lock makes builds by other runs wait too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headwater.engine.environments import BuiltEnvironment, ensure_environment
from headwater.errors import AlreadyExistsError, EnvironmentBuildError
from headwater.layout import ENVIRONMENT_BUILD_LOG
from headwater.store.metadata import MetadataStore
from headwater.store.records import utcnow

__all__ = ["BUILD_ENDED", "BUILD_STARTED", "EnvironmentBuilds", "record_build_time"]

#: Run properties of a step whose environment was built for it (the studio timeline's build phase).
BUILD_STARTED = "headwater.build_started"
BUILD_ENDED = "headwater.build_ended"


class EnvironmentBuilds:
    """The environment builds of one pipeline run."""

    def __init__(
        self, environments_root: Path, log_folder: Callable[[str], Path], *, strict_python: bool = False
    ) -> None:
        self._root = environments_root
        self._strict = strict_python
        self._log_folder = log_folder  # node id -> its step run's system_logs folder
        self._waiting: dict[str, list[str]] = {}  # digest -> nodes
        self._done: queue.Queue[tuple[str, BuiltEnvironment | EnvironmentBuildError]] = queue.Queue()
        self._first_log: dict[str, Path] = {}

    @property
    def busy(self) -> bool:
        """Whether a build is still running (or finished and not yet collected)."""
        return bool(self._waiting)

    def request(self, node: str, digest: str, spec: dict[str, Any]) -> None:
        """Make ``node`` wait for its environment; start the build unless one is running."""
        log_path = self._log_folder(node) / ENVIRONMENT_BUILD_LOG
        log_path.parent.mkdir(parents=True, exist_ok=True)
        if digest in self._waiting:
            self._waiting[digest].append(node)
            log_path.write_text(f"Waiting for environment {digest[:12]}; its build log: {self._first_log[digest]}\n")
            return
        self._waiting[digest] = [node]
        self._first_log[digest] = log_path
        threading.Thread(
            target=self._build, args=(digest, spec, log_path), name=f"env-{digest[:8]}", daemon=True
        ).start()

    def _build(self, digest: str, spec: dict[str, Any], log_path: Path) -> None:
        try:
            with open(log_path, "a", encoding="utf-8", buffering=1) as log:
                outcome: BuiltEnvironment | EnvironmentBuildError = ensure_environment(
                    spec, self._root, log=log, strict_python=self._strict
                )
        except EnvironmentBuildError as exc:
            outcome = exc
        except Exception as exc:  # anything else still ends the wait, as a failed build
            outcome = EnvironmentBuildError(f"The environment build failed unexpectedly: {exc!r}")
        self._done.put((digest, outcome))

    def collect(self, timeout: float) -> list[tuple[list[str], BuiltEnvironment | EnvironmentBuildError]]:
        """Builds that ended (waiting up to ``timeout`` for the first): the nodes and the outcome."""
        out: list[tuple[list[str], BuiltEnvironment | EnvironmentBuildError]] = []
        try:
            item = self._done.get(timeout=timeout) if timeout > 0 else self._done.get_nowait()
        except queue.Empty:
            return out
        while True:
            digest, outcome = item
            out.append((self._waiting.pop(digest, []), outcome))
            try:
                item = self._done.get_nowait()
            except queue.Empty:
                return out


def record_build_time(store: MetadataStore, run_id: str, key: str) -> None:
    """Record now as step run ``run_id``'s :data:`BUILD_STARTED` or :data:`BUILD_ENDED` (only for
    a step that waits for a build; a resumed run keeps the first attempt's time)."""
    try:
        store.add_properties(run_id, {key: utcnow()})
    except AlreadyExistsError:
        pass
