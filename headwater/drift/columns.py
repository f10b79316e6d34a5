"""Which columns are compared, and as what: SDK v1's rules.

- A feature is a column both datasets have (or one of ``features``, when given), minus ``exclude``.
- Numeric (int, float, nullable int): compared unless more than 15 % of its values are missing on
  either side (the missing ones are left out of the distances; the classifier takes them as missing).
- Categorical: a string (object, ``string``, ``category``) or boolean column with fewer than 100
  distinct values that are also fewer than 5 % of the rows (baseline and target together). A string
  column with more distinct values is dropped (an identifier or free text, not a feature to compare).
- Anything else (dates, times, durations, nested values) is dropped. Every dropped column has its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from headwater.drift.errors import DriftDataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_CATEGORIES", "MAX_CATEGORY_SHARE", "MAX_MISSING", "Columns", "choose_columns"]

MAX_MISSING = 0.15  # a numeric column with more missing values (on either side) is dropped
MAX_CATEGORIES = 100  # a categorical column has fewer distinct values than this ...
MAX_CATEGORY_SHARE = 0.05  # ... and fewer than this share of the rows


@dataclass(frozen=True)
class Columns:
    """The outcome: numeric and categorical features (in the baseline's column order), dropped ones."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: dict[str, str]

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


def _names(frame: pd.DataFrame) -> str:
    shown = [str(c) for c in frame.columns[:10]]
    more = f" and {len(frame.columns) - 10} more" if len(frame.columns) > 10 else ""
    return (", ".join(shown) or "no columns") + more


def _candidates(
    baseline: pd.DataFrame, target: pd.DataFrame, features: Sequence[str] | None, exclude: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    dropped: dict[str, str] = {}
    excluded = set(exclude)
    if features is None:
        in_target = set(target.columns)
        names = [c for c in baseline.columns if c in in_target and c not in excluded]
    else:
        names = []
        for name in dict.fromkeys(features):
            if name in excluded:
                continue
            missing = [side for side, frame in (("baseline", baseline), ("target", target)) if name not in frame]
            if missing:
                dropped[name] = f"not a column of the {' and the '.join(missing)} dataset"
            else:
                names.append(name)
    if not names:
        listed = "" if features is None else f" among the features listed ({', '.join(map(str, features))})"
        raise DriftDataError(
            f"The baseline and target datasets have no feature in common{listed}: "
            f"baseline columns: {_names(baseline)}; target columns: {_names(target)}.",
            side="both",
            count=0,
            hint="Compare datasets with the same column names, or list features that both have.",
        )
    return names, dropped


def choose_columns(
    baseline: pd.DataFrame, target: pd.DataFrame, features: Sequence[str] | None = None, exclude: Sequence[str] = ()
) -> Columns:
    """Apply the rules above; raise :class:`DriftDataError` when no feature is left to compare."""
    import pandas as pd

    names, dropped = _candidates(baseline, target, features, exclude)
    rows = len(baseline) + len(target)
    numeric: list[str] = []
    categorical: list[str] = []
    for name in names:
        b, t = baseline[name], target[name]
        kinds = {pd.api.types.is_bool_dtype(b.dtype), pd.api.types.is_bool_dtype(t.dtype)}
        is_number = all(
            pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype) for s in (b, t)
        )
        is_text = all(
            pd.api.types.is_object_dtype(s.dtype)
            or pd.api.types.is_string_dtype(s.dtype)
            or isinstance(s.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(s.dtype)
            for s in (b, t)
        )
        if is_number:
            worst = max(
                ((side, float(s.isna().mean())) for side, s in (("baseline", b), ("target", t))), key=lambda x: x[1]
            )
            if worst[1] > MAX_MISSING:
                dropped[name] = (
                    f"numeric with {worst[1]:.0%} of its {worst[0]} values missing "
                    f"(more than {MAX_MISSING:.0%} are dropped)"
                )
            else:
                numeric.append(name)
        elif is_text and True in kinds and False not in kinds:
            categorical.append(name)
        elif is_text:
            distinct = len(set(b.dropna().unique()) | set(t.dropna().unique()))
            if distinct < MAX_CATEGORIES and distinct < MAX_CATEGORY_SHARE * rows:
                categorical.append(name)
            else:
                dropped[name] = (
                    f"text with {distinct:,} distinct values in {rows:,} rows (a categorical feature has fewer "
                    f"than {MAX_CATEGORIES} distinct values, and fewer than {MAX_CATEGORY_SHARE:.0%} of the rows)"
                )
        else:
            dropped[name] = f"neither numeric nor categorical (baseline {b.dtype}, target {t.dtype})"
    if not numeric and not categorical:
        reasons = "; ".join(f"{k!r}: {v}" for k, v in dropped.items())
        raise DriftDataError(
            f"No feature is left to compare: every one was dropped ({reasons}).",
            side="both",
            count=0,
            hint="Compare numeric columns with few missing values, or text columns with few distinct values.",
        )
    return Columns(tuple(numeric), tuple(categorical), dropped)
