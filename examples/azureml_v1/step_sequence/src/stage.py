# stage.py: one stage of the pipeline; it records its name on the pipeline run.
import argparse

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--stage", type=str)
args = parser.parse_args()

run = Run.get_context()
run.parent.log("stage", args.stage)
print("stage", args.stage, "done")
