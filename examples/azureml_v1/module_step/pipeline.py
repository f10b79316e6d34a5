# Modules: a Python script published once as a versioned Module, then used twice in a pipeline
# with ModuleStep (the pattern of SDK v1's "How to use ModuleStep" sample), and the pipeline kept
# as a PipelineDraft that is submitted again later.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

import os

from azureml.core import Experiment, Workspace
from azureml.pipeline.core import Module, Pipeline, PipelineData, PipelineDraft
from azureml.pipeline.core.graph import InputPortDef, OutputPortDef
from azureml.pipeline.steps import ModuleStep

ws = Workspace.from_config()
datastore = ws.get_default_datastore()

# -- publish the script as a module, in two versions ------------------------------------------
out_sum = OutputPortDef(name="out_sum", default_datastore_name=datastore.name, default_datastore_mode="mount",
                        label="Sum of two numbers")
out_prod = OutputPortDef(name="out_prod", default_datastore_name=datastore.name, default_datastore_mode="mount",
                         label="Product of two numbers")
try:
    module = Module.get(ws, name="AddAndMultiply")
    print("found module", module.name)
except Exception:
    module = Module.create(ws, name="AddAndMultiply", description="A module that adds and multiplies")
    module.publish_python_script("calculate.py", "initial", inputs=[], outputs=[out_sum, out_prod],
                                 params={"initialNum": 2, "secondNum": 3}, version="1",
                                 source_directory="./calc")
    in1 = InputPortDef(name="in1", default_datastore_mode="mount",
                       default_data_reference_name=datastore.name, label="First input number")
    in2 = InputPortDef(name="in2", default_datastore_mode="mount",
                       default_data_reference_name=datastore.name, label="Second input number")
    module.publish_python_script("calculate.py", "second", inputs=[in1, in2], outputs=[out_sum, out_prod],
                                 version="2", is_default=True, source_directory="./calc")
    print("published module", module.name, "versions",
          [v.version for v in module.module_version_list()], "default", module.default_version)

# -- use it twice: the second step reads what the first one wrote -------------------------------
first_sum = PipelineData("first_sum", datastore=datastore)
first_prod = PipelineData("first_prod", datastore=datastore)
step1 = ModuleStep(module=module, version="1", name="start",
                   outputs_map={"out_sum": first_sum, "out_prod": first_prod},
                   arguments=["--output_sum", first_sum, "--output_product", first_prod],
                   params={"initialNum": 5})

final_sum = PipelineData("final_sum", datastore=datastore)
final_prod = PipelineData("final_prod", datastore=datastore)
wiring = {"in1": first_sum, "in2": first_prod, "out_sum": final_sum, "out_prod": final_prod}
step2 = ModuleStep(module=module, name="combine", inputs_map=wiring, outputs_map=wiring,
                   arguments=["--file_num1", first_sum, "--file_num2", first_prod,
                              "--output_sum", final_sum, "--output_product", final_prod])

pipeline = Pipeline(workspace=ws, steps=[step1, step2])
run = Experiment(ws, "module_step").submit(pipeline)
run.wait_for_completion(show_output=False)
print("run:", run.get_status())


def final_number(pipeline_run, name):
    step = pipeline_run.find_step_run("combine")[0]
    port = step.get_output_data(name)
    port.download(local_path="downloaded", overwrite=True)
    with open(os.path.join("downloaded", port.path_on_datastore, "number.txt")) as f:
        return int(f.read())


print("final sum:", final_number(run, "final_sum"), "final product:", final_number(run, "final_prod"))

# -- keep the pipeline as a draft and submit it again: both steps are reused ---------------------
draft = PipelineDraft.create(ws, pipeline, name="add-and-multiply", experiment_name="module_step",
                             tags={"kind": "demo"})
print("draft:", draft.name, "tags", draft.tags)
again = draft.submit_run()
again.wait_for_completion(show_output=False)
for step in again.get_steps():
    print("draft run step", step.name, step.get_status(), "reused" if step.reused else "ran")
print("last submitted run of the draft is the draft's run:", draft.last_submitted_pipeline_run_id == again.id)
