"""A step's panel in the studio: its decision explained, its data, environment and links.

:func:`step_detail` gathers what the panel of a step run shows — status and times; the reuse
decision with the fingerprint's parts, the run it reused and, for a step that ran again, which
parts changed since the step's previous run (old → new); arguments and parameter values; inputs
and outputs with their datastore paths (and the files of outputs on a local datastore, which
:func:`output_file` serves, never from outside the datastore's root); environment, compute target
and node; git properties.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from headwater.errors import NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = [
    "OutputView",
    "StepDetail",
    "flatten_parts",
    "output_file",
    "part_changes",
    "snapshot_changes",
    "step_detail",
    "step_spec",
]

#: At most this many files of an output are listed in the panel.
FILES_LISTED = 20
#: A changed source file is shown as a diff when both versions are text of at most this many bytes.
DIFF_BYTES = 200_000
#: At most this many changed files are shown as diffs, each of at most this many lines.
DIFF_FILES, DIFF_LINES = 3, 300


@dataclass
class OutputView:
    """An output of a step run: where it is, its digest and (local datastores) its first files."""

    name: str
    datastore: str
    path: str
    digest: str | None
    local: bool = False
    files: list[str] = field(default_factory=list)
    more_files: bool = False


@dataclass
class StepDetail:
    """What a step's panel shows (see the module's docstring)."""

    run: RunRecord
    pipeline_id: str | None
    state: str
    reason: str
    reused_run_id: str | None
    reused_pipeline_id: str | None
    fingerprint: str | None
    parts: list[tuple[str, str]]
    changes: list[tuple[str, str, str]]  # (part, before, now) against the step's previous run
    files: list[tuple[str, str, str]]  # (path, "changed" | "added" | "removed", unified diff or "")
    previous_run_id: str | None
    arguments: list[str]
    parameters: dict[str, Any]
    inputs: list[dict[str, Any]]
    outputs: list[OutputView]
    environment: dict[str, Any]
    compute_target: str
    node: str | None
    git: dict[str, str]
    properties: dict[str, str]
    tags: dict[str, str | None]
    error: dict[str, Any] | None
    allow_reuse: bool | None = None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def flatten_parts(parts: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A fingerprint's parts as ``{"inputs.raw.digest": "...", "parameters.lr": "0.1", ...}``."""
    out: dict[str, str] = {}
    for key, value in parts.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten_parts(value, f"{name}."))
        else:
            out[name] = _show(value)
    return out


def part_changes(before: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The parts that differ: ``(part, before, now)``, "" where a part is absent on one side."""
    old, new = flatten_parts(before), flatten_parts(now)
    return [(k, old.get(k, ""), new.get(k, "")) for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]


def _manifest(ws_folder: Path, digest: str) -> dict[str, Any] | None:
    from headwater.layout import WorkspaceLayout

    try:
        files = json.loads(WorkspaceLayout(ws_folder).snapshot_manifest(digest).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return files if isinstance(files, dict) else None


def _text(path: Path) -> list[str] | None:
    try:
        if path.stat().st_size > DIFF_BYTES:
            return None
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        return None


def snapshot_changes(ws_folder: Path, old: str, new: str) -> list[tuple[str, str, str]]:
    """The files that differ between two stored snapshots: ``(path, change, diff)``; the first few
    changed text files come with a unified diff (old → new)."""
    import difflib

    from headwater.layout import WorkspaceLayout

    if not all(d and all(c in "0123456789abcdef" for c in d) for d in (old, new)):
        return []  # not snapshot digests
    before, after = _manifest(ws_folder, old), _manifest(ws_folder, new)
    if before is None or after is None:
        return []
    root = WorkspaceLayout(ws_folder).snapshots
    out, diffs = [], 0
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path), after.get(path)
        if a == b:
            continue
        change = "added" if a is None else "removed" if b is None else "changed"
        diff = ""
        if change == "changed" and diffs < DIFF_FILES:
            lines_a, lines_b = _text(root / old / path), _text(root / new / path)
            if lines_a is not None and lines_b is not None:
                lines = list(difflib.unified_diff(lines_a, lines_b, f"before/{path}", f"now/{path}"))
                diff = "".join(lines[:DIFF_LINES]) + ("…\n" if len(lines) > DIFF_LINES else "")
                diffs += 1
        out.append((path, change, diff))
    return out


@lru_cache(maxsize=16)
def _plan(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def _read_plan(pipeline: RunRecord | None) -> dict[str, Any] | None:
    path = None if pipeline is None else pipeline.definition.get("plan")
    if not path:
        return None
    try:
        st = Path(path).stat()
        return _plan(str(path), st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        return None


def step_spec(pipeline: RunRecord | None, node_id: str | None) -> dict[str, Any] | None:
    """The step's spec (as in its run's plan file), or None when the plan is gone."""
    plan = _read_plan(pipeline)
    if plan is None:
        return None
    return next((s for s in plan.get("spec", {}).get("steps", ()) if s.get("node_id") == node_id), None)


def _argument(token: dict[str, Any], parameters: dict[str, Any]) -> str:
    if "literal" in token:
        return str(token["literal"])
    if "parameter" in token:
        return f"{token['parameter']}={_show(parameters.get(token['parameter']))}"
    for kind in ("input", "output"):
        if kind in token:
            return f"<{kind} {token[kind]}>"
    return _show(token)


def _outputs(store: MetadataStore, ws_folder: Path, run_id: str) -> list[OutputView]:
    from headwater.store.datastores import local_backend_for

    views = []
    for out in store.get_run_outputs(run_id):
        view = OutputView(out.name, out.datastore, out.path, out.digest)
        record = store.get_datastore(out.datastore)
        backend = None if record is None else local_backend_for(record, ws_folder)
        if backend is not None:
            view.local = True
            try:
                files = backend.list_files(out.path) if backend.is_dir(out.path) else [out.path]
            except (OSError, ValueError):
                files = []
            prefix = out.path.rstrip("/") + "/"
            view.files = [f.removeprefix(prefix) if f != out.path else "" for f in files[:FILES_LISTED]]
            view.more_files = len(files) > FILES_LISTED
        views.append(view)
    return views


def step_detail(store: MetadataStore, ws_folder: Path, run: RunRecord, pipeline: RunRecord | None) -> StepDetail:
    """The panel of step run ``run`` of ``pipeline``."""
    from headwater.ops.studio_queries import short_reason, step_state

    definition = run.definition or {}
    parts: dict[str, Any] = definition.get("fingerprint_parts") or {}
    properties = store.get_properties(run.id)
    tags = store.get_tags(run.id)
    spec = step_spec(pipeline, tags.get("azureml.nodeid") or run.name)
    parameters = dict(parts.get("parameters") or {})
    tokens = parts.get("arguments") or (spec or {}).get("arguments") or []
    previous = None
    changes: list[tuple[str, str, str]] = []
    if run.reused_run_id is None and parts and run.name:
        previous = store.previous_step_run(run.name, run.experiment_id, run.created_at, exclude=run.id)
        old = None if previous is None else previous.definition.get("fingerprint_parts")
        if old:
            changes = part_changes(old, parts)
    snapshot_change = next((c for c in changes if c[0] == "snapshot"), None)
    files = [] if snapshot_change is None else snapshot_changes(ws_folder, snapshot_change[1], snapshot_change[2])
    input_paths = definition.get("inputs") or {}
    inputs = [
        {
            "name": name,
            "digest": (info or {}).get("digest"),
            "mode": (info or {}).get("mode"),
            "path": (input_paths.get(name) or {}).get("path"),
            "dataset_id": (input_paths.get(name) or {}).get("dataset_id"),
        }
        for name, info in (parts.get("inputs") or {}).items()
    ]
    env_spec = (spec or {}).get("environment") or {}
    docker = env_spec.get("docker")
    docker = docker if isinstance(docker, dict) else {}
    environment = {
        "name": env_spec.get("name"),
        "version": env_spec.get("version"),
        "digest": parts.get("environment"),
        "base image": docker.get("base_image"),
    }
    node = definition.get("node") or definition.get("host")
    if node is None and pipeline is not None and (run.compute_target or "local") == "local":
        node = pipeline.definition.get("orchestrator_host")
    return StepDetail(
        run=run,
        pipeline_id=run.parent_id,
        state=step_state(run.status, run.reused_run_id),
        reason=short_reason(run.reason, run.reused_run_id is not None) if run.reason else "",
        reused_run_id=run.reused_run_id,
        reused_pipeline_id=properties.get("azureml.reusedpipeline") or None,
        fingerprint=run.fingerprint,
        parts=sorted(flatten_parts(parts).items()),
        changes=changes,
        files=files,
        previous_run_id=None if previous is None else previous.id,
        arguments=[_argument(t, parameters) for t in tokens],
        parameters=parameters,
        inputs=inputs,
        outputs=_outputs(store, ws_folder, run.id),
        environment={k: v for k, v in environment.items() if v not in (None, "", {}, [])},
        compute_target=run.compute_target or "local",
        node=node,
        git={k: v for k, v in properties.items() if "git" in k.lower()},
        properties=properties,
        tags=tags,
        error=run.error,
        allow_reuse=None if spec is None else bool(spec.get("allow_reuse", True)),
    )


def output_file(store: MetadataStore, ws_folder: Path, run_id: str, output: str, rel: str) -> Path:
    """The local file ``rel`` inside output ``output`` of run ``run_id``; refuses any path that would
    leave the datastore's root (PathEscapeError) and outputs not on a local datastore."""
    from headwater.store.datastores import local_backend_for

    found = next((o for o in store.get_run_outputs(run_id) if o.name == output), None)
    if found is None:
        raise NotFoundError("Output", output, where=f"run {run_id!r}")
    record = store.get_datastore(found.datastore)
    backend = None if record is None else local_backend_for(record, ws_folder)
    if backend is None:
        raise NotFoundError(
            "Local file of output",
            output,
            where=f"run {run_id!r}",
            hint=f"Datastore {found.datastore!r} is not a folder on this machine; download it with the SDK.",
        )
    path = backend.local_path(f"{found.path.rstrip('/')}/{rel}" if rel else found.path)
    if not path.is_file():
        raise NotFoundError("File", rel or found.path, where=f"output {output!r} of run {run_id!r}")
    return Path(os.path.realpath(path))
