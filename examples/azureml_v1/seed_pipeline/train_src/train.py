# train.py: a nearest-centroid classifier and a majority-class baseline, scored on held-out images.
import argparse
import json
import os

import numpy as np
import pandas as pd
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--prepped_data", type=str)
parser.add_argument("--training_results", type=str)
args = parser.parse_args()

df = pd.read_csv(os.path.join(args.prepped_data, "prepped.csv"))
features = ["row_peak", "col_peak"]
test = df.index % 5 == 0
train_df, test_df = df[~test], df[test]

centroids = {label: group[features].mean().to_numpy() for label, group in train_df.groupby("label")}


def predict(row):
    return min(centroids, key=lambda label: float(np.sum((row - centroids[label]) ** 2)))


predictions = [predict(row) for row in test_df[features].to_numpy()]
centroid_accuracy = float(np.mean(np.array(predictions) == test_df["label"].to_numpy()))
majority = train_df["label"].mode()[0]
baseline_accuracy = float(np.mean(test_df["label"].to_numpy() == majority))

os.makedirs(args.training_results, exist_ok=True)
with open(os.path.join(args.training_results, "model.json"), "w") as f:
    json.dump({label: c.round(4).tolist() for label, c in centroids.items()}, f)
with open(os.path.join(args.training_results, "metrics.json"), "w") as f:
    json.dump({"nearest_centroid": centroid_accuracy, "majority_class": baseline_accuracy}, f, indent=1)

run = Run.get_context()
run.log("accuracy", centroid_accuracy)
run.log("baseline_accuracy", baseline_accuracy)
print(f"nearest centroid accuracy {centroid_accuracy:.3f}, majority class accuracy {baseline_accuracy:.3f}")
