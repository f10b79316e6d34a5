# Pipeline parameters ("Use pipeline parameters for arguments that change at inference time"):
# PipelineParameters in a step's arguments and params, the step's environment set to an
# Environment object (as the article requires with PipelineParameters), and the pipeline
# submitted three times: with the defaults, with other values through pipeline_parameters, and
# with those values again (the step's earlier run is reused).
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os
import random

from azureml.core import Dataset, Environment, Experiment, Workspace
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.runconfig import RunConfiguration
from azureml.pipeline.core import Pipeline, PipelineParameter
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()
datastore = ws.get_default_datastore()

# Training data: y = 3x + 2 plus noise.
random.seed(11)
os.makedirs("data", exist_ok=True)
with open("data/points.csv", "w") as f:
    f.write("x,y\n")
    for _ in range(200):
        x = random.uniform(0, 10)
        f.write(f"{x:.4f},{3 * x + 2 + random.gauss(0, 0.5):.4f}\n")
datastore.upload_files(["data/points.csv"], target_path="points", overwrite=True, show_progress=False)
points = Dataset.Tabular.from_delimited_files(path=[(datastore, "points/points.csv")])

env = Environment(name="train-env")
env.python.conda_dependencies = CondaDependencies.create(pip_packages=["azureml-defaults", "pandas"])
run_config = RunConfiguration()
run_config.environment = env

learning_rate = PipelineParameter(name="learning_rate", default_value=0.005)
epochs = PipelineParameter(name="epochs", default_value=50)
model_name = PipelineParameter(name="model_name", default_value="linear")

train_step = PythonScriptStep(
    name="train",
    script_name="train.py",
    arguments=["--learning_rate", learning_rate, "--epochs", epochs],
    params={"model_name": model_name},
    inputs=[points.as_named_input("points")],
    source_directory="./train",
    runconfig=run_config,
    allow_reuse=True,
)
pipeline = Pipeline(workspace=ws, steps=[train_step])
experiment = Experiment(ws, "pipeline-parameters")


def report(label, pipeline_run):
    step_run = pipeline_run.find_step_run("train")[0]
    reused_from = step_run.get_properties().get("azureml.reusedrunid")
    print(f"{label}: {pipeline_run.get_status()}, train {'reused' if reused_from else 'ran'}, "
          f"metrics {step_run.get_metrics()}")


run_defaults = experiment.submit(pipeline)
run_defaults.wait_for_completion(show_output=False)
report("defaults", run_defaults)

run_faster = experiment.submit(pipeline, pipeline_parameters={"learning_rate": 0.015, "epochs": 400,
                                                              "model_name": "linear-fast"})
run_faster.wait_for_completion(show_output=False)
report("learning_rate=0.015", run_faster)

run_again = experiment.submit(pipeline, pipeline_parameters={"learning_rate": 0.015, "epochs": 400,
                                                             "model_name": "linear-fast"})
run_again.wait_for_completion(show_output=False)
report("same values again", run_again)
