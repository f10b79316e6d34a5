# train.py: ridge regression in closed form for a range of regularization rates, on every CSV of
# the data folder; each model is saved to ./outputs, each rate's MSE logged.
import argparse
import glob
import json
import os

import numpy as np
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, dest="data_folder", help="data folder mounting point")
args = parser.parse_args()

files = sorted(glob.glob(os.path.join(args.data_folder, "**", "*.csv"), recursive=True))
print("Data folder:", args.data_folder, "with", len(files), "files")
data = np.vstack([np.loadtxt(f, delimiter=",", skiprows=1) for f in files])
X = np.hstack([data[:, :2], np.ones((len(data), 1))])
y = data[:, 2]
train, test = slice(0, 150), slice(150, None)

# get hold of the current run
run = Run.get_context()
run.log("rows", len(data))

os.makedirs("outputs", exist_ok=True)
for alpha in np.arange(0.0, 1.0, 0.2):
    weights = np.linalg.solve(X[train].T @ X[train] + alpha * np.eye(3), X[train].T @ y[train])
    mse = float(np.mean((X[test] @ weights - y[test]) ** 2))
    run.log("alpha", float(alpha))
    run.log("mse", round(mse, 5))
    with open("outputs/ridge_{0:.2f}.json".format(alpha), "w") as f:
        json.dump({"weights": [round(float(w), 3) for w in weights], "alpha": round(float(alpha), 2)}, f)
    print("alpha is {0:.2f}, and mse is {1:0.5f}".format(alpha, mse))
