"""A data-science step: imports pandas and scikit-learn, then notes its first line in the ledger.

Appends ``ds start <unix time>`` to ``$BENCH_LEDGER`` as soon as its imports are done — the
moment a step's own code starts. Run by ``warm_pipeline.py`` as a step and by ``warm_floor.py``
as a fresh interpreter.
"""

import os
import time

import pandas  # noqa: F401
from sklearn.linear_model import LogisticRegression  # noqa: F401

with open(os.environ["BENCH_LEDGER"], "a", encoding="utf-8") as ledger:
    ledger.write(f"ds start {time.time():.6f}\n")
