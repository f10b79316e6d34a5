"""Canonical hashing: sha256 over canonical JSON of a named dict.

Keep the dict, not only the hash: "why was this step not reused" is then a diff of two dicts
(:func:`explain_difference`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

__all__ = ["canonical_json", "dict_hash", "explain_difference"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def dict_hash(value: Any) -> str:
    """sha256 hex digest of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _short(value: Any, limit: int = 40) -> str:
    if value is None:
        return "unset"
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


SnapshotFiles = Callable[[str], "dict[str, str] | None"]


def explain_difference(
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    script: str | None = None,
    snapshot_files: SnapshotFiles | None = None,
) -> list[str]:
    """Human reasons why fingerprint parts ``new`` differ from ``old`` (empty when equal).

    Examples: ``"train.py changed"`` (the snapshot), ``"input 'raw' changed"``,
    ``"parameter lr 0.1 → 0.2"``, ``"arguments changed"``. ``snapshot_files`` maps a snapshot
    digest to its ``{path: file digest}`` manifest, so a changed snapshot names the changed files.
    """
    reasons: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "snapshot":
            changed = _changed_files(a, b, snapshot_files)
            if changed:
                shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
                reasons.append(f"{shown} changed")
            else:
                reasons.append(f"{script or 'the source directory'} changed")
        elif key in ("inputs", "parameters", "outputs") and isinstance(a, dict) and isinstance(b, dict):
            singular = key[:-1]
            for name in sorted(set(a) | set(b)):
                if name not in a:
                    reasons.append(f"{singular} {name!r} added")
                elif name not in b:
                    reasons.append(f"{singular} {name!r} removed")
                elif a[name] != b[name]:
                    if key == "parameters":
                        reasons.append(f"parameter {name} {_short(a[name])} → {_short(b[name])}")
                    else:
                        reasons.append(f"{singular} {name!r} changed")
        elif key == "environment":
            reasons.append("environment changed")
        else:
            if key in ("version", "name", "script"):
                reasons.append(f"{key} {_short(a)} → {_short(b)}")
            else:
                reasons.append(f"{key} changed")
    return reasons


def _changed_files(a: Any, b: Any, snapshot_files: SnapshotFiles | None) -> list[str]:
    """Files that differ between two snapshots, when their manifests are known."""
    if snapshot_files is None or not isinstance(a, str) or not isinstance(b, str):
        return []
    fa, fb = snapshot_files(a), snapshot_files(b)
    if fa is None or fb is None:
        return []
    return sorted(p for p in set(fa) | set(fb) if fa.get(p) != fb.get(p))
