# A dataset monitor ("Detect data drift on datasets", azureml-datadrift): training data as the
# baseline, daily scoring data partitioned by date as the target (with_timestamp_columns), a
# DataDriftDetector created from both with an AlertConfiguration, a backfill over ten days, then
# get_output() and show(). From the seventh day on, the scoring data's "temperature" is shifted.
#
# Run it from this folder:   headwater run monitor.py      (or: python monitor.py)

import os
import random
from datetime import datetime, timedelta

from azureml.core import Dataset, Workspace
from azureml.datadrift import AlertConfiguration, DataDriftDetector

ws = Workspace.from_config()
dstore = ws.get_default_datastore()


def write_rows(path, count, rng, start=None, shift=0.0):
    with open(path, "w") as f:
        f.write(("timestamp," if start else "") + "temperature,humidity,wind,station\n")
        for i in range(count):
            row = "%.2f,%.2f,%.2f,%s" % (rng.gauss(15 + shift, 3), rng.uniform(30, 90), rng.expovariate(0.2),
                                         rng.choice(["north", "south", "east"]))
            if start:
                row = (start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%S") + "," + row
            f.write(row + "\n")


rng = random.Random(42)
os.makedirs("data/train", exist_ok=True)
write_rows("data/train/weather.csv", 500, rng)
first_day = datetime(2026, 5, 1)
for day in range(10):
    date = first_day + timedelta(days=day)
    folder = "data/scoring/%s" % date.strftime("%Y/%m/%d")
    os.makedirs(folder, exist_ok=True)
    write_rows(folder + "/weather.csv", 120, rng, start=date, shift=6.0 if day >= 6 else 0.0)
dstore.upload(src_dir="data", target_path="weather", overwrite=True, show_progress=False)

baseline = Dataset.Tabular.from_delimited_files(path=(dstore, "weather/train/weather.csv"))
baseline = baseline.register(ws, "weather-train", create_new_version=True)
target = Dataset.Tabular.from_delimited_files(path=(dstore, "weather/scoring/**/weather.csv"),
                                              partition_format="/scoring/{date:yyyy/MM/dd}/weather.csv")
target = target.with_timestamp_columns("timestamp", partition_timestamp="date")
target = target.register(ws, "weather-scoring", create_new_version=True)

alert_config = AlertConfiguration(["mlops@example.com"])
try:
    monitor = DataDriftDetector.get_by_name(ws, "weather-monitor")
except Exception:
    monitor = DataDriftDetector.create_from_datasets(ws, "weather-monitor", baseline, target,
                                                     compute_target=None, frequency="Day",
                                                     feature_list=None, drift_threshold=0.3,
                                                     latency=24, alert_config=alert_config)
print("detector", monitor.name, "frequency", monitor.frequency, "threshold", monitor.drift_threshold)

backfill = monitor.backfill(first_day, first_day + timedelta(days=9))
backfill.wait_for_completion(show_output=False)
print("backfill", backfill.get_status())

results, metrics = monitor.get_output(start_time=first_day, end_time=first_day + timedelta(days=9))
for result in results:
    r = result["result"][0]
    print("%s drift=%s" % (r["start_date"].strftime("%Y-%m-%d"), r["has_drift"]))
for m in metrics[0]["metrics"]:
    coefficient = m["dataset_metrics"][0]["value"]
    top = list(m["column_metrics"][0])[0]
    print("%s magnitude %.2f top feature %s" % (m["start_date"].strftime("%Y-%m-%d"), coefficient, top))

figures = monitor.show(first_day, first_day + timedelta(days=9))
for name, figure in figures.items():
    figure.savefig("drift.png")
    print("figure", name, "saved")
