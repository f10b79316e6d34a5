# Ordering steps that share no data: a StepSequence (a nested list inside it runs in parallel),
# and the same steps ordered with run_after instead (the pipeline built from the last step of the
# chain, as aml-pipelines-getting-started does), plus a CommandStep. Each step logs its name
# on the pipeline run (run.parent.log), so the order the steps ran in can be read back.
#
# Run it from this folder:   headwater run pipeline.py      (or: python pipeline.py)

from azureml.core import Experiment, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.pipeline.core import Pipeline, StepSequence
from azureml.pipeline.steps import CommandStep, PythonScriptStep

ws = Workspace.from_config()

cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing cluster, use it.")
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
compute_target.wait_for_completion(show_output=True)


def make_steps():
    def step(name):
        return PythonScriptStep(name=name, script_name="stage.py", arguments=["--stage", name],
                                compute_target=compute_target, source_directory="./src", allow_reuse=False)

    report = CommandStep(name="report", command="python report.py --title 'all stages done'",
                         compute_target=compute_target, source_directory="./src", allow_reuse=False)
    return step("prepare"), step("train_a"), step("train_b"), step("evaluate"), report


experiment = Experiment(ws, "step-order")

# 1. A StepSequence: prepare, then train_a and train_b side by side, then evaluate, then report.
prepare, train_a, train_b, evaluate, report = make_steps()
step_sequence = StepSequence(steps=[prepare, [train_a, train_b], evaluate, report])
sequence_run = experiment.submit(Pipeline(workspace=ws, steps=step_sequence))
sequence_run.wait_for_completion(show_output=False)
print("StepSequence run:", sequence_run.get_status(), "order:", sequence_run.get_metrics()["stage"])

# 2. The same order with run_after. We can specify the "final step" in the chain: the pipeline
#    takes care of the transitive closure and figures out the steps it depends on.
prepare, train_a, train_b, evaluate, report = make_steps()
train_a.run_after(prepare)
train_b.run_after(prepare)
evaluate.run_after(train_a)
evaluate.run_after(train_b)
report.run_after(evaluate)
pipeline2 = Pipeline(workspace=ws, steps=[report])
pipeline2.validate()
print("Simple validation complete")
after_run = experiment.submit(pipeline2)
after_run.wait_for_completion(show_output=False)
print("run_after run:", after_run.get_status(), "order:", after_run.get_metrics()["stage"])
for step_run in after_run.get_steps():
    print("  ", step_run.name, step_run.get_status())
