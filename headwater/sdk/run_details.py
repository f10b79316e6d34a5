"""Shapes of SDK v1's run details: the ``inputDatasets`` detail of ``get_details``."""

from __future__ import annotations

from typing import Any

__all__ = ["input_datasets_detail"]


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
