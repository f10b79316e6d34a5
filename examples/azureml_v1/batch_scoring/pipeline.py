# Batch scoring with ParallelRunStep ("Tutorial: Build an Azure Machine Learning pipeline for
# batch scoring" and "Run batch inference on large amounts of data"): a scikit-learn model is
# trained here and registered with Model.register; a TabularDataset of CSV files is scored by
# ParallelRunStep in mini-batches, in parallel worker processes; the entry script loads the model
# with Model.get_model_path in init() and returns one line per row (append_row).
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os
import pickle
import random

from azureml.core import Dataset, Environment, Experiment, Model, Workspace
from azureml.core.conda_dependencies import CondaDependencies
from azureml.data import OutputFileDatasetConfig
from azureml.pipeline.core import Pipeline, PipelineParameter
from azureml.pipeline.steps import ParallelRunConfig, ParallelRunStep
from sklearn.linear_model import LogisticRegression

ws = Workspace.from_config()
datastore = ws.get_default_datastore()


def rows(count, seed):
    rng = random.Random(seed)
    for _ in range(count):
        glucose, bmi, age = rng.uniform(60, 200), rng.uniform(15, 50), rng.randint(20, 80)
        yield glucose, bmi, age, int(glucose / 200 + bmi / 100 + rng.uniform(-0.2, 0.2) > 1.0)


# Train a model here, as the tutorial's notebook does, and register it.
train = list(rows(2000, seed=0))
model = LogisticRegression(max_iter=1000).fit([r[:3] for r in train], [r[3] for r in train])
with open("diabetes_model.pkl", "wb") as f:
    pickle.dump(model, f)
registered = Model.register(workspace=ws, model_path="diabetes_model.pkl", model_name="diabetes-model",
                            tags={"framework": "scikit-learn"}, description="logistic regression")
print("registered model", registered.name, "version", registered.version)

# The data to score: 4 CSV files on the default datastore.
os.makedirs("data", exist_ok=True)
for part in range(4):
    with open(f"data/patients_{part}.csv", "w") as f:
        f.write("PatientId,Glucose,BMI,Age\n")
        for n, (glucose, bmi, age, _) in enumerate(rows(250, seed=part + 1)):
            f.write(f"{part * 250 + n},{glucose:.1f},{bmi:.1f},{age}\n")
datastore.upload(src_dir="data", target_path="patients", overwrite=True, show_progress=False)
patients = Dataset.Tabular.from_delimited_files(path=(datastore, "patients/*.csv"))
patients = patients.register(ws, name="patients", create_new_version=True)

batch_env = Environment(name="batch-env")
batch_env.python.conda_dependencies = CondaDependencies.create(
    pip_packages=["scikit-learn", "pandas", "azureml-core", "azureml-dataset-runtime[pandas,fuse]"])

parallel_run_config = ParallelRunConfig(
    source_directory="scripts",
    entry_script="score.py",
    mini_batch_size=PipelineParameter(name="batch_size_param", default_value="4KB"),
    error_threshold=10,
    output_action="append_row",
    append_row_file_name="predictions.txt",
    environment=batch_env,
    compute_target="local",
    process_count_per_node=2,
    node_count=1,
)
output = OutputFileDatasetConfig(name="inferences")
score_step = ParallelRunStep(
    name="batch-scoring",
    parallel_run_config=parallel_run_config,
    inputs=[patients.as_named_input("patients")],
    output=output,
    arguments=["--model_name", "diabetes-model"],
    allow_reuse=True,
)
pipeline = Pipeline(workspace=ws, steps=[score_step])
run = Experiment(ws, "batch-scoring").submit(pipeline)
run.wait_for_completion(show_output=False)

step_run = run.find_step_run("batch-scoring")[0]
step_run.get_output_data("inferences").download(local_path="downloaded")
found = [os.path.join(folder, name) for folder, _, names in os.walk("downloaded") for name in names]
predictions = [line.split() for path in found if path.endswith("predictions.txt") for line in open(path)]
positive = sum(int(p[-1]) for p in predictions)
print("scored", len(predictions), "patients:", positive, "predicted positive")
