# Datasets made from pandas and local folders ("Create datasets from pandas dataframes", "Time-series
# datasets" and "Partition datasets"): Dataset.Tabular.register_pandas_dataframe, with_timestamp_columns +
# time_between, partition_by + get_partition_key_values, Dataset.File.upload_directory with a pattern,
# FileDataset.filter on file metadata, add_tags, and a step that reads the filtered, time-sliced data.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os
from datetime import datetime

import pandas as pd
from azureml.core import Dataset, Experiment, Workspace
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()
datastore = ws.get_default_datastore()

days = pd.date_range("2024-01-01", periods=60, freq="D")
sales = pd.DataFrame({
    "day": days,
    "store": ["north" if i % 3 else "south" for i in range(60)],
    "units": [10 + (i * 7) % 23 for i in range(60)],
})
sales_ds = Dataset.Tabular.register_pandas_dataframe(sales, (datastore, "sales"), "daily_sales",
                                                     description="units sold per store and day",
                                                     show_progress=False)
sales_ds.add_tags({"source": "pandas"})
print("registered", sales_ds.name, "version", sales_ds.version, "rows", len(sales_ds.to_pandas_dataframe()))

series = sales_ds.with_timestamp_columns(timestamp="day")
february = series.time_between(datetime(2024, 2, 1), datetime(2024, 2, 29))
print("february rows", len(february.to_pandas_dataframe()), "timestamp", series.timestamp_columns[0])

by_store = sales_ds.partition_by(["store"], (datastore, "sales_by_store"), name="sales_by_store",
                                 show_progress=False)
print("partitions", sorted(p["store"] for p in by_store.get_partition_key_values()))

os.makedirs("notes", exist_ok=True)
for name, text in {"a.txt": "short", "b.txt": "a much longer note " * 20, "c.md": "not a txt"}.items():
    with open(os.path.join("notes", name), "w") as f:
        f.write(text)
notes = Dataset.File.upload_directory("notes", (datastore, "notes"), pattern="*.txt", overwrite=True,
                                      show_progress=False)
long_notes = notes.filter(notes.file_metadata("Size") > 100)
print("notes", sorted(notes.to_path()), "long", long_notes.to_path())

step = PythonScriptStep(
    name="february_totals",
    script_name="totals.py",
    arguments=["--notes", long_notes.as_named_input("notes").as_download()],
    inputs=[february.as_named_input("february")],
    source_directory="./score",
)
run = Experiment(ws, "dataframe-datasets").submit(Pipeline(workspace=ws, steps=[step]))
run.wait_for_completion(show_output=False)
metrics = run.find_step_run("february_totals")[0].get_metrics()
print("february units", metrics["units"], "notes read", metrics["notes"])
