"""SDK v1's Model through the compatibility layer: the registry itself, not a stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import NotSupportedError
from headwater.sdk.model import Model as HeadwaterModel

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_azureml_core_model_is_the_model_registry(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azureml.core import Model
    from azureml.core.model import InferenceConfig
    from azureml.core.model import Model as ModelToo

    assert Model is ModelToo is HeadwaterModel
    (tmp_path / "model.pkl").write_bytes(b"w")
    monkeypatch.chdir(tmp_path)
    model = Model.register(workspace=ws, model_path="model.pkl", model_name="m", tags={"area": "x"})
    assert [m.id for m in Model.list(ws, name="m", latest=True)] == [model.id] == ["m:1"]
    assert Model.Framework.SCIKITLEARN == "ScikitLearn"
    with pytest.raises(NotSupportedError, match="get_model_path"):
        Model.deploy(ws, "svc", [model], inference_config=None)
    with pytest.raises(NotSupportedError):
        InferenceConfig(entry_script="score.py")
