# Intermediate data promoted to a dataset (PipelineData.as_dataset() in the SDK v1 samples): a
# prep step writes CSV files to a PipelineData promoted with as_dataset(); the next step reads it
# as a TabularDataset (parse_delimited_files + as_named_input) from run.input_datasets. Afterwards
# the outputs are read back the two ways SDK v1 code does it:
# step_run.get_outputs()[name].get_port_data_reference() and
# pipeline_run.get_pipeline_output(name), and downloaded.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os

from azureml.core import Experiment, Workspace
from azureml.core.runconfig import RunConfiguration
from azureml.data import DataType
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()
datastore = ws.get_default_datastore()

cleaned = PipelineData("cleaned", datastore=datastore, pipeline_output_name="cleaned_sales").as_dataset()
prep_step = PythonScriptStep(
    name="prep",
    script_name="prep.py",
    arguments=["--output", cleaned],
    outputs=[cleaned],
    source_directory="./scripts",
    runconfig=RunConfiguration(),
    allow_reuse=True,
)

# Parsed columns stay strings unless set_column_types says otherwise.
sales = cleaned.parse_delimited_files(set_column_types={"units": DataType.to_long(), "price": DataType.to_float()})
report_step = PythonScriptStep(
    name="report",
    script_name="report.py",
    inputs=[sales.as_named_input("sales")],
    source_directory="./scripts",
    runconfig=RunConfiguration(),
)

# Only the last step is listed: the pipeline includes the step whose output it reads.
pipeline = Pipeline(workspace=ws, steps=[report_step])
pipeline_run = Experiment(ws, "promoted-data").submit(pipeline)
pipeline_run.wait_for_completion(show_output=False)

prep_run = pipeline_run.find_step_run("prep")[0]
for name, output in prep_run.get_outputs().items():
    port_data = output.get_port_data_reference()
    print("output", name, "is on", port_data.datastore_name, "at", port_data.path_on_datastore)

final = pipeline_run.get_pipeline_output("cleaned_sales")
count = final.download(local_path="downloaded", overwrite=True, show_progress=False)
print("downloaded", count, "files:", sorted(os.listdir(os.path.join("downloaded", final.path_on_datastore))))

report_run = pipeline_run.find_step_run("report")[0]
print("report metrics:", report_run.get_metrics())
