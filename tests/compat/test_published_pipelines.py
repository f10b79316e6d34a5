"""Publishing as SDK v1 code does it, through the ``azureml`` layer (issue 13): ``Pipeline.publish``,
``PipelineRun.publish_pipeline``, ``PublishedPipeline`` and ``PipelineEndpoint`` with their versions.

A published pipeline is a frozen copy: editing the scripts afterwards does not change what it
runs, and its runs reuse each other's steps as any pipeline's do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from tests.conftest import gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.usefixtures("azureml_on")

TRAIN = script(
    "train",
    """
import sys
print("train lr=" + sys.argv[2] + " v1")
""",
)


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"train.py": TRAIN}})
    return proj


def _pipeline(ws: Workspace) -> Any:
    from azureml.pipeline.core import Pipeline, PipelineParameter
    from azureml.pipeline.steps import PythonScriptStep

    lr = PipelineParameter(name="lr", default_value=0.1)
    step = PythonScriptStep("train.py", name="train", source_directory="src", arguments=["--lr", lr])
    return Pipeline(ws, steps=[step], description="training")


def _finished(run: Any) -> Any:
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def _log(run: Any) -> str:
    (step,) = run.get_steps()
    return str(step.get_stdout_log())


@pytest.mark.slow
def test_publish_then_submit_runs_the_frozen_copy_and_reuses(src: Path, pws: Workspace) -> None:
    from azureml.core import Experiment
    from azureml.pipeline.core import PipelineRun, PublishedPipeline

    published = _pipeline(pws).publish(name="train", description="nightly", version="1.0")
    assert isinstance(published, PublishedPipeline)
    assert (published.name, published.description, published.version, published.status) == (
        "train",
        "nightly",
        "1.0",
        "Active",
    )
    assert published.total_run_steps == 1 and published.get_step_names() == ["train"]
    assert published.continue_on_step_failure is False and published.graph_id
    (src / "src" / "train.py").write_text(script("edited", "print('edited')\n"))  # after publishing

    run = _finished(published.submit(pws, "published", pipeline_parameters={"lr": 0.5}))
    assert isinstance(run, PipelineRun)
    assert ran(src) == ["train"] and "train lr=0.5 v1" in _log(run)

    again = _finished(Experiment(pws, "published").submit(published, pipeline_parameters={"lr": 0.5}))
    assert ran(src) == []  # the second submit reuses every step
    assert all(s.reused for s in again.get_steps())
    _finished(PublishedPipeline.get(pws, published.id).submit(pws, "published"))
    assert ran(src) == ["train"]  # the default lr: a new value, so it runs
    assert pws.metadata_store.runs_of_published(published.id)[:2] == [run.id, again.id]


def test_get_list_enable_disable(src: Path, pws: Workspace) -> None:
    from azureml.pipeline.core import PublishedPipeline

    first = _pipeline(pws).publish(name="a")
    second = _pipeline(pws).publish(name="b", continue_on_step_failure=True)
    assert [p.name for p in PublishedPipeline.list(pws)] == ["a", "b"]
    assert PublishedPipeline.get(pws, second.id).continue_on_step_failure is True
    assert first.description is None  # as in SDK v1: only what publish() is given

    first.disable()
    assert first.status == "Disabled" and PublishedPipeline.get(pws, first.id).status == "Disabled"
    assert [p.name for p in PublishedPipeline.list(pws)] == ["b"]
    assert [p.name for p in PublishedPipeline.get_all(pws, active_only=False)] == ["a", "b"]
    with pytest.raises(ValueError, match="Disabled"):
        first.submit(pws, "published")
    assert pws.metadata_store.list_runs() == []
    with pytest.raises(ValueError, match="'lrr' does not exist"):
        second.submit(pws, "published", pipeline_parameters={"lrr": 1})
    with pytest.raises(ValueError, match="'lr' has type float"):
        second.submit(pws, "published", pipeline_parameters={"lr": True})
    assert pws.metadata_store.list_runs() == []
    first.enable()
    assert PublishedPipeline.get(pws, first.id).status == "Active"

    target = src / "saved"
    target.mkdir()
    first.save(str(target))
    assert (target / "a.yml").is_file()


@pytest.mark.slow
def test_publish_pipeline_from_a_run_publishes_what_it_ran(src: Path, pws: Workspace) -> None:
    from azureml.core import Experiment

    run = _finished(Experiment(pws, "first").submit(_pipeline(pws)))
    assert ran(src) == ["train"]
    (src / "src" / "train.py").write_text(script("edited", "print('edited')\n"))
    published = run.publish_pipeline(name="from-run", description="the run's", version="2")
    record = pws.metadata_store.get_published_pipeline(published.id)
    assert record is not None and record.source_run_id == run.id
    again = _finished(published.submit(pws, "first"))
    assert ran(src) == []  # the run's own snapshot and parameters: every step reused
    assert all(s.reused for s in again.get_steps())


@pytest.mark.slow
def test_pipeline_endpoint_versions_default_and_submit(src: Path, pws: Workspace) -> None:
    from azureml.core import Experiment
    from azureml.pipeline.core import PipelineEndpoint, PublishedPipeline
    from azureml.pipeline.core.pipeline_endpoint import PipelineIdVersion, PipelineVersion

    v0 = _pipeline(pws).publish(name="v0")
    endpoint = PipelineEndpoint.publish(pws, name="trainer", description="the trainer", pipeline=v0)
    assert (endpoint.name, endpoint.description, endpoint.status, endpoint.get_default_version()) == (
        "trainer",
        "the trainer",
        "Active",
        "0",
    )
    with pytest.raises(ValueError, match="already exists"):
        PipelineEndpoint.publish(pws, name="trainer", description=None, pipeline=v0)
    from_pipeline = PipelineEndpoint.publish(pws, name="direct", description="from a Pipeline", pipeline=_pipeline(pws))
    published = from_pipeline.get_pipeline()
    assert (published.name, published.description, published.status) == ("direct", "from a Pipeline", "Active")
    from_pipeline.disable()

    (src / "src" / "train.py").write_text(script("train2", "import sys\nprint('v2 lr=' + sys.argv[2])\n"))
    v1 = _pipeline(pws).publish(name="v1")
    endpoint.add(v1)
    assert endpoint.get_default_version() == "0"
    assert [(v.version, v.pipeline_id) for v in endpoint.pipeline_version_list] == [("0", v0.id), ("1", v1.id)]
    assert all(isinstance(v, PipelineIdVersion) for v in endpoint.pipeline_version_list)
    versions = endpoint.list_versions()
    assert all(isinstance(v, PipelineVersion) for v in versions)
    assert [(v.version, v.pipeline.name) for v in versions] == [("0", "v0"), ("1", "v1")]
    assert isinstance(endpoint.get_pipeline(), PublishedPipeline) and endpoint.get_pipeline().id == v0.id
    assert endpoint.get_pipeline("1").id == v1.id
    with pytest.raises(ValueError, match="Version 5"):
        endpoint.get_pipeline("5")

    run = _finished(endpoint.submit("ep", pipeline_parameters={"lr": 0.3}))
    assert ran(src) == ["train"] and "train lr=0.3 v1" in _log(run)
    run = _finished(Experiment(pws, "ep").submit(endpoint, pipeline_version="1", pipeline_parameters={"lr": 0.3}))
    assert ran(src) == ["train2"] and "v2 lr=0.3" in _log(run)

    endpoint.set_default(v1)
    assert PipelineEndpoint.get(pws, name="trainer").get_default_version() == "1"
    endpoint.set_default_version("0")
    assert PipelineEndpoint.get(pws, id=endpoint.id).default_version == "0"
    with pytest.raises(ValueError, match="version 9"):
        endpoint.set_default_version("9")
    v2 = _pipeline(pws).publish(name="v2")
    endpoint.add_default(v2)
    assert endpoint.get_default_version() == "2"
    v2.disable()
    assert [p.name for p in endpoint.list_pipelines()] == ["v0", "v1"]
    assert [p.name for p in endpoint.list_pipelines(active_only=False)] == ["v0", "v1", "v2"]

    endpoint.set_name("renamed")
    assert PipelineEndpoint.get(pws, name="renamed").id == endpoint.id
    endpoint.disable()
    with pytest.raises(ValueError, match="must be Active"):
        endpoint.submit("ep")
    assert PipelineEndpoint.list(pws) == [] and len(PipelineEndpoint.list(pws, active_only=False)) == 2
    endpoint.enable()
    endpoint.archive()
    assert endpoint.status == "Disabled" and endpoint.name != "renamed"
    endpoint.reactivate("trainer")
    assert (endpoint.status, endpoint.name) == ("Active", "trainer")
