# prepare.py: turns the downloaded images into a table of features, one row per image.
import argparse
import os

import pandas as pd
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--input", type=str, help="folder of the downloaded input1 dataset")
parser.add_argument("--output", type=str, help="folder to write the prepared data to")
args = parser.parse_args()

rows = []
for root, _, files in os.walk(args.input):
    for name in sorted(files):
        if not name.endswith(".pgm"):
            continue
        with open(os.path.join(root, name)) as f:
            tokens = f.read().split()
        width, height, maxval = int(tokens[1]), int(tokens[2]), int(tokens[3])
        pixels = [int(t) / maxval for t in tokens[4:]]
        row_means = [sum(pixels[y * width:(y + 1) * width]) / width for y in range(height)]
        col_means = [sum(pixels[x::width]) / height for x in range(width)]
        label = name[: -len(".pgm")].rsplit("_", 1)[1]
        rows.append({"image": name, "label": label, "row_peak": max(row_means), "col_peak": max(col_means)})

df = pd.DataFrame(rows).sort_values("image").reset_index(drop=True)
os.makedirs(args.output, exist_ok=True)
df.to_csv(os.path.join(args.output, "prepped.csv"), index=False)

run = Run.get_context()
run.log("images", len(df))
print(f"Prepared {len(df)} images into {args.output}")
