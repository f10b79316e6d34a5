"""Shapes of SDK v1's run details: ``get_metrics`` values and the ``inputDatasets`` detail."""

from __future__ import annotations

from typing import Any

__all__ = ["input_datasets_detail", "metrics_view"]


def metrics_view(records: list[Any]) -> dict[str, Any]:
    """SDK v1's ``get_metrics`` shape: a value logged once is a scalar, repeated a list; rows form a table."""
    out: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for m in records:
        if m.kind == "row":
            table = out.setdefault(m.name, {})
            for col, value in m.value.items():
                table.setdefault(col, []).append(value)
            kinds[m.name] = "row"
            continue
        if m.name not in out:
            out[m.name] = m.value
            kinds[m.name] = "one"
        elif kinds[m.name] == "one":
            out[m.name] = [out[m.name], m.value]
            kinds[m.name] = "many"
        else:
            out[m.name].append(m.value)
    return out


def input_datasets_detail(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """SDK v1's ``inputDatasets`` detail: the dataset inputs of a step and how they arrived."""
    return [
        {
            "dataset": {"id": i["dataset_id"]},
            "consumptionDetails": {
                "type": "RunInput",
                "inputName": name,
                "mechanism": str(i.get("mode", "")).capitalize(),
                "pathOnCompute": i.get("path"),
            },
        }
        for name, i in inputs.items()
        if i.get("dataset_id")
    ]
