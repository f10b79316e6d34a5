"""The drift benchmark's measured process: read the baseline and the target, ``compute_drift``, write the report.

python drift_compute.py <baseline.parquet> <target.parquet> <report.json>
"""

import json
import sys

import pandas as pd

from headwater.drift import compute_drift


def main():
    baseline = pd.read_parquet(sys.argv[1])
    target = pd.read_parquet(sys.argv[2])
    report = compute_drift(baseline, target)
    with open(sys.argv[3], "w") as out:
        json.dump(report.to_dict(), out)


if __name__ == "__main__":
    main()
