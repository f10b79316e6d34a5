# report.py: the last step, run by a CommandStep.
import argparse

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--title", type=str)
args = parser.parse_args()

Run.get_context().parent.log("stage", "report")
print("report:", args.title)
