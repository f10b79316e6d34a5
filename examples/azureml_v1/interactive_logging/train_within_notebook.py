# Logging from a notebook without submitting anything (the "train-within-notebook" and
# "logging-api" notebooks, SDK v1): Experiment.start_logging(), run.log(..., step=), one child run
# per hyperparameter value, files kept with the run (./outputs on complete(), upload_file), then
# reading it all back: get_children, get_metrics, get_file_names, download_file, Experiment tags.
#
# Run it from this folder:   headwater run train_within_notebook.py      (or: python train_within_notebook.py)

import json
import os
import random

from azureml.core import Experiment, Run, Workspace

ws = Workspace.from_config()
experiment = Experiment(ws, "train-within-notebook")
experiment.tag("team", "forecasting")

# y = 3 * x + 1 plus noise, fitted with gradient descent for a few learning rates
random.seed(7)
xs = [random.uniform(0, 2) for _ in range(200)]
ys = [3 * x + 1 + random.gauss(0, 0.1) for x in xs]


def fit(lr, epochs, run):
    w, b = 0.0, 0.0
    for epoch in range(epochs):
        gw = sum(2 * (w * x + b - y) * x for x, y in zip(xs, ys)) / len(xs)
        gb = sum(2 * (w * x + b - y) for x, y in zip(xs, ys)) / len(xs)
        w, b = w - lr * gw, b - lr * gb
        mse = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        run.log("mse", mse, step=epoch)
    return w, b, mse


run = experiment.start_logging(snapshot_directory=None, display_name="learning-rate sweep")
print("Started", run.id, run.get_status())
run.log("rows", len(xs))
os.makedirs("outputs", exist_ok=True)

for lr in (0.01, 0.05, 0.2):
    child = run.child_run(name=f"lr={lr}")
    child.tag("lr", str(lr))
    w, b, mse = fit(lr, 30, child)
    child.log("final_mse", mse)
    with open(f"outputs/model_lr{lr}.json", "w") as f:
        json.dump({"w": w, "b": b}, f)
    child.upload_file("model/model.json", f"outputs/model_lr{lr}.json")
    child.complete()

best = min(run.get_children(), key=lambda c: c.get_metrics()["final_mse"])
run.tag("best_lr", best.get_tags()["lr"])
run.log("best_mse", best.get_metrics()["final_mse"])
run.complete()

print("Status:", run.get_status())
print("Children:", sorted(c.get_tags()["lr"] for c in run.get_children(status="Completed")))
print("Best learning rate:", run.get_tags()["best_lr"])
print("Files:", run.get_file_names())
best.download_file("model/model.json", "best_model.json")
with open("best_model.json") as f:
    model = json.load(f)
print(f"Best model: w={model['w']:.2f} b={model['b']:.2f}")
print("Run again by id:", Run.get(ws, run.id).get_status())
print("Experiments tagged team=forecasting:", [e.name for e in Experiment.list(ws, tags={"team": "forecasting"})])
