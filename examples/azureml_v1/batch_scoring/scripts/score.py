# The ParallelRunStep entry script: init() once per worker process, run(mini_batch) per mini-batch
# (a pandas DataFrame for a TabularDataset); one returned row per scored row.
import argparse
import pickle

from azureml.core.model import Model
from azureml_user.parallel_run import EntryScript


def init():
    global model
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name", required=True)
    args, _ = parser.parse_known_args()
    path = Model.get_model_path(args.model_name)
    with open(path, "rb") as f:
        model = pickle.load(f)
    EntryScript().logger.info("loaded %s from %s", args.model_name, path)


def run(mini_batch):
    result = mini_batch[["PatientId"]].copy()
    result["Prediction"] = model.predict(mini_batch[["Glucose", "BMI", "Age"]].values)
    EntryScript().logger.info("scored %d rows", len(result))
    return result
