"""Train step: fit y = a*x + b by gradient descent with the given learning rate."""

import argparse
import json
import os

import pandas as pd

from headwater import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--model", required=True)
parser.add_argument("--learning_rate", type=float, required=True)
parser.add_argument("--epochs", type=int, default=200)
args = parser.parse_args()

run = Run.get_context()
df = pd.read_csv(os.path.join(args.data, "clean.csv"))
x, y = df["x"].to_numpy(), df["y"].to_numpy()
a = b = 0.0
for epoch in range(args.epochs):
    err = a * x + b - y
    a -= args.learning_rate * 2 * (err * x).mean()
    b -= args.learning_rate * 2 * err.mean()
    if epoch % 50 == 0:
        run.log("mse", float((err**2).mean()))
mse = float(((a * x + b - y) ** 2).mean())
run.log("final_mse", mse)
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.json"), "w") as f:
    json.dump({"a": a, "b": b, "mse": mse, "learning_rate": args.learning_rate}, f, indent=2)
print(f"a={a:.3f} b={b:.3f} mse={mse:.4f}")
