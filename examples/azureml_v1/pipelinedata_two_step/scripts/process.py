import argparse
import csv
import os

from azureml.core import Run

parser = argparse.ArgumentParser("process")
parser.add_argument("--input_data", type=str, help="input data")
parser.add_argument("--output_processed", type=str, help="output_processed directory")
args = parser.parse_args()

print("Argument 1: %s" % args.input_data)
print("Argument 2: %s" % args.output_processed)

with open(args.input_data) as f:
    rows = [r for r in csv.DictReader(f) if r["temperature"]]

if not (args.output_processed is None):
    os.makedirs(args.output_processed, exist_ok=True)
    print("%s created" % args.output_processed)
with open(os.path.join(args.output_processed, "clean.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["day", "temperature"])
    writer.writeheader()
    writer.writerows(rows)

Run.get_context().log("rows_kept", len(rows))
