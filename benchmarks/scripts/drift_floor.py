"""The drift benchmark's floor: what any drift computation with scipy and scikit-learn pays first.

    python drift_floor.py <baseline.parquet> <target.parquet>

Reading both datasets into pandas (the same calls as the measured process) and importing the
packages issue 17 prescribes for the statistics (scipy.stats, scikit-learn's ensembles).
"""

import sys

import pandas as pd
import scipy.stats  # noqa: F401
import sklearn.ensemble  # noqa: F401


def main():
    baseline = pd.read_parquet(sys.argv[1])
    target = pd.read_parquet(sys.argv[2])
    print(len(baseline), len(target))


if __name__ == "__main__":
    main()
