# Publish a pipeline and run it over REST ("Publish and track machine learning pipelines"):
# Pipeline.publish, then an HTTP POST to published.endpoint with the header of
# InteractiveLoginAuthentication, as SDK v1 scripts and CI jobs do; then a PipelineEndpoint,
# called by name with the URL built from its by-id URL. Nobody starts a server by hand: reading
# .endpoint starts the workspace's server in the background.
#
# Run it from this folder:   headwater run publish_and_post.py      (or: python publish_and_post.py)

import requests
from azureml.core import Experiment, Workspace
from azureml.core.authentication import InteractiveLoginAuthentication
from azureml.pipeline.core import Pipeline, PipelineEndpoint, PipelineParameter, PipelineRun
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()

learning_rate = PipelineParameter(name="learning_rate", default_value=0.01)
train_step = PythonScriptStep(
    name="train",
    script_name="train.py",
    arguments=["--learning_rate", learning_rate],
    source_directory="./train",
    allow_reuse=True,
)
pipeline = Pipeline(workspace=ws, steps=[train_step])
published_pipeline = pipeline.publish(name="train-pipeline", description="Trains the model", version="1.0")
print(f"Published {published_pipeline.name} {published_pipeline.version}: {published_pipeline.status}")

auth = InteractiveLoginAuthentication()
aad_token = auth.get_authentication_header()


def post_and_wait(url, body):
    response = requests.post(url, headers=aad_token, json=body)
    response.raise_for_status()
    run_id = response.json().get("Id")
    run = PipelineRun(Experiment(ws, body["ExperimentName"]), run_id)
    run.wait_for_completion(show_output=False)
    step_run = run.find_step_run("train")[0]
    return run, step_run


run, step_run = post_and_wait(
    published_pipeline.endpoint,
    {"ExperimentName": "rest-trigger", "RunSource": "SDK", "ParameterAssignments": {"learning_rate": 0.05}},
)
print(f"REST run: {run.get_status()}, learning_rate {step_run.get_metrics()['learning_rate']}")

pipeline_endpoint = PipelineEndpoint.publish(
    workspace=ws, name="train-endpoint", pipeline=published_pipeline, description="The trainer"
)
by_name = pipeline_endpoint.endpoint.replace(f"Id/{pipeline_endpoint.id}", f"Name?name={pipeline_endpoint.name}")
run, step_run = post_and_wait(
    by_name, {"ExperimentName": "rest-trigger", "ParameterAssignments": {"learning_rate": 0.05}}
)
reused = "reused" if step_run.get_properties().get("azureml.reusedrunid") else "ran"
print(f"Endpoint by name: {run.get_status()}, train {reused}")
