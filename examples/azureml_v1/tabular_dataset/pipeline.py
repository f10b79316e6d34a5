# A registered TabularDataset consumed by a pipeline step ("Create Azure Machine Learning
# datasets" + "Use a dataset" in pipelines): from_delimited_files with set_column_types,
# register with create_new_version, as_named_input in the step's inputs,
# run.input_datasets[...].to_pandas_dataframe() in the script, RunDetails(run).show(), and a
# second version of the dataset registered from changed data.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os
import random

from azureml.core import Dataset, Experiment, Workspace
from azureml.core.runconfig import RunConfiguration
from azureml.data.dataset_factory import DataType
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import PythonScriptStep
from azureml.widgets import RunDetails

ws = Workspace.from_config()
datastore = ws.get_default_datastore()


def write_passengers(path, count, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("PassengerId,Pclass,Sex,Age,Fare,Survived\n")
        for pid in range(1, count + 1):
            pclass = rng.choice([1, 2, 3])
            sex = rng.choice(["male", "female"])
            chance = {1: 0.6, 2: 0.45, 3: 0.25}[pclass] + (0.3 if sex == "female" else 0.0)
            age = "" if pid % 17 == 0 else str(rng.randint(1, 70))
            fare = round({1: 80, 2: 25, 3: 10}[pclass] * rng.uniform(0.7, 1.3), 2)
            f.write(f"{pid},{pclass},{sex},{age},{fare},{int(rng.random() < chance)}\n")


os.makedirs("data", exist_ok=True)
write_passengers("data/titanic.csv", 300, seed=1)
datastore.upload_files(files=["./data/titanic.csv"], target_path="titanic/", overwrite=True, show_progress=False)

titanic_ds = Dataset.Tabular.from_delimited_files(path=[(datastore, "titanic/titanic.csv")],
                                                  set_column_types={"Fare": DataType.to_float()})
titanic_ds = titanic_ds.register(workspace=ws, name="titanic_ds", description="titanic training data",
                                 create_new_version=True)
print("registered", titanic_ds.name, "version", titanic_ds.version)
print(titanic_ds.take(3).to_pandas_dataframe())

train_step = PythonScriptStep(
    name="survival_rates",
    script_name="survival.py",
    inputs=[titanic_ds.as_named_input("titanic")],
    source_directory="./train",
    runconfig=RunConfiguration(),
    allow_reuse=True,
)
pipeline = Pipeline(workspace=ws, steps=[train_step])
run = Experiment(ws, "titanic-survival").submit(pipeline)
run.wait_for_completion(show_output=False)
RunDetails(run).show()

step_run = run.find_step_run("survival_rates")[0]
print("survival by class:", step_run.get_metrics()["survival_by_class"])

# New data arrives: register it as version 2; version 1 stays as it was.
write_passengers("data/titanic.csv", 400, seed=2)
datastore.upload_files(files=["./data/titanic.csv"], target_path="titanic_v2/", overwrite=True, show_progress=False)
titanic_v2 = Dataset.Tabular.from_delimited_files(path=[(datastore, "titanic_v2/titanic.csv")],
                                                  set_column_types={"Fare": DataType.to_float()})
titanic_v2 = titanic_v2.register(workspace=ws, name="titanic_ds", create_new_version=True)
latest = Dataset.get_by_name(ws, name="titanic_ds")
first = Dataset.get_by_name(ws, name="titanic_ds", version=1)
print("latest version", latest.version, "rows", len(latest.to_pandas_dataframe()),
      "| version 1 rows", len(first.to_pandas_dataframe()))
