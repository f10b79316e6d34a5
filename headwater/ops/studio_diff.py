"""Two runs of a pipeline side by side, for the studio's diff page (``/studio/diff?a=RUN&b=RUN``).

:func:`run_diff` compares what the runs recorded: the graph (steps matched by name: added,
removed, in both), the pipeline parameters, and per step the parts of its fingerprint (input
digests, parameters, arguments, the environment digest and variables), its code (the file lists
of the two stored snapshots, with a unified text diff of each changed text file), its reuse
decision, and its metrics; plus the pipeline-level metrics. Everything comes from the store and
the stored snapshots: nothing is recomputed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.errors import NotFoundError
from headwater.layout import WorkspaceLayout
from headwater.ops.run_views import metrics_view
from headwater.plan.hashing import canonical_json
from headwater.plan.snapshots import load_manifest
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["Change", "CodeDiff", "FileChange", "RunDiff", "StepDiff", "run_diff"]

#: Changed files bigger than this (either side) get no text diff.
MAX_DIFF_BYTES = 256 * 1024
#: At most this many changed files of a step get a text diff.
MAX_DIFF_FILES = 20


@dataclass(frozen=True)
class Change:
    """One named value in run ``a`` and in run ``b``; ``state`` is same, changed, added or removed."""

    name: str
    a: Any
    b: Any

    @property
    def state(self) -> str:
        if self.a == self.b:
            return "same"
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        return "changed"

    @property
    def a_text(self) -> str:
        return _text(self.a)

    @property
    def b_text(self) -> str:
        return _text(self.b)


@dataclass(frozen=True)
class FileChange:
    """A file of the two snapshots: added, removed or changed, with its text diff when it has one."""

    path: str
    state: str
    diff: str | None = None  # unified diff lines joined; None: binary, too big or not stored
    note: str | None = None  # why there is no diff


@dataclass(frozen=True)
class CodeDiff:
    """The snapshots of a step in the two runs."""

    a_snapshot: str | None
    b_snapshot: str | None
    files: list[FileChange] = field(default_factory=list)
    same_files: int = 0

    @property
    def changed(self) -> bool:
        return self.a_snapshot != self.b_snapshot


@dataclass(frozen=True)
class StepDiff:
    """One step (by name) in the two runs."""

    name: str
    a: RunRecord | None
    b: RunRecord | None
    inputs: list[Change]
    parameters: list[Change]
    settings: list[Change]  # arguments, script, version, outputs ...
    environment: list[Change]
    code: CodeDiff
    metrics: list[Change]

    @property
    def state(self) -> str:
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        parts = (self.inputs, self.parameters, self.settings, self.environment, self.metrics)
        if self.code.changed or any(c.state != "same" for group in parts for c in group):
            return "changed"
        return "same"


@dataclass(frozen=True)
class RunDiff:
    a: RunRecord
    b: RunRecord
    parameters: list[Change]
    metrics: list[Change]
    steps: list[StepDiff]

    @property
    def added(self) -> list[str]:
        return [s.name for s in self.steps if s.state == "added"]

    @property
    def removed(self) -> list[str]:
        return [s.name for s in self.steps if s.state == "removed"]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else canonical_json(value)


def _changes(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[Change]:
    a, b = a or {}, b or {}
    return [Change(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b), key=str)]


def _metrics(store: MetadataStore, run: RunRecord | None) -> dict[str, Any]:
    return {} if run is None else metrics_view(store.get_metrics(run.id))


def _parts(run: RunRecord | None) -> dict[str, Any]:
    parts = None if run is None else run.definition.get("fingerprint_parts")
    return parts if isinstance(parts, dict) else {}


def _file_diff(root: Path, a: str, b: str, path: str) -> tuple[str | None, str | None]:
    """The unified diff of ``path`` between stored snapshots ``a`` and ``b``, or why there is none."""
    texts: list[list[str]] = []
    for snap in (a, b):
        file = root / snap / path
        try:
            if file.stat().st_size > MAX_DIFF_BYTES:
                return None, "too big to show"
            texts.append(file.read_text(encoding="utf-8").splitlines(keepends=True))
        except FileNotFoundError:
            texts.append([])
        except UnicodeDecodeError:
            return None, "binary file"
        except OSError as exc:
            return None, f"not readable: {exc.strerror}"
    lines = difflib.unified_diff(texts[0], texts[1], f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines), None


def _code(root: Path, a: RunRecord | None, b: RunRecord | None) -> CodeDiff:
    sa = None if a is None else a.snapshot_id
    sb = None if b is None else b.snapshot_id
    if sa is None or sb is None or sa == sb:
        return CodeDiff(sa, sb)
    fa, fb = load_manifest(root, sa), load_manifest(root, sb)
    if fa is None or fb is None:
        return CodeDiff(sa, sb, [FileChange("", "changed", None, "a snapshot's file list is not stored")])
    files: list[FileChange] = []
    shown = 0
    for path in sorted(set(fa) | set(fb)):
        if fa.get(path) == fb.get(path):
            continue
        state = "added" if path not in fa else "removed" if path not in fb else "changed"
        if shown >= MAX_DIFF_FILES:
            files.append(FileChange(path, state, None, f"more than {MAX_DIFF_FILES} files changed"))
            continue
        diff, note = _file_diff(root, sa, sb, path)
        shown += 1
        files.append(FileChange(path, state, diff, note))
    same = sum(1 for p in fa if p in fb and fa[p] == fb[p])
    return CodeDiff(sa, sb, files, same)


_SETTINGS = ("kind", "script", "version", "arguments", "params", "outputs")


def _step(store: MetadataStore, root: Path, name: str, a: RunRecord | None, b: RunRecord | None) -> StepDiff:
    pa, pb = _parts(a), _parts(b)
    inputs = _changes(
        {k: (v or {}).get("digest") for k, v in (pa.get("inputs") or {}).items()},
        {k: (v or {}).get("digest") for k, v in (pb.get("inputs") or {}).items()},
    )
    settings = [Change(k, pa.get(k), pb.get(k)) for k in _SETTINGS if k in pa or k in pb]
    environment = [
        Change("environment digest", pa.get("environment"), pb.get("environment")),
        *[
            Change(f"${c.name}", c.a, c.b)
            for c in _changes(pa.get("environment_variables"), pb.get("environment_variables"))
        ],
        Change("compute target", a.compute_target if a else None, b.compute_target if b else None),
    ]
    return StepDiff(
        name,
        a,
        b,
        inputs=inputs,
        parameters=_changes(pa.get("parameters"), pb.get("parameters")),
        settings=settings,
        environment=environment,
        code=_code(root, a, b),
        metrics=_changes(_metrics(store, a), _metrics(store, b)),
    )


def _children(store: MetadataStore, run: RunRecord) -> dict[str, RunRecord]:
    """A pipeline run's step runs by name, in the order they were recorded (the pipeline's)."""
    if run.kind != "pipeline":
        return {}
    return {r.name or r.id: r for r in reversed(store.list_runs(parent_id=run.id))}


def _get(store: MetadataStore, run_id: str) -> RunRecord:
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError("Run", run_id, hint="Pick two runs from the runs list.")
    return run


def run_diff(store: MetadataStore, ws_folder: str | Path, a_id: str, b_id: str) -> RunDiff:
    """Runs ``a_id`` and ``b_id`` compared (pipeline runs step by step; any two runs as one step)."""
    a, b = _get(store, a_id), _get(store, b_id)
    root = WorkspaceLayout(Path(ws_folder)).snapshots
    steps_a = _children(store, a)
    steps_b = _children(store, b)
    if not steps_a and not steps_b:  # two script runs: one "step" each
        steps_a, steps_b = {a.name or "run": a}, {b.name or "run": b}
    order = [*steps_a, *(n for n in steps_b if n not in steps_a)]
    steps = [_step(store, root, n, steps_a.get(n), steps_b.get(n)) for n in order]
    params_a = a.definition.get("parameters") if a.kind == "pipeline" else None
    params_b = b.definition.get("parameters") if b.kind == "pipeline" else None
    return RunDiff(a, b, _changes(params_a, params_b), _changes(_metrics(store, a), _metrics(store, b)), steps)
