"""The numeric distances are scipy's between binned distributions: exact for integers, close otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import energy_distance, wasserstein_distance

from headwater.drift.distances import numeric_stats


def test_integer_values_give_scipy_s_exact_distances() -> None:
    rng = np.random.default_rng(3)
    b = np.round(rng.normal(40, 12, 20_000))
    t = np.round(rng.normal(43, 10, 5_000))
    stats, _ = numeric_stats(b, t)
    assert stats["wasserstein_distance"] == pytest.approx(wasserstein_distance(b, t), rel=1e-9)
    assert stats["energy_distance"] == pytest.approx(energy_distance(b, t), rel=1e-9)
    _, dist = numeric_stats(b, t)
    assert dist["baseline"] == np.histogram(b, bins=dist["edges"])[0].tolist()


@pytest.mark.parametrize("shift", [0.0, 0.05, 1.0])
def test_continuous_values_are_within_a_bin_of_scipy_on_every_value(shift: float) -> None:
    rng = np.random.default_rng(4)
    b = rng.lognormal(1.0, 0.5, 50_000)
    t = rng.lognormal(1.0 + shift, 0.5, 8_000)
    stats, dist = numeric_stats(b, t)
    width = (max(b.max(), t.max()) - min(b.min(), t.min())) / 4100
    assert stats["wasserstein_distance"] == pytest.approx(wasserstein_distance(b, t), abs=width)
    assert stats["energy_distance"] == pytest.approx(energy_distance(b, t), abs=2 * width**0.5, rel=0.02)
    assert dist["baseline"] == np.histogram(b, bins=dist["edges"])[0].tolist()
    assert dist["target"] == np.histogram(t, bins=dist["edges"])[0].tolist()
    assert dist["edges"][0] == min(b.min(), t.min()) and dist["edges"][-1] == max(b.max(), t.max())


def test_missing_values_are_left_out_and_counted() -> None:
    b = np.array([1.0, 2.0, np.nan, 4.0] * 25)
    t = np.array([1.0, 2.0, 3.0, 4.0] * 25)
    stats, _ = numeric_stats(b, t)
    assert stats["baseline_missing"] == 0.25 and stats["target_missing"] == 0.0
    assert stats["baseline_mean"] == pytest.approx(7 / 3)
    assert stats["wasserstein_distance"] == pytest.approx(wasserstein_distance(b[~np.isnan(b)], t), rel=1e-9)
