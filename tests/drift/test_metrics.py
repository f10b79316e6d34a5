"""compute_drift on generated data whose shift is known: none, one numeric feature's mean, a category."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from headwater.drift import DriftDataError, DriftReport, compute_drift
from headwater.errors import HeadwaterError
from tests.drift.conftest import frame


def test_two_samples_of_one_distribution_do_not_drift() -> None:
    report = compute_drift(frame(4000, seed=1), frame(3000, seed=2))
    assert report.magnitude < 5
    assert report.baseline_rows == 4000 and report.target_rows == 3000
    assert set(report.features) == {"a", "b", "c", "colour"}
    assert set(report.numeric) == {"a", "b", "c"} and set(report.categorical) == {"colour"}
    assert sum(report.contributions.values()) == pytest.approx(report.magnitude, abs=1e-6)
    for stats in report.numeric.values():
        assert stats["wasserstein_distance"] < 0.2


def test_a_shifted_mean_drifts_and_that_feature_contributes_most() -> None:
    report = compute_drift(frame(4000, seed=1), frame(3000, seed=2, shift={"b": 1.0}))
    assert report.magnitude > 30
    assert next(iter(report.contributions)) == "b"
    assert report.contributions["b"] > 0.8 * report.magnitude
    assert list(report.contributions.values()) == sorted(report.contributions.values(), reverse=True)
    b = report.numeric["b"]
    assert b["target_mean"] - b["baseline_mean"] == pytest.approx(1.0, abs=0.1)
    assert b["wasserstein_distance"] == pytest.approx(1.0, abs=0.1)
    assert b["energy_distance"] > 5 * report.numeric["a"]["energy_distance"]
    assert set(b) >= {"baseline_min", "target_min", "baseline_max", "target_max"}
    assert 0.0 < report.coefficient <= 1.0


def test_a_categorical_shift_shows_in_its_euclidean_distance_and_ranks_first() -> None:
    report = compute_drift(frame(4000, seed=1), frame(3000, seed=2, colours=[0.1, 0.3, 0.6]))
    colour = report.categorical["colour"]
    # frequencies red/green/blue .5/.3/.2 -> .1/.3/.6: distance sqrt(.4² + .4²) ≈ 0.566
    assert colour["euclidean_distance"] == pytest.approx(0.566, abs=0.04)
    assert colour["baseline_unique"] == colour["target_unique"] == 3
    assert next(iter(report.contributions)) == "colour"
    assert report.magnitude > 20
    dist = report.distributions["colour"]
    assert dist["kind"] == "categorical" and set(dist["values"]) == {"red", "green", "blue"}
    blue = dist["values"].index("blue")
    assert dist["target"][blue] == pytest.approx(0.6, abs=0.03)


def test_no_shift_in_the_category_gives_a_small_distance() -> None:
    report = compute_drift(frame(4000, seed=1), frame(3000, seed=2))
    assert report.categorical["colour"]["euclidean_distance"] < 0.05


@pytest.mark.parametrize(("side", "rows"), [("baseline", 49), ("target", 12)])
def test_fewer_than_50_rows_are_refused_naming_the_side_and_count(side: str, rows: int) -> None:
    big, small = frame(500, seed=1), frame(rows, seed=2)
    baseline, target = (small, big) if side == "baseline" else (big, small)
    with pytest.raises(DriftDataError, match=rf"The {side} dataset has {rows} row\(s\).*at least 50") as info:
        compute_drift(baseline, target)
    assert (info.value.side, info.value.count) == (side, rows)
    assert isinstance(info.value, HeadwaterError)


def test_exactly_50_rows_are_enough() -> None:
    report = compute_drift(frame(50, seed=1), frame(50, seed=2))
    assert report.target_rows == 50 and 0 <= report.magnitude <= 100


def test_a_numeric_column_with_many_missing_values_is_dropped_with_its_reason() -> None:
    baseline, target = frame(1000, seed=1), frame(1000, seed=2)
    target["a"] = target["a"].mask(np.arange(1000) % 5 == 0)  # 20 % missing
    target["b"] = target["b"].mask(np.arange(1000) % 10 == 0)  # 10 %: kept
    report = compute_drift(baseline, target)
    assert "a" not in report.features and "a" not in report.numeric
    assert report.dropped["a"] == "numeric with 20% of its target values missing (more than 15% are dropped)"
    assert report.numeric["b"]["target_missing"] == pytest.approx(0.1)
    assert "b" in report.contributions


def test_which_text_columns_are_categorical() -> None:
    rows = 2000  # 5 % of the rows (baseline and target together: 4000) = 200 values
    baseline, target = frame(rows, seed=1), frame(rows, seed=2)
    for df in (baseline, target):
        df["city"] = [f"city{i % 99}" for i in range(rows)]  # 99 values: categorical
        df["zip"] = [f"z{i % 100}" for i in range(rows)]  # 100 values: too many
        df["id"] = [f"row{i}" for i in range(rows)]  # one per row: an identifier
        df["flag"] = np.arange(rows) % 2 == 0  # boolean: categorical
        df["when"] = pd.Timestamp("2024-01-01")
    report = compute_drift(baseline, target)
    assert set(report.categorical) == {"colour", "city", "flag"}
    assert "100 distinct values" in report.dropped["zip"]
    assert "fewer than 100 distinct values" in report.dropped["zip"]
    assert "2,000 distinct values in 4,000 rows" in report.dropped["id"]
    assert "neither numeric nor categorical" in report.dropped["when"]


def test_fewer_values_than_5_percent_of_the_rows_is_required() -> None:
    rows = 200  # 400 rows together: 5 % = 20
    baseline, target = frame(rows, seed=1), frame(rows, seed=2)
    for df in (baseline, target):
        df["few"] = [f"v{i % 19}" for i in range(rows)]
        df["many"] = [f"v{i % 20}" for i in range(rows)]
    report = compute_drift(baseline, target)
    assert "few" in report.categorical
    assert "many" in report.dropped and "20 distinct values in 400 rows" in report.dropped["many"]


def test_no_common_features_is_an_error_naming_both_sides_columns() -> None:
    baseline = frame(100, seed=1)
    target = frame(100, seed=2).rename(columns=lambda c: c.upper())
    with pytest.raises(
        DriftDataError, match=r"no feature in common.*baseline columns: a, b, c, colour.*target columns: A"
    ):
        compute_drift(baseline, target)


def test_features_and_exclude_choose_the_columns() -> None:
    baseline, target = frame(500, seed=1), frame(500, seed=2)
    report = compute_drift(baseline, target, features=["a", "colour", "missing"], exclude=["colour"])
    assert report.features == ("a",)
    assert report.dropped == {"missing": "not a column of the baseline and the target dataset"}
    with pytest.raises(DriftDataError, match="among the features listed"):
        compute_drift(baseline, target, features=["nope"])


def test_a_single_name_is_one_feature_and_a_dataset_must_be_a_dataframe() -> None:
    baseline, target = frame(100, seed=1), frame(100, seed=2)
    report = compute_drift(baseline, target, features="colour", exclude="a")
    assert report.features == ("colour",)
    with pytest.raises(DriftDataError, match=r"The target must be a pandas DataFrame, not list.*to_pandas_dataframe"):
        compute_drift(baseline, [1, 2, 3])  # type: ignore[arg-type]


def test_everything_dropped_is_an_error_with_the_reasons() -> None:
    baseline = pd.DataFrame({"id": [f"r{i}" for i in range(100)]})
    with pytest.raises(DriftDataError, match=r"No feature is left to compare.*'id': text with 200 distinct"):
        compute_drift(baseline, pd.DataFrame({"id": [f"s{i}" for i in range(100)]}))


def test_the_report_round_trips_through_json_and_is_deterministic() -> None:
    baseline, target = frame(2000, seed=1), frame(1500, seed=2, shift={"a": 0.5})
    target.loc[::20, "colour"] = None
    report = compute_drift(baseline, target, random_state=7)
    text = json.dumps(report.to_dict(), allow_nan=False)
    again = DriftReport.from_dict(json.loads(text))
    assert again == report
    assert again.to_dict() == report.to_dict()
    assert list(report.to_dict()) == [
        "version", "magnitude", "baseline_rows", "target_rows", "features", "contributions",
        "numeric", "categorical", "distributions", "dropped", "classifier",
    ]  # fmt: skip
    assert compute_drift(baseline, target, random_state=7) == report
    assert None in report.distributions["colour"]["values"]  # missing, counted as a value
    numeric = report.distributions["a"]
    assert len(numeric["edges"]) == len(numeric["baseline"]) + 1 and sum(numeric["baseline"]) == 2000


def test_sdk_v1_metric_shapes() -> None:
    report = compute_drift(frame(500, seed=1), frame(500, seed=2, shift={"a": 2.0}))
    metrics = report.sdk_v1_metrics()
    assert metrics["dataset_metrics"] == [{"name": "datadrift_coefficient", "value": report.magnitude / 100}]
    by_feature = {next(iter(c)): next(iter(c.values())) for c in metrics["column_metrics"]}
    assert [m["name"] for m in by_feature["a"]] == ["datadrift_contribution", "wasserstein_distance", "energy_distance"]
    assert [m["name"] for m in by_feature["colour"]] == ["datadrift_contribution", "euclidean_distance"]
