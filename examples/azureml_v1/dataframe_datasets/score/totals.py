# totals.py: February's units from the time-sliced dataset, and the long notes handed over as files.
import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--notes")
args = parser.parse_args()

run = Run.get_context()
df = run.input_datasets["february"].to_pandas_dataframe()
run.log("units", int(df["units"].sum()))
run.log("notes", len(os.listdir(args.notes)))
print(df.groupby("store")["units"].sum().to_dict())
