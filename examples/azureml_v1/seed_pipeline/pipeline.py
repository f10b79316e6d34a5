# "Create and run machine learning pipelines with Azure Machine Learning SDK" (SDK v1),
# completed into a script that runs from start to end, the way its tutorial does: the data is
# made and uploaded first, then every block of the article follows in its order, with the
# pieces the article leaves out ("`compare_step` definition not shown") filled in.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os
import random

import azureml.core
from azureml.core import Workspace, Datastore

ws = Workspace.from_config()
print("Azure ML SDK version:", azureml.core.VERSION)
print("Workspace:", ws.name)

# -- Data to work with: small 8x8 grayscale images of bars (PGM files, the label in the file
# -- name) and the iris table. The article assumes both are already in the datastore.
random.seed(7)
os.makedirs("data/train-images", exist_ok=True)
for i in range(40):
    label = "horizontal" if i % 2 == 0 else "vertical"
    row = random.randrange(8)
    pixels = []
    for y in range(8):
        for x in range(8):
            on = (y == row) if label == "horizontal" else (x == row)
            pixels.append(200 + random.randrange(50) if on else random.randrange(60))
    with open(f"data/train-images/img_{i:03d}_{label}.pgm", "w") as f:
        f.write("P2\n8 8\n255\n" + " ".join(str(p) for p in pixels) + "\n")

species = {"setosa": (5.0, 3.4, 1.5, 0.2), "versicolor": (5.9, 2.8, 4.3, 1.3), "virginica": (6.6, 3.0, 5.6, 2.0)}
with open("data/iris.csv", "w") as f:
    f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
    for name, means in species.items():
        for _ in range(50):
            values = [round(m + random.gauss(0, 0.2), 1) for m in means]
            f.write(",".join(str(v) for v in values) + f",{name}\n")

# Default datastore
def_data_store = ws.get_default_datastore()

# Get the blob storage associated with the workspace
def_blob_store = Datastore(ws, "workspaceblobstore")

# Get file storage associated with the workspace
def_file_store = Datastore(ws, "workspacefilestore")

def_blob_store.upload(src_dir="data/train-images", target_path="train-images", overwrite=True, show_progress=False)
def_blob_store.upload_files(["data/iris.csv"], target_path="iris", overwrite=True, show_progress=False)

# -- Configure data with Dataset and OutputFileDatasetConfig objects
from azureml.core import Dataset

my_dataset = Dataset.File.from_files([(def_blob_store, 'train-images/')])
iris_tabular_dataset = Dataset.Tabular.from_delimited_files([(def_blob_store, 'iris/iris.csv')])

from azureml.data import OutputFileDatasetConfig

datastore = def_blob_store
output_data1 = OutputFileDatasetConfig(destination = (datastore, 'outputdataset/{run-id}'))
# register_on_complete returns a new OutputFileDatasetConfig: the step writes that one, so that
# what it writes is registered as a new version of the 'prepared_output_data' dataset.
output_data_dataset = output_data1.register_on_complete(name = 'prepared_output_data')

# -- Azure Machine Learning compute
from azureml.core.compute import ComputeTarget, AmlCompute

compute_name = "aml-compute"
vm_size = "STANDARD_NC6"
if compute_name in ws.compute_targets:
    compute_target = ws.compute_targets[compute_name]
    if compute_target and type(compute_target) is AmlCompute:
        print('Found compute target: ' + compute_name)
else:
    print('Creating a new compute target...')
    provisioning_config = AmlCompute.provisioning_configuration(vm_size=vm_size,  # STANDARD_NC6 is GPU-enabled
                                                                min_nodes=0,
                                                                max_nodes=4)
    # create the compute target
    compute_target = ComputeTarget.create(
        ws, compute_name, provisioning_config)

    # Can poll for a minimum number of nodes and for a specific timeout.
    # If no min node count is provided it will use the scale settings for the cluster
    compute_target.wait_for_completion(
        show_output=True, min_node_count=None, timeout_in_minutes=20)

    # For a more detailed view of current cluster status, use the 'status' property
    print(compute_target.status.serialize())

# -- Configure the training run's environment
from azureml.core.runconfig import RunConfiguration
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core import Environment

aml_run_config = RunConfiguration()
# `compute_target` as defined in "Azure Machine Learning compute" section above
aml_run_config.target = compute_target

USE_CURATED_ENV = True
if USE_CURATED_ENV :
    curated_environment = Environment.get(workspace=ws, name="AzureML-Tutorial")
    aml_run_config.environment = curated_environment
else:
    aml_run_config.environment.python.user_managed_dependencies = False

    # Add some packages relied on by data prep step
    aml_run_config.environment.python.conda_dependencies = CondaDependencies.create(
        conda_packages=['pandas','scikit-learn'],
        pip_packages=['azureml-sdk', 'azureml-dataprep[fuse,pandas]'],
        pin_sdk_version=False)

# -- Construct your pipeline steps
from azureml.pipeline.steps import PythonScriptStep

dataprep_source_dir = "./dataprep_src"
entry_point = "prepare.py"
# `my_dataset` as defined above
ds_input = my_dataset.as_named_input('input1')

# `output_data1`, `compute_target`, `aml_run_config` as defined above
data_prep_step = PythonScriptStep(
    script_name=entry_point,
    source_directory=dataprep_source_dir,
    arguments=["--input", ds_input.as_download(), "--output", output_data_dataset],
    compute_target=compute_target,
    runconfig=aml_run_config,
    allow_reuse=True
)

train_source_dir = "./train_src"
train_entry_point = "train.py"

training_results = OutputFileDatasetConfig(name = "training_results",
    destination = def_blob_store)

train_step = PythonScriptStep(
    script_name=train_entry_point,
    source_directory=train_source_dir,
    arguments=["--prepped_data", output_data1.as_input(), "--training_results", training_results],
    compute_target=compute_target,
    runconfig=aml_run_config,
    allow_reuse=True
)

compare_step = PythonScriptStep(
    script_name="compare.py",
    source_directory="./compare_src",
    arguments=["--training_results", training_results.as_input(name="results")],
    compute_target=compute_target,
    runconfig=aml_run_config,
    allow_reuse=True
)

# -- Use a dataset
project_folder = "./iris_src"
dataset_consuming_step = PythonScriptStep(
    script_name="iris_train.py",
    inputs=[iris_tabular_dataset.as_named_input("iris_data")],
    compute_target=compute_target,
    runconfig=aml_run_config,
    source_directory=project_folder
)

# list of steps to run
compare_models = [data_prep_step, train_step, compare_step]

from azureml.pipeline.core import Pipeline

# Build the pipeline
pipeline1 = Pipeline(workspace=ws, steps=[compare_models, dataset_consuming_step])

# -- Submit the pipeline
from azureml.core import Experiment

# Submit the pipeline to be run
pipeline_run1 = Experiment(ws, 'Compare_Models_Exp').submit(pipeline1)
pipeline_run1.wait_for_completion(show_output=True)

for step_run in pipeline_run1.get_steps():
    print("first run:", step_run.name, step_run.get_status(), step_run.get_metrics())

# Nothing changed: submitting again reuses every step's earlier run.
pipeline_run2 = Experiment(ws, 'Compare_Models_Exp').submit(pipeline1)
pipeline_run2.wait_for_completion(show_output=False)
print("second run:", pipeline_run2.get_status())
for step_run in pipeline_run2.get_steps():
    reused_from = step_run.get_details()["properties"].get("azureml.reusedrunid")
    print("second run:", step_run.name, step_run.get_status(), "reused" if reused_from else "ran again")

prepared = Dataset.get_by_name(ws, name='prepared_output_data')
print("registered dataset:", prepared.name, "version", prepared.version, "files", len(prepared.to_path()))
