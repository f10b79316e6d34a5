import argparse
import csv
import os

from azureml.core import Run

parser = argparse.ArgumentParser("train")
parser.add_argument("--input_processed", type=str, help="processed data folder")
args = parser.parse_args()

print("Argument 1: %s" % args.input_processed)
with open(os.path.join(args.input_processed, "clean.csv")) as f:
    rows = [(float(r["day"]), float(r["temperature"])) for r in csv.DictReader(f)]

# a least-squares trend line: temperature = slope * day + intercept
n = len(rows)
mean_x = sum(x for x, _ in rows) / n
mean_y = sum(y for _, y in rows) / n
slope = sum((x - mean_x) * (y - mean_y) for x, y in rows) / sum((x - mean_x) ** 2 for x, _ in rows)
intercept = mean_y - slope * mean_x

run = Run.get_context()
run.log("slope", round(slope, 4))
run.log("intercept", round(intercept, 4))
print("trend: temperature = %.4f * day + %.4f" % (slope, intercept))
