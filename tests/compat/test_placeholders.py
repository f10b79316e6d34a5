"""SDK v1 names Headwater does not provide: they import, and using them raises NotSupportedError."""

from __future__ import annotations

import importlib
import inspect

import pytest

from headwater.compat.names import MODULES, NOT_SUPPORTED
from headwater.compat.placeholders import is_placeholder
from headwater.errors import HeadwaterError, NotSupportedError

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_a_not_yet_implemented_step_imports_and_fails_when_instantiated() -> None:
    from azureml.pipeline.steps import HyperDriveStep

    with pytest.raises(NotSupportedError) as info:
        HyperDriveStep(name="sweep", hyperdrive_config=None)
    message = str(info.value)
    assert "HyperDriveStep" in message and "azureml.pipeline.steps.HyperDriveStep" in message
    assert "PythonScriptStep" in message  # what to use instead
    assert isinstance(info.value, HeadwaterError)


def test_static_methods_and_attributes_fail_naming_them() -> None:
    from azureml.core import Image, Webservice

    with pytest.raises(NotSupportedError, match=r"Image\.create \(azureml\.core\.Image\)"):
        Image.create(workspace=None, name="i", models=[], image_config=None)
    with pytest.raises(NotSupportedError, match=r"Webservice\.list"):
        Webservice.list(None)
    with pytest.raises(NotSupportedError, match=r"Keyvault"):
        importlib.import_module("azureml.core").Keyvault(workspace=None, name="kv")


def test_stand_ins_are_classes_that_code_can_mention() -> None:
    from azureml.pipeline.steps import HyperDriveStep

    assert inspect.isclass(HyperDriveStep)
    assert not isinstance(object(), HyperDriveStep)
    assert HyperDriveStep.__name__ == "HyperDriveStep"
    assert HyperDriveStep.__module__ == "azureml.pipeline.steps"
    assert "not supported" in repr(HyperDriveStep)
    # private and dunder look-ups stay AttributeErrors, so tools that probe objects are not tripped
    with pytest.raises(AttributeError):
        HyperDriveStep._repr_html_  # type: ignore[attr-defined]  # noqa: B018  (the look-up that must fail)
    assert getattr(HyperDriveStep, "__wrapped__", None) is None

    assert HyperDriveStep | None is not None  # usable in annotations, evaluated or not


def test_a_subclass_of_a_stand_in_fails_too() -> None:
    from azureml.pipeline.steps import AutoMLStep

    class MyStep(AutoMLStep):
        pass

    with pytest.raises(NotSupportedError, match="AutoMLStep"):
        MyStep()


def test_one_name_is_one_object_wherever_it_is_imported_from() -> None:
    from azureml.pipeline.core import PublishedPipeline, StepRunOutput
    from azureml.pipeline.core.graph import PublishedPipeline as GraphPublishedPipeline
    from azureml.pipeline.core.run import StepRunOutput as RunStepRunOutput

    assert PublishedPipeline is GraphPublishedPipeline
    assert StepRunOutput is RunStepRunOutput


@pytest.mark.parametrize(
    ("module", "name"),
    sorted((m, n) for m, entries in MODULES.items() for n, spec in entries.items() if spec == NOT_SUPPORTED),
)
def test_every_unsupported_name_imports_and_raises_when_called(module: str, name: str) -> None:
    stand_in = getattr(importlib.import_module(module), name)
    assert is_placeholder(stand_in)
    with pytest.raises(NotSupportedError) as info:
        stand_in()
    assert name in str(info.value)
    assert info.value.hint
