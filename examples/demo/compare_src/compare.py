"""Compare step: pick the model with the lowest error and log it on the pipeline run."""

import argparse
import json
import os
import shutil

from headwater import Run

parser = argparse.ArgumentParser()
parser.add_argument("--models", nargs="+", required=True)
parser.add_argument("--best", required=True)
args = parser.parse_args()

models = []
for folder in args.models:
    with open(os.path.join(folder, "model.json")) as f:
        models.append((json.load(f), folder))
best, folder = min(models, key=lambda m: m[0]["mse"])
os.makedirs(args.best, exist_ok=True)
shutil.copy(os.path.join(folder, "model.json"), os.path.join(args.best, "model.json"))
run = Run.get_context()
run.parent.log("best_mse", best["mse"])
run.parent.log("best_learning_rate", best["learning_rate"])
os.makedirs("outputs", exist_ok=True)
with open("outputs/report.json", "w") as f:
    json.dump({"chosen": best, "candidates": [m for m, _ in models]}, f, indent=2)
print(f"best learning rate {best['learning_rate']} with mse {best['mse']:.4f}")
