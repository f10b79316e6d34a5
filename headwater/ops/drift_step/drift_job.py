"""The step of a data drift detector run: compare the baseline with one period of the target.

Headwater runs this script as the one step of a detector's pipeline run (see
:mod:`headwater.ops.drift_submit`); its folder is the step's snapshot. It reads its two inputs
(``baseline`` and ``target``, the target already filtered to the period), computes the drift with
:func:`headwater.drift.compute_drift`, logs SDK v1's metric names as run metrics and writes the
report (``DriftReport.to_dict()`` plus the period) as ``report.json`` into its ``report`` output.
"""

from __future__ import annotations

import argparse
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="Headwater data drift: one period")
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--features", default="")  # JSON list; empty: every common feature
    parser.add_argument("--exclude", default="[]")  # JSON list: the target's timestamp columns
    parser.add_argument("--code", default="")  # the digest of headwater.drift's code, for reuse only
    parser.add_argument("--report", required=True)
    args = parser.parse_args()

    from headwater.drift import DriftDataError, compute_drift
    from headwater.runtime import Run

    run = Run.get_context()
    baseline = run.input_datasets["baseline"].to_pandas_dataframe()
    target = run.input_datasets["target"].to_pandas_dataframe()
    features = json.loads(args.features) if args.features else None
    try:
        report = compute_drift(baseline, target, features=features, exclude=json.loads(args.exclude))
    except DriftDataError as exc:  # a clear message naming the period, no traceback
        hint = f" {exc.hint}" if exc.hint else ""
        raise SystemExit(
            f"Data drift of the period {args.start} .. {args.end} cannot be computed: {exc.message}{hint}"
        ) from None
    data = report.to_dict()
    print(
        f"period {args.start} .. {args.end}: {len(baseline)} baseline rows, {len(target)} target rows, "
        f"magnitude {report.magnitude:.2f} %"
    )

    run.log("datadrift_coefficient", report.magnitude / 100.0)
    run.log("datadrift_magnitude", report.magnitude)
    run.log("baseline_rows", int(report.baseline_rows))
    run.log("target_rows", int(report.target_rows))
    names = list(report.contributions)
    if names:
        run.log_table(
            "datadrift_contribution", {"feature": names, "value": [float(report.contributions[n]) for n in names]}
        )
    for group, metrics in (
        (report.numeric, ("wasserstein_distance", "energy_distance")),
        (report.categorical, ("euclidean_distance",)),
    ):
        columns = sorted(group)
        for metric in metrics:
            if columns:
                values = [group[c].get(metric) for c in columns]
                run.log_table(metric, {"feature": columns, "value": [None if v is None else float(v) for v in values]})

    os.makedirs(args.report, exist_ok=True)
    with open(os.path.join(args.report, "report.json"), "w", encoding="utf-8") as f:
        json.dump({"start_date": args.start, "end_date": args.end, "report": data}, f, sort_keys=True)


if __name__ == "__main__":
    main()
