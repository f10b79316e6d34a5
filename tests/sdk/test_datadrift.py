"""DataDriftDetector (SDK v1's ``azureml.datadrift``) on generated data with a known shift.

The target is partitioned by day (``target/yyyy/MM/dd/data.csv``); from 6 March on, feature ``a``
is shifted. A detector run is a real pipeline run with one step per period; those tests are slow.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import AlertConfiguration, AlreadyExistsError, DataDriftDetector, Dataset, NotFoundError, Workspace
from headwater.sdk.datadrift_config import DriftArgumentError, DriftTypeError
from headwater.store.secrets import SecretStore
from tests.e2e.conftest import pws  # noqa: F401  (fixture shared with e2e)

DAY0 = datetime(2026, 3, 1)
SHIFT_FROM = 5  # 6 March
ROWS = 80


def _rows(rng: random.Random, count: int, start: datetime | None, shift: float) -> list[str]:
    lines = []
    for i in range(count):
        a = rng.gauss(10.0 + shift, 1.0)
        b = rng.gauss(0.0, 1.0)
        c = rng.choice(["red", "green", "blue"])
        prefix = "" if start is None else (start + timedelta(minutes=15 * i)).isoformat() + ","
        lines.append(f"{prefix}{a:.4f},{b:.4f},{c}")
    return lines


def write_target_day(root: Path, day: int, *, shift: float | None = None, rows: int = ROWS, seed: int = 0) -> None:
    when = DAY0 + timedelta(days=day)
    folder = root / "target" / f"{when:%Y/%m/%d}"
    folder.mkdir(parents=True, exist_ok=True)
    if shift is None:
        shift = 4.0 if day >= SHIFT_FROM else 0.0
    lines = _rows(random.Random(1000 * day + seed), rows, when, shift)
    (folder / "data.csv").write_text("ts,a,b,c\n" + "\n".join(lines) + "\n", encoding="utf-8")


def make_datasets(ws: Workspace, days: int = 10) -> tuple[Any, Any, Path]:
    store = ws.get_default_datastore()
    root = Path(store._backend.root)
    (root / "baseline").mkdir(parents=True, exist_ok=True)
    base = _rows(random.Random(7), 400, None, 0.0)
    (root / "baseline" / "train.csv").write_text("a,b,c\n" + "\n".join(base) + "\n", encoding="utf-8")
    for day in range(days):
        write_target_day(root, day)
    baseline = Dataset.Tabular.from_delimited_files((store, "baseline/train.csv"))
    target = Dataset.Tabular.from_delimited_files(
        (store, "target/**/data.csv"), partition_format="target/{day:yyyy/MM/dd}/data.csv"
    ).with_timestamp_columns(timestamp="ts", partition_timestamp="day")
    return baseline, target, root


def detector(ws: Workspace, name: str = "monitor", **kw: Any) -> DataDriftDetector:
    baseline, target, _ = make_datasets(ws)
    return DataDriftDetector.create_from_datasets(ws, name, baseline, target, **kw)


# -- settings ----------------------------------------------------------------------------------


def test_create_get_list_update_delete(ws: Workspace) -> None:
    baseline, target, _ = make_datasets(ws, days=1)
    alerts = AlertConfiguration(["ops@example.com"], webhook_url="http://127.0.0.1:9/hook")
    d = DataDriftDetector.create_from_datasets(
        ws, "monitor", baseline, target, frequency="Week", feature_list=["a", "b"], alert_config=alerts, latency=6
    )
    assert (d.name, d.frequency, d.interval, d.drift_threshold, d.latency) == ("monitor", "Week", 1, 0.2, 6)
    assert d.feature_list == ["a", "b"] and d.state == "Disabled" and not d.enabled
    assert d.drift_type == "DatasetBased" and d.compute_target is None
    assert d.alert_config == alerts
    # the webhook URL is kept in the secrets file only, never in the store
    assert SecretStore(ws._folder).get("drift/monitor/webhook_url") == "http://127.0.0.1:9/hook"
    assert "127.0.0.1:9" not in repr(ws.metadata_store.get_detector("monitor"))
    assert d.target_dataset.timestamp_columns == ("ts", "day")
    assert d.baseline_dataset.to_pandas_dataframe().shape == (400, 3)

    with pytest.raises(AlreadyExistsError, match="'monitor' already exists"):
        DataDriftDetector.create_from_datasets(ws, "monitor", baseline, target)
    other = DataDriftDetector.create_from_datasets(ws, "other", baseline, target)
    assert [x.name for x in DataDriftDetector.list(ws)] == ["monitor", "other"]
    assert [x.name for x in DataDriftDetector.list(ws, target_dataset=target)] == ["monitor", "other"]
    assert DataDriftDetector.list(ws, baseline_dataset=target) == []

    got = DataDriftDetector.get_by_name(ws, "monitor")
    assert got.feature_list == ["a", "b"] and got.latency == 6
    got.update(drift_threshold=0.5, feature_list=None, alert_config=AlertConfiguration(["x@example.com"]))
    again = DataDriftDetector.get_by_name(ws, "monitor")
    assert (again.drift_threshold, again.feature_list) == (0.5, None)
    assert again.alert_config == AlertConfiguration(["x@example.com"])
    assert SecretStore(ws._folder).get("drift/monitor/webhook_url") is None
    start = datetime(2026, 3, 1)
    assert again.update(schedule_start=start).schedule_start == start

    other.delete()
    assert other.state == "Deleted"
    with pytest.raises(DriftArgumentError, match="has been deleted"):
        other.run(start)
    with pytest.raises(NotFoundError, match="'other' does not exist"):
        DataDriftDetector.get_by_name(ws, "other")
    assert [x.name for x in DataDriftDetector.list(ws)] == ["monitor"]


def test_sdk_v1_validation(ws: Workspace) -> None:
    baseline, target, _ = make_datasets(ws, days=1)
    create = DataDriftDetector.create_from_datasets
    with pytest.raises(DriftTypeError, match="frequency must one of"):
        create(ws, "m", baseline, target, frequency="Hour")
    with pytest.raises(DriftArgumentError, match="between 0 and 1"):
        create(ws, "m", baseline, target, drift_threshold=1.5)
    with pytest.raises(DriftArgumentError, match="less than or equal to 1000"):
        create(ws, "m", baseline, target, latency=1001)
    with pytest.raises(DriftTypeError, match="latency must be of type int"):
        create(ws, "m", baseline, target, latency=1.5)  # type: ignore[arg-type]
    with pytest.raises(DriftArgumentError, match="max length of 200"):
        create(ws, "m", baseline, target, feature_list=[f"f{i}" for i in range(201)])
    with pytest.raises(DriftArgumentError, match="commas"):
        create(ws, "m", baseline, target, feature_list=["a,b"])
    with pytest.raises(DriftTypeError, match="target_dataset must be time series"):
        create(ws, "m", baseline, baseline)
    with pytest.raises(DriftTypeError, match="must be of type TabularDataset"):
        create(ws, "m", "not a dataset", target)
    with pytest.raises(DriftArgumentError, match=r"Invalid email address format found\. Indexes are 1"):
        AlertConfiguration(["ok@example.com", "nope"])
    with pytest.raises(NotFoundError, match="nowhere"):
        create(ws, "m", baseline, target, compute_target="nowhere")
    with pytest.raises(DriftArgumentError, match=r"feature_list names \['z'\], which the baseline and target"):
        create(ws, "m", baseline, target, feature_list=["a", "z"])
    store = ws.get_default_datastore()
    (Path(store._backend.root) / "other.csv").write_text("x,y\n1,2\n")
    with pytest.raises(DriftArgumentError, match="no feature in common: baseline columns: x, y; target columns: ts"):
        create(ws, "m", Dataset.Tabular.from_delimited_files((store, "other.csv")), target)
    d = create(ws, "m", baseline, target)
    with pytest.raises(DriftArgumentError, match="exceeds maximum backfill batch size 31 Days"):
        d.backfill(DAY0, DAY0 + timedelta(days=31))
    with pytest.raises(DriftArgumentError, match=r"end_date .* needs to be later than start_date"):
        d.backfill(DAY0 + timedelta(days=2), DAY0)
    with pytest.raises(DriftTypeError, match="target_date must be a datetime"):
        d.run("2026-03-01")  # type: ignore[arg-type]
    with pytest.raises(DriftArgumentError, match="Either run_id or start_time/end_time should be None"):
        d.get_output(start_time=DAY0, run_id="x")


# -- runs --------------------------------------------------------------------------------------


def _step_runs(run: Any) -> dict[str, Any]:
    return {s.name: s for s in run.get_steps()}


@pytest.mark.slow
def test_a_run_finds_the_shifted_feature_and_reads_the_target_period_only(pws: Workspace) -> None:  # noqa: F811
    d = detector(pws, drift_threshold=0.3)
    _, _, root = make_datasets(pws, days=0)
    # another day's file that cannot be read: a run of 7 March must not touch it
    (root / "target" / "2026" / "03" / "09" / "data.csv").write_bytes(b"\xff\xfe garbage, not csv\n\x00")
    run = d.run(DAY0 + timedelta(days=6, hours=13))
    run.wait_for_completion(show_output=False)
    assert run.get_status() == "Finished"
    step = _step_runs(run)["datadrift_2026-03-07"]
    metrics = step.get_metrics()
    assert metrics["datadrift_coefficient"] > 0.5
    assert metrics["target_rows"] == ROWS and metrics["baseline_rows"] == 400
    assert metrics["datadrift_contribution"]["feature"][0] == "a"
    assert run.get_properties()["run_type"] == "Adhoc"

    results, out = d.get_output(run_id=run.id)
    assert results == [
        {
            "drift_type": "DatasetBased",
            "result": [
                {
                    "has_drift": True,
                    "drift_threshold": 0.3,
                    "start_date": datetime(2026, 3, 7),
                    "end_date": datetime(2026, 3, 8),
                    "baseline_dataset_id": d.baseline_dataset.id,
                    "target_dataset_id": d.target_dataset.id,
                }
            ],
        }
    ]
    [entry] = out[0]["metrics"]
    assert out[0]["drift_type"] == "DatasetBased"
    assert entry["dataset_metrics"] == [{"name": "datadrift_coefficient", "value": metrics["datadrift_coefficient"]}]
    columns = {name: {m["name"]: m["value"] for m in ms} for c in entry["column_metrics"] for name, ms in c.items()}
    assert {"datadrift_contribution", "wasserstein_distance", "energy_distance"} <= set(columns["a"])
    assert "euclidean_distance" in columns["c"]
    assert columns["a"]["wasserstein_distance"] > 3

    # what the server and the studio read: the store alone (the workspace folder is the SQLite file's)
    from headwater.ops.drift_results import detector_results

    (period,) = detector_results(pws.metadata_store, "monitor")
    assert (period.target_date, period.end_date, period.run_id, period.step_run_id) == (
        datetime(2026, 3, 7),
        datetime(2026, 3, 8),
        run.id,
        step.id,
    )
    assert period.status == "Finished" and period.run_type == "run" and period.has_drift is True
    assert period.magnitude == pytest.approx(100 * metrics["datadrift_coefficient"])
    assert period.report is not None and period.report["report"]["target_rows"] == ROWS

    # the same period again with a run's own threshold: the step is reused, the threshold only decides the result
    again = d.run(DAY0 + timedelta(days=6), drift_threshold=0.999)
    again.wait_for_completion(show_output=False)
    assert _step_runs(again)["datadrift_2026-03-07"]._record.reused_run_id == step.id
    (result,) = d.get_output(run_id=again.id)[0]
    assert result["result"][0]["drift_threshold"] == 0.999 and result["result"][0]["has_drift"] is False


@pytest.mark.slow
def test_backfill_reuses_unchanged_periods_and_reruns_a_changed_one(pws: Workspace) -> None:  # noqa: F811
    d = detector(pws)
    first = d.backfill(DAY0, DAY0 + timedelta(days=9))
    first.wait_for_completion(show_output=False)
    assert first.get_status() == "Finished"
    steps = _step_runs(first)
    assert sorted(steps) == [f"datadrift_2026-03-{day:02d}" for day in range(1, 11)]
    assert first.get_properties()["run_type"] == "BackFill"

    results, metrics = d.get_output(DAY0, DAY0 + timedelta(days=9))
    assert [r["result"][0]["start_date"].day for r in results] == list(range(1, 11))
    drift = [r["result"][0]["has_drift"] for r in results]
    assert drift == [False] * SHIFT_FROM + [True] * (10 - SHIFT_FROM)
    assert len(metrics) == 1 and len(metrics[0]["metrics"]) == 10

    # a new day arrives and another period's data changes: only that period runs again
    _, _, root = make_datasets(pws, days=0)
    write_target_day(root, 10)
    write_target_day(root, 2, shift=6.0, seed=1)
    second = d.backfill(DAY0, DAY0 + timedelta(days=9))
    second.wait_for_completion(show_output=False)
    assert second.get_status() == "Finished"
    again = _step_runs(second)
    reused = {name for name, s in again.items() if s._record.reused_run_id}
    assert reused == set(again) - {"datadrift_2026-03-03"}
    assert again["datadrift_2026-03-03"]._record.reused_run_id is None

    results, _ = d.get_output(DAY0, DAY0 + timedelta(days=9))
    by_day = {r["result"][0]["start_date"].day: r["result"][0]["has_drift"] for r in results}
    assert by_day[3] is True and by_day[2] is False  # the latest run of 3 March wins

    figures = d.show(DAY0, DAY0 + timedelta(days=9))
    from matplotlib.figure import Figure

    assert list(figures) == ["monitor"] and isinstance(figures["monitor"], Figure)
    assert [ax.get_title() for ax in figures["monitor"].axes] == [
        "Data drift magnitude",
        "Drift contribution by feature",
    ]


@pytest.mark.slow
def test_a_period_below_50_rows_or_without_common_features_fails_with_a_clear_error(
    pws: Workspace,  # noqa: F811
) -> None:
    d = detector(pws)
    _, _, root = make_datasets(pws, days=0)
    write_target_day(root, 3, rows=20)
    run = d.run(DAY0 + timedelta(days=3))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert run.get_status() == "Failed"
    log = _step_runs(run)["datadrift_2026-03-04"].get_stdout_log()
    assert "Data drift of the period 2026-03-04T00:00:00 .. 2026-03-05T00:00:00 cannot be computed" in log
    assert "The target dataset has 20 row(s); data drift needs at least 50 rows" in log
    with pytest.raises(NotFoundError):
        d.get_output(run_id=run.id)

    # the baseline's file changes after the detector was created: the step says what is wrong
    store = pws.get_default_datastore()
    other = Path(store._backend.root) / "other.csv"
    other.write_text("a,b,c\n1,2,red\n")
    apart = DataDriftDetector.create_from_datasets(
        pws, "apart", Dataset.Tabular.from_delimited_files((store, "other.csv")), d.target_dataset
    )
    other.write_text("x,y\n" + "\n".join(f"{i},{i}" for i in range(60)) + "\n")
    run = apart.run(DAY0)
    run.wait_for_completion(show_output=False, raise_on_error=False)
    log = _step_runs(run)["datadrift_2026-03-01"].get_stdout_log()
    assert "have no feature in common" in log and "baseline columns: x, y" in log.replace("'", "")


# -- SDK v1's signatures (azureml-datadrift 1.62, read from its wheel) -------------------------

SDK_V1_SIGNATURES = {
    "create_from_datasets": (
        [
            *("workspace", "name", "baseline_dataset", "target_dataset", "compute_target", "frequency"),
            *("feature_list", "alert_config", "drift_threshold", "latency"),
        ],
        [None] * 6,
    ),
    "get_by_name": (["workspace", "name"], []),
    "list": (["workspace", "baseline_dataset", "target_dataset"], [None, None]),
    "run": (
        ["self", "target_date", "compute_target", "create_compute_target", "feature_list", "drift_threshold"],
        [None, False, None, None],
    ),
    "backfill": (["self", "start_date", "end_date", "compute_target", "create_compute_target"], [None, False]),
    "enable_schedule": (["self", "create_compute_target", "wait_for_completion"], [False, True]),
    "disable_schedule": (["self", "wait_for_completion"], [True]),
    "delete": (["self", "wait_for_completion"], [True]),
    "get_output": (["self", "start_time", "end_time", "run_id"], [None, None, None]),
    "update": (
        [
            *("self", "compute_target", "feature_list", "schedule_start", "alert_config", "drift_threshold"),
            "wait_for_completion",
        ],
        [...] * 5 + [True],
    ),
    "show": (["self", "start_time", "end_time"], [None, None]),
}
PROPERTIES = [
    *("workspace", "name", "compute_target", "frequency", "interval", "feature_list", "drift_threshold"),
    *("baseline_dataset", "target_dataset", "schedule_start", "alert_config", "state", "enabled", "latency"),
    "drift_type",
]


def test_the_members_have_sdk_v1s_signatures() -> None:
    import inspect

    for member, (names, defaults) in SDK_V1_SIGNATURES.items():
        params = [
            p
            for p in inspect.signature(getattr(DataDriftDetector, member)).parameters.values()
            if p.kind is not p.KEYWORD_ONLY
        ]
        assert [p.name for p in params] == names, member
        given = [p.default for p in params if p.default is not p.empty]
        assert given == defaults, member
    for prop in PROPERTIES:
        assert isinstance(inspect.getattr_static(DataDriftDetector, prop), property), prop
    init = list(inspect.signature(DataDriftDetector.__init__).parameters)
    assert init[:11] == [
        *("self", "workspace", "name", "baseline_dataset", "target_dataset", "compute_target", "frequency"),
        *("feature_list", "alert_config", "drift_threshold", "latency"),
    ]
    assert list(inspect.signature(AlertConfiguration).parameters) == ["email_addresses", "webhook_url"]


@pytest.mark.slow
def test_enable_schedule_starts_the_server_and_disable_schedule_stops_scheduling(ws: Workspace) -> None:
    from headwater.ops.server_process import running_server, stop_server

    d = detector(ws, latency=2)
    try:
        d.enable_schedule()
        assert d.enabled and d.state == "Enabled" and d.schedule_start is not None
        assert running_server(ws.folder) is not None
        assert [x.name for x in ws.metadata_store.list_detectors(state="Enabled")] == ["monitor"]
        start = d.schedule_start
        d.disable_schedule()
        d.enable_schedule()  # enabling again keeps the schedule's start
        assert d.schedule_start == start
        d.disable_schedule()
        assert not d.enabled and DataDriftDetector.get_by_name(ws, "monitor").state == "Disabled"
    finally:
        stop_server(ws.folder)
