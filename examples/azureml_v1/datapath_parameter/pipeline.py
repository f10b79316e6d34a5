# DataPath and DataPathComputeBinding as a pipeline parameter
# (aml-pipelines-showcasing-datapath-and-pipelineparameter): the step's input folder is a
# PipelineParameter whose default is a DataPath, bound with DataPathComputeBinding(mode='mount');
# a second submit points it at another folder through pipeline_parameters.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os

from azureml.core import Experiment, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.data.datapath import DataPath, DataPathComputeBinding
from azureml.pipeline.core import Pipeline, PipelineParameter
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()
def_blob_store = ws.get_default_datastore()

texts = {
    "sample_datapath1": {"a.txt": "the quick brown fox\njumps over the lazy dog\n", "b.txt": "hello pipelines\n"},
    "sample_datapath2": {"c.txt": "one two three four five six seven\n"},
}
for folder, files in texts.items():
    os.makedirs(os.path.join("data", folder), exist_ok=True)
    for name, text in files.items():
        with open(os.path.join("data", folder, name), "w") as f:
            f.write(text)
    def_blob_store.upload(src_dir=os.path.join("data", folder), target_path=folder, overwrite=True,
                          show_progress=False)

compute_target = ComputeTarget.create(ws, "cpu-cluster",
                                      AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2))

data_path = DataPath(datastore=def_blob_store, path_on_datastore="sample_datapath1")
datapath1_pipeline_param = PipelineParameter(name="input_datapath", default_value=data_path)
datapath_input = (datapath1_pipeline_param, DataPathComputeBinding(mode="mount"))

string_pipeline_param = PipelineParameter(name="input_string", default_value="sample_string1")

train_step = PythonScriptStep(
    name="train_step",
    script_name="train_with_datapath.py",
    arguments=["--arg1", string_pipeline_param, "--arg2", datapath_input],
    inputs=[datapath_input],
    compute_target=compute_target,
    source_directory="./scripts")
print("train_step created")

pipeline = Pipeline(workspace=ws, steps=[train_step])
print("pipeline with the train_step created")

experiment = Experiment(ws, "train_with_datapath_input")
pipeline_run_with_params = experiment.submit(pipeline)
pipeline_run_with_params.wait_for_completion(show_output=True)

data_path_2 = DataPath(datastore=def_blob_store, path_on_datastore="sample_datapath2")
pipeline_run_2 = experiment.submit(pipeline,
                                   pipeline_parameters={"input_datapath": data_path_2, "input_string": "sample_string2"})
pipeline_run_2.wait_for_completion(show_output=False)

for label, run in (("default DataPath", pipeline_run_with_params), ("sample_datapath2", pipeline_run_2)):
    step_run = run.find_step_run("train_step")[0]
    print(f"{label}: {run.get_status()}, metrics {step_run.get_metrics()}")
