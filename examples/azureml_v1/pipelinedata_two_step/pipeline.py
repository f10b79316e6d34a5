# The classic two-step pipeline of the SDK v1 samples ("How to build a two step ML pipeline",
# aml-pipelines-with-data-dependency-steps): a DataReference to raw data in the default
# datastore, a PipelineData that the first step writes and the second reads, both listed in the
# steps' inputs/outputs, and a Pipeline built from the last step only (the first is pulled in
# because the second consumes its output).
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os
import random

import azureml.core
from azureml.core import Experiment, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.runconfig import DEFAULT_CPU_IMAGE, RunConfiguration
from azureml.data.data_reference import DataReference
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep
from azureml.widgets import RunDetails

# Check core SDK version number
print("SDK version:", azureml.core.VERSION)

ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep="\n")

# Some raw data: daily temperatures, a few of them missing.
random.seed(3)
os.makedirs("data", exist_ok=True)
with open("data/raw_data.csv", "w") as f:
    f.write("day,temperature\n")
    for day in range(1, 61):
        value = "" if day % 13 == 0 else f"{15 + 10 * random.random():.1f}"
        f.write(f"{day},{value}\n")

# Default datastore (Azure blob storage)
def_blob_store = ws.get_default_datastore()
print("Default datastore's name: {}".format(def_blob_store.name))
def_blob_store.upload_files(["./data/raw_data.csv"], target_path="raw", overwrite=True, show_progress=False)

aml_compute_target = "cpu-cluster"
try:
    aml_compute = AmlCompute(ws, aml_compute_target)
    print("found existing compute target.")
except ComputeTargetException:
    print("creating new compute target")
    provisioning_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=1, max_nodes=4)
    aml_compute = ComputeTarget.create(ws, aml_compute_target, provisioning_config)
    aml_compute.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)
print("Azure Machine Learning Compute attached")

raw_data = DataReference(
    datastore=def_blob_store,
    data_reference_name="raw_data",
    path_on_datastore="raw/raw_data.csv")
print("DataReference object created")

processed_data = PipelineData("processed_data", datastore=def_blob_store)
print("PipelineData object created")

# create a new runconfig object
run_config = RunConfiguration()

# enable Docker
run_config.environment.docker.enabled = True

# set Docker base image to the default CPU-based image
run_config.environment.docker.base_image = DEFAULT_CPU_IMAGE

# use conda_dependencies.yml to create a conda environment in the Docker image for execution
run_config.environment.python.user_managed_dependencies = False

# specify CondaDependencies obj
run_config.environment.python.conda_dependencies = CondaDependencies.create(conda_packages=["numpy"])

source_directory = "./scripts"
process_step = PythonScriptStep(
    script_name="process.py",
    arguments=["--input_data", raw_data, "--output_processed", processed_data],
    inputs=[raw_data],
    outputs=[processed_data],
    compute_target=aml_compute,
    source_directory=source_directory,
    runconfig=run_config,
    allow_reuse=True)
print("process_step created")

train_step = PythonScriptStep(
    script_name="train.py",
    arguments=["--input_processed", processed_data],
    inputs=[processed_data],
    compute_target=aml_compute,
    source_directory=source_directory)
print("train_step created")

# Only the last step is listed: the pipeline includes the steps it depends on.
pipeline1 = Pipeline(workspace=ws, steps=[train_step])
print("Pipeline is built")

pipeline1.validate()
print("Pipeline validation complete")

pipeline_run1 = Experiment(ws, "Data_dependency").submit(pipeline1)
print("Pipeline is submitted for execution")
RunDetails(pipeline_run1).show()
pipeline_run1.wait_for_completion(show_output=True)

process_run = pipeline_run1.find_step_run("process.py")[0]
port_data = process_run.get_output_data("processed_data")
print("processed_data is on datastore", port_data.datastore_name, "at", port_data.path_on_datastore)
port_data.download(local_path="downloaded", overwrite=True)
local = os.path.join("downloaded", port_data.path_on_datastore, "clean.csv")
with open(local) as f:
    print("downloaded", local, "with", len(f.readlines()) - 1, "rows")

train_run = pipeline_run1.find_step_run("train.py")[0]
print("train.py metrics:", train_run.get_metrics())
