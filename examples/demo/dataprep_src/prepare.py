"""Prep step: read the raw tabular dataset, drop bad rows, write a clean CSV."""

import argparse
import os

from headwater import Run

parser = argparse.ArgumentParser()
parser.add_argument("--output", required=True)
args = parser.parse_args()

run = Run.get_context()
raw = run.input_datasets["raw"].to_pandas_dataframe()
clean = raw.dropna()
clean = clean[(clean["x"] >= 0) & (clean["x"] <= 10)]
os.makedirs(args.output, exist_ok=True)
clean.to_csv(os.path.join(args.output, "clean.csv"), index=False)
run.log("rows_in", len(raw))
run.log("rows_out", len(clean))
print(f"kept {len(clean)} of {len(raw)} rows")
