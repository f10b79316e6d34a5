"""Results as ``latest.json`` and a markdown table (``latest.md``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.figures import TIMES, Figure

__all__ = ["markdown", "table", "write"]


def _value(v: float, unit: str) -> str:
    return f"{v:.1f} MiB" if unit == "MiB" else f"{v:.3f} s"


def _met(figure: Figure) -> str:
    return {True: "yes", False: "**no**", None: "—"}[figure.met]


def table(figures: list[Figure]) -> str:
    rows = [
        "| figure | runs | Headwater (median) | floor | floor (median) | ratio | target | met |",
        "| --- | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for f in figures:
        target = f.target.text(f.unit) if f.target else "—"
        rows.append(
            f"| {f.label} | {len(f.samples)} | {_value(f.median, f.unit)} | {f.floor_label} | "
            f"{_value(f.floor_median, f.unit)} | {f.ratio:.2f} {TIMES} | {target} | {_met(f)} |"
        )
    return "\n".join(rows)


def markdown(results: dict[str, Any], figures: list[Figure]) -> str:
    m = results["machine"]
    s = results["settings"]
    notes = sorted({n for f in figures for n in f.notes})
    lines = [
        f"Measured {m['date']} on {m['cores']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, {m['os']}, "
        f"load average {m['load_average_1min']['before']} before / {m['load_average_1min']['after']} after; "
        f"Python {m['python']}, Headwater {m['headwater']} ({(m['commit'] or '?')[:10]}"
        f"{', uncommitted changes' if m['worktree_dirty'] else ''}).",
        f"Command: `{results['command']}` ({results['wall_seconds']:.0f} s). Each figure is the median of "
        f"whole-process runs; floors were measured in the same invocation, alternating with Headwater's runs. "
        f"Bytecode caching: {s['bytecode']}.",
        "",
        table(figures),
    ]
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def write(out: Path, results: dict[str, Any], figures: list[Figure]) -> tuple[Path, Path]:
    """Write ``latest.json`` and ``latest.md`` atomically; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / "latest.json", out / "latest.md")
    bodies = (
        json.dumps({**results, "figures": [f.to_json() for f in figures]}, indent=2, ensure_ascii=False) + "\n",
        markdown(results, figures),
    )
    for path, body in zip(paths, bodies, strict=True):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
    return paths
