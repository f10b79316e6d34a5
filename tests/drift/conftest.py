"""Generated tabular data with a known shift, for the drift statistics' tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pandas as pd


def frame(
    rows: int, *, seed: int, shift: dict[str, float] | None = None, colours: list[float] | None = None
) -> pd.DataFrame:
    """``rows`` rows of three numeric features (a, b, c ~ N(0, 1), c an integer-rounded one) and a
    categorical ``colour`` (red/green/blue with probabilities ``colours``); ``shift`` adds to a feature's mean."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    shift = shift or {}
    data = {name: rng.normal(shift.get(name, 0.0), 1.0, rows) for name in ("a", "b")}
    data["c"] = np.round(rng.normal(shift.get("c", 0.0), 3.0, rows)).astype(np.int64)
    data["colour"] = rng.choice(["red", "green", "blue"], size=rows, p=colours or [0.5, 0.3, 0.2])
    return pd.DataFrame(data)


@pytest.fixture
def make_frame():  # type: ignore[no-untyped-def]
    return frame
