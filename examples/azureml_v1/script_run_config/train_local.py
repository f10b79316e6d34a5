# Single training runs with ScriptRunConfig ("Configure and submit training runs" and the
# train-on-local notebook, SDK v1): Experiment.submit(src), run.wait_for_completion(show_output=True),
# run.get_metrics() to pick the best model, run.get_file_names() and run.download_file(). The
# first run gets an Environment built from CondaDependencies and the data as a mounted FileDataset;
# the second a user-managed RunConfiguration, with the data downloaded.
#
# Run it from this folder:   headwater run train_local.py      (or: python train_local.py)

import json
import os
import random

import numpy as np
from azureml.core import Dataset, Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.runconfig import RunConfiguration

ws = Workspace.from_config()

# A small regression data set, in two files: y = 1.5 * x1 - 2 * x2 + 4 plus noise.
random.seed(5)
os.makedirs("data/diabetes", exist_ok=True)
for part in (1, 2):
    with open(f"data/diabetes/part{part}.csv", "w") as f:
        f.write("x1,x2,y\n")
        for _ in range(100):
            x1, x2 = random.uniform(0, 5), random.uniform(0, 5)
            f.write(f"{x1:.3f},{x2:.3f},{1.5 * x1 - 2 * x2 + 4 + random.gauss(0, 0.3):.3f}\n")

datastore = ws.get_default_datastore()
datastore.upload(src_dir="data/diabetes", target_path="diabetes", overwrite=True, show_progress=False)
dataset = Dataset.File.from_files(path=(datastore, "diabetes/*.csv"))

experiment = Experiment(workspace=ws, name="train-on-local")

# -- 1. A system-managed environment, the data mounted
env = Environment("ridge-env")
env.python.conda_dependencies = CondaDependencies.create(pip_packages=["azureml-defaults", "numpy"])

src = ScriptRunConfig(source_directory="./src",
                      script="train.py",
                      arguments=["--data-folder", dataset.as_named_input("diabetes").as_mount()],
                      compute_target="local",
                      environment=env)

run = experiment.submit(config=src)
print(run)
run.wait_for_completion(show_output=True)
print("Status:", run.get_status())

# get all metrics logged in the run
metrics = run.get_metrics()
best_alpha = metrics["alpha"][np.argmin(metrics["mse"])]
print("When alpha is {1:0.2f}, we have min MSE {0:0.4f}.".format(min(metrics["mse"]), best_alpha))

print("Files:", [name for name in run.get_file_names() if name.startswith("outputs/")])
run.download_file(name="outputs/ridge_{0:.2f}.json".format(best_alpha), output_file_path="model.json")
with open("model.json") as f:
    print("Downloaded model:", json.load(f))

# -- 2. A user-managed environment: the script runs in this Python as it is
run_config_user_managed = RunConfiguration()
run_config_user_managed.environment.python.user_managed_dependencies = True

src = ScriptRunConfig(source_directory="./src", script="train.py",
                      arguments=["--data-folder", dataset.as_named_input("diabetes").as_download()],
                      run_config=run_config_user_managed)
run2 = experiment.submit(src)
details = run2.wait_for_completion()
print("Second run:", details["status"], "best MSE", min(run2.get_metrics()["mse"]))
