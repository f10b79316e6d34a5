# iris_train.py
from azureml.core import Run, Dataset

run_context = Run.get_context()
iris_dataset = run_context.input_datasets['iris_data']
dataframe = iris_dataset.to_pandas_dataframe()

# Within a PythonScriptStep
ws = Run.get_context().experiment.workspace

means = dataframe.groupby("species")["petal_length"].mean().round(2)
run_context.log("rows", len(dataframe))
for species, mean in means.items():
    run_context.log_row("petal_length_by_species", species=species, mean=float(mean))
print(f"iris: {len(dataframe)} rows from workspace {ws.name}; mean petal length {means.to_dict()}")
