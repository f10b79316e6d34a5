"""A hint that a re-submitted pipeline will be all reused, so that its orchestrator is not started
first.

``Pipeline.submit`` starts the run's orchestrator before anything else (:mod:`headwater.ops.spawn`),
so that its start overlaps building and recording the run. When every step then turns out
reused, that start was wasted: a fork of the submitter (its page tables, then a copy-on-write
fault for each page either process writes) and an orchestrator importing the engine on the other
core while the submitter works (benchmarks/README.md, session 6: 10 to 20 ms of the submitter's CPU
and, on a busy machine, 150 to 250 ms of its wall time).

After a submit whose every step was reused, a file ``cache/reuse-hints/<key>`` remembers a digest
of what the submit could see cheaply: the pipeline's graph (its ``repr``), the experiment, the
parameters, this Python, and ``(size, mtime_ns, inode)`` of every file and folder under every
step's source directory. A later submit with the same digest starts no orchestrator first; it
starts one only when its reuse decision finds a step to run (then later than usual: a dataset,
an environment or an earlier run changed, which the digest does not cover). Any other submit —
no hint, a source file touched, different parameters — starts the orchestrator first, as before.

The hint decides *when* an orchestrator starts, never whether a step is reused: that is decided
as always, on the content digests of the step's code, inputs, parameters and environment.
Stdlib only, and nothing is imported or opened beyond a ``stat`` walk and one small file.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from headwater.layout import WorkspaceLayout

__all__ = ["ReuseHint"]

#: A source directory with more entries than this is not walked (no hint: the orchestrator starts first).
MAX_ENTRIES = 2000


def _walk(folder: str, out: list[str], budget: list[int]) -> bool:
    """Append ``path size mtime_ns inode`` for ``folder`` and everything under it; False past the budget."""
    try:
        st = os.stat(folder)
        entries = list(os.scandir(folder))
    except OSError:
        return False
    out.append(f"{folder}\0{st.st_mtime_ns}\0{st.st_ino}")
    budget[0] -= len(entries)
    if budget[0] < 0:
        return False
    for entry in sorted(entries, key=lambda e: e.name):
        try:
            if entry.is_dir(follow_symlinks=False):
                if not _walk(entry.path, out, budget):
                    return False
                continue
            st = entry.stat(follow_symlinks=True)
        except OSError:
            return False
        out.append(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}")
    return True


class ReuseHint:
    """The hint of one submit: :meth:`predicts_all_reused` before it, :meth:`record` after it."""

    def __init__(self, path: Path, lines: list[str], folders: list[str]) -> None:
        self.path = path
        self._lines = lines
        self._folders = folders
        self._digest: str | None = None

    @classmethod
    def of(
        cls,
        workspace_folder: str | os.PathLike[str],
        experiment_name: str,
        spec: Any,
        parameters: dict[str, Any],
        regenerate_outputs: bool,
    ) -> ReuseHint:
        """The hint of submitting ``spec`` (a :class:`~headwater.graph.spec.PipelineSpec`) now."""
        graph = repr(spec)
        key = hashlib.sha256(f"{experiment_name}\0{graph}".encode("utf-8", "surrogateescape")).hexdigest()[:32]
        lines = [graph, repr(sorted(parameters.items())), str(regenerate_outputs), sys.executable]
        folders = sorted({step.source_directory for step in spec.steps})
        return cls(WorkspaceLayout(workspace_folder).digest_cache.parent / "reuse-hints" / key, lines, folders)

    def digest(self) -> str | None:
        """The digest of what this submit sees (walked once); None when a source directory is too
        large or cannot be read."""
        if self._digest is None:
            lines, budget = list(self._lines), [MAX_ENTRIES]
            for folder in self._folders:
                if not _walk(folder, lines, budget):
                    return None
            self._digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()
        return self._digest

    def predicts_all_reused(self) -> bool:
        """Whether the last all-reused submit of this pipeline saw exactly what this one sees."""
        try:
            remembered = self.path.read_text()
        except (OSError, UnicodeDecodeError):
            return False  # no hint: the usual case of a first or changed submit costs one failed open
        return remembered == self.digest()

    def record(self, all_reused: bool) -> None:
        """After the submit: remember it when every step was reused, else forget any hint (best effort)."""
        try:
            digest = self.digest() if all_reused else None
            if digest is None:
                self.path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(digest)
            os.replace(tmp, self.path)
        except OSError:
            pass
