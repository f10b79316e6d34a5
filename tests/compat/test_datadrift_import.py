"""``azureml.datadrift`` through the compatibility layer: the same objects as ``headwater``'s."""

from __future__ import annotations

from pathlib import Path

import headwater


def test_azureml_datadrift_names_are_headwaters(azureml_on: Path) -> None:
    from azureml.datadrift import AlertConfiguration, DataDriftDetector
    from azureml.datadrift.alert_configuration import AlertConfiguration as Alerts
    from azureml.datadrift.datadriftdetector import DataDriftDetector as Detector

    assert DataDriftDetector is Detector is headwater.DataDriftDetector
    assert AlertConfiguration is Alerts is headwater.AlertConfiguration
