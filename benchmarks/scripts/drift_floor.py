"""The drift benchmark's floor: the same reads, then only scipy's distances SDK v1 reports per numeric feature.

    python drift_floor.py <baseline.parquet> <target.parquet> <out.json>

What no drift computation can skip: reading both datasets, and ``wasserstein_distance`` and
``energy_distance`` between the two sides' values of every numeric column (missing values left out).
"""

import json
import sys

import numpy as np
import pandas as pd
from scipy.stats import energy_distance, wasserstein_distance


def main():
    baseline = pd.read_parquet(sys.argv[1])
    target = pd.read_parquet(sys.argv[2])
    out = {}
    for name in baseline.columns:
        if not pd.api.types.is_numeric_dtype(baseline[name].dtype):
            continue
        b = baseline[name].to_numpy(dtype=np.float64, na_value=np.nan)
        t = target[name].to_numpy(dtype=np.float64, na_value=np.nan)
        b, t = b[~np.isnan(b)], t[~np.isnan(t)]
        out[name] = [wasserstein_distance(b, t), energy_distance(b, t)]
    with open(sys.argv[3], "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
