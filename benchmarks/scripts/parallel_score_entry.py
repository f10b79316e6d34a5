"""The scoring entry script of the ParallelRunStep benchmark (and of its multiprocessing.Pool floor).

``init()`` loads the pickled scikit-learn model named by ``BENCH_MODEL``; ``run(df)`` predicts each
row and returns ``id prediction`` rows.
"""

import os
import pickle

model = None


def init():
    global model
    with open(os.environ["BENCH_MODEL"], "rb") as f:
        model = pickle.load(f)


def run(mini_batch):
    out = mini_batch[["id"]].copy()
    out["prediction"] = model.predict(mini_batch[["glucose", "bmi", "age"]].to_numpy())
    return out
