# compare.py: picks the better of the trained models and reports it.
import argparse
import json
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--training_results", type=str)
args = parser.parse_args()

with open(os.path.join(args.training_results, "metrics.json")) as f:
    scores = json.load(f)
best = max(scores, key=scores.get)

run = Run.get_context()
run.log("best_accuracy", scores[best])
run.tag("best_model", best)
run.parent.tag("best_model", best)

os.makedirs("outputs", exist_ok=True)
with open("outputs/comparison.json", "w") as f:
    json.dump({"best": best, "scores": scores}, f, indent=1)
print(f"Best model: {best} (accuracy {scores[best]:.3f})")
