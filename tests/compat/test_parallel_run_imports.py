"""ParallelRunStep and ParallelRunConfig through SDK v1's module paths (no stand-ins any more)."""

from __future__ import annotations

from headwater.sdk.parallel_run_config import ParallelRunConfig
from headwater.sdk.parallel_run_step import ParallelRunStep


def test_sdk_v1_imports_through_the_layer(azureml_on: object) -> None:
    from azureml.pipeline.steps import ParallelRunConfig as Config
    from azureml.pipeline.steps import ParallelRunStep as Step
    from azureml.pipeline.steps.parallel_run_config import ParallelRunConfig as Config2
    from azureml.pipeline.steps.parallel_run_step import ParallelRunStep as Step2

    assert Config is Config2 is ParallelRunConfig and Step is Step2 is ParallelRunStep
