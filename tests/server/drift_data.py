"""A data drift monitor on generated weather data, for the server's and the studio's drift tests.

:func:`make_monitor` writes a baseline (training) CSV and one target CSV per day (partitioned by
date, a ``timestamp`` column), shifting ``temperature`` on the days listed in ``shifted``, uploads
them to the default datastore, registers both datasets and creates a daily DataDriftDetector.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["make_monitor"]


def _write_rows(path: Path, count: int, rng: random.Random, start: datetime | None = None, shift: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [("timestamp," if start else "") + "temperature,humidity,wind,station"]
    for i in range(count):
        row = "%.2f,%.2f,%.2f,%s" % (  # noqa: UP031 (a CSV row)
            rng.gauss(15 + shift, 3),
            rng.uniform(30, 90),
            rng.expovariate(0.2),
            rng.choice(["north", "south", "east"]),
        )
        if start is not None:
            row = (start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%S") + "," + row
        lines.append(row)
    path.write_text("\n".join(lines) + "\n")


def make_monitor(
    ws: Any,
    root: Path,
    name: str,
    days: Iterable[datetime],
    *,
    shifted: Iterable[datetime] = (),
    threshold: float = 0.3,
    latency: int = 0,
    emails: list[str] | None = None,
    webhook_url: str | None = None,
) -> Any:
    """A daily DataDriftDetector ``name`` over generated data for ``days`` (see the module docstring)."""
    from headwater import Dataset
    from headwater.sdk.datadrift import DataDriftDetector
    from headwater.sdk.datadrift_config import AlertConfiguration

    rng = random.Random(7)
    data = root / "data"
    _write_rows(data / "train" / "weather.csv", 400, rng)
    moved = set(shifted)
    for day in days:
        _write_rows(
            data / "scoring" / day.strftime("%Y/%m/%d") / "weather.csv",
            120,
            rng,
            start=day,
            shift=8.0 if day in moved else 0.0,
        )
    store = ws.get_default_datastore()
    store.upload(src_dir=str(data), target_path=name, overwrite=True, show_progress=False)
    baseline = Dataset.Tabular.from_delimited_files(path=(store, f"{name}/train/weather.csv"))
    baseline = baseline.register(ws, f"{name}-train", create_new_version=True)
    target = Dataset.Tabular.from_delimited_files(
        path=(store, f"{name}/scoring/**/weather.csv"), partition_format="/scoring/{date:yyyy/MM/dd}/weather.csv"
    )
    target = target.with_timestamp_columns("timestamp", partition_timestamp="date")
    target = target.register(ws, f"{name}-scoring", create_new_version=True)
    alerts = AlertConfiguration(emails if emails is not None else ["mlops@example.org"], webhook_url=webhook_url)
    return DataDriftDetector.create_from_datasets(
        ws,
        name,
        baseline,
        target,
        frequency="Day",
        drift_threshold=threshold,
        latency=latency,
        alert_config=alerts,
    )
