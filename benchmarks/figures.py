"""A figure: Headwater's samples, its floor's samples from the same invocation, the ratio, the target."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TIMES", "Figure", "Target"]

TIMES = "\N{MULTIPLICATION SIGN}"


@dataclass(frozen=True)
class Target:
    """``kind`` 'ratio': median / floor median ≤ value; 'max': median ≤ value (in the figure's unit)."""

    kind: str
    value: float
    note: str = ""

    def text(self, unit: str) -> str:
        shown = f"≤ {self.value:g} {TIMES}" if self.kind == "ratio" else f"≤ {self.value:g} {unit}"
        return f"{shown} ({self.note})" if self.note else shown


@dataclass
class Figure:
    key: str  # e.g. 'chain10.cold'
    label: str  # e.g. 'chain10 cold'
    unit: str  # 's' or 'MiB'
    samples: list[float]
    floor_label: str
    floor_samples: list[float]
    target: Target | None = None
    notes: list[str] = field(default_factory=list)
    ran: list[str] | None = None  # the step processes each Headwater run started (checked from the ledger)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor_samples)

    @property
    def ratio(self) -> float:
        return self.median / self.floor_median if self.floor_median > 0 else float("inf")

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = self.ratio if self.target.kind == "ratio" else self.median
        return value <= self.target.value

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "samples": [round(s, 6) for s in self.samples],
            "median": round(self.median, 6),
            "floor": {
                "label": self.floor_label,
                "samples": [round(s, 6) for s in self.floor_samples],
                "median": round(self.floor_median, 6),
            },
            "ratio": round(self.ratio, 4),
            "target": None
            if self.target is None
            else {"kind": self.target.kind, "value": self.target.value, "text": self.target.text(self.unit)},
            "met": self.met,
            "ran": self.ran,
            "notes": self.notes,
        }
