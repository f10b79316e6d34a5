"""The azureml layer against the real SDK v1's API: a ratchet on the gaps, and docs/sdk-v1-conformance.md.

``sdk_v1_snapshot.json`` is the public API of the real packages (azureml-core 1.61.0.post4,
azureml-pipeline-core/-steps 1.62.0, azureml-dataset-runtime 1.62.0.post1), taken by
``scripts/sdk_conformance.py``; no SDK is installed here. ``conformance.py`` says what counts as
implemented, not supported (NotSupportedError with advice) or missing, and what a signature
mismatch is.

The SDK is far from covered today, so the test is a ratchet: ``sdk_v1_known_gaps.json`` lists
today's gaps (module paths that raise ImportError, names and members that are missing, signatures
that differ). A gap not in the list fails (a regression, or a new class written against the wrong
signatures); a listed gap that is closed fails too, so the list only shrinks.

Regenerate:

- the known gaps and the table, after closing gaps: ``.venv/bin/python scripts/sdk_conformance.py --gaps``;
- the snapshot, only when the pins or the module list in ``scripts/sdk_conformance.py`` change:
  ``make conformance-snapshot`` (its own venv in ``.conformance/``, networking off).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat import conformance
from tests.compat.conformance import IMPLEMENTED, MISSING, NOT_SUPPORTED, Param

REGENERATE = "regenerate the list: .venv/bin/python scripts/sdk_conformance.py --gaps"


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    return conformance.load_snapshot()


@pytest.fixture(scope="module")
def report(snapshot: dict[str, Any]) -> Iterator[conformance.Report]:
    """The whole comparison, once for the module's tests that only read it (the layer on meanwhile)."""
    from headwater.compat.activate import shim_path

    from .conftest import _forget_azureml

    _forget_azureml()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "path", [str(shim_path()), *sys.path])
        yield conformance.compare(snapshot)
    _forget_azureml()


def _only(snapshot: dict[str, Any], module: str) -> dict[str, Any]:
    """The snapshot cut down to one module path and its classes (a quick comparison)."""
    names = snapshot["modules"][module]
    keys = {what[6:] for what in names.values() if what.startswith("class ")}
    classes = {key: record for key, record in snapshot["classes"].items() if key in keys}
    return {**snapshot, "modules": {module: names}, "classes": classes, "pipeline_api": []}


@pytest.mark.slow  # the whole comparison: about 2 s
def test_the_layer_has_no_gap_outside_the_known_list_and_the_list_only_shrinks(
    snapshot: dict[str, Any], report: conformance.Report
) -> None:
    conformance.DOC.write_text(conformance.render_table(report, snapshot), encoding="utf-8")
    gaps, known = report.gaps(), conformance.load_known_gaps()
    new = {gap: what for gap, what in gaps.items() if gap not in known}
    closed = sorted(set(known) - set(gaps))
    assert not new, (
        f"{len(new)} new conformance gap(s) against SDK v1 (implement the member with SDK v1's signature, or make it "
        f"raise NotSupportedError with advice; see docs/sdk-v1-conformance.md):\n"
        + "\n".join(f"  {gap}: {what}" for gap, what in new.items())
    )
    assert not closed, f"{len(closed)} known gap(s) are closed, well done; {REGENERATE}\n" + "\n".join(
        f"  {gap}" for gap in closed
    )


def test_the_snapshot_is_the_pinned_sdk_and_covers_what_the_layer_serves(snapshot: dict[str, Any]) -> None:
    from headwater.compat.names import MODULES

    assert snapshot["packages"] == {
        "azureml-core": "1.61.0.post4",
        "azureml-dataset-runtime": "1.62.0.post1",
        "azureml-pipeline-core": "1.62.0",
        "azureml-pipeline-steps": "1.62.0",
    }
    # namespaces; azureml-widgets; azureml_user: put on the compute by SDK v1's ParallelRunStep driver, no package
    other_packages = {"azureml", "azureml.pipeline", "azureml.widgets", "azureml_user", "azureml_user.parallel_run"}
    # azureml-datadrift: another package, not pinned here; tests/sdk/test_datadrift.py holds its signatures
    other_packages |= {
        "azureml.datadrift",
        "azureml.datadrift.datadriftdetector",
        "azureml.datadrift.alert_configuration",
    }
    assert set(MODULES) - other_packages <= set(snapshot["modules"])
    assert "azureml.pipeline.core.schedule" in snapshot["modules"]
    assert set(snapshot["pipeline_api"]) <= set(snapshot["classes"])
    assert Path(conformance.SNAPSHOT).stat().st_size < 400_000


@pytest.mark.usefixtures("azureml_on")
def test_a_member_that_is_gone_is_a_new_gap(snapshot: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import headwater

    monkeypatch.delattr(headwater.Experiment, "get_runs")
    gaps = conformance.compare(_only(snapshot, "azureml.core.experiment")).gaps()
    assert "member azureml.core.experiment.Experiment.get_runs" in gaps
    assert "member azureml.core.experiment.Experiment.get_runs" not in conformance.load_known_gaps()


@pytest.mark.usefixtures("azureml_on")
def test_a_wrong_signature_is_a_new_gap(snapshot: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import headwater

    def submit(self: object, config: object, tags: object = "x", **kwargs: object) -> None:
        """Written against the wrong default."""

    monkeypatch.setattr(headwater.Experiment, "submit", submit)
    gaps = conformance.compare(_only(snapshot, "azureml.core.experiment")).gaps()
    assert gaps["signature azureml.core.experiment.Experiment.submit"] == "'tags' defaults to 'x' (SDK v1: None)"


@pytest.mark.usefixtures("azureml_on")
def test_a_module_path_that_stops_importing_is_a_new_gap(snapshot: dict[str, Any]) -> None:
    cut = _only(snapshot, "azureml.core.experiment")
    cut["modules"]["azureml.core.no_such_module"] = {"Thing": "class azureml.core.no_such_module.Thing"}
    report = conformance.compare(cut)
    assert report.modules["azureml.core.no_such_module"] == MISSING
    assert "module azureml.core.no_such_module" in report.gaps()
    assert report.names["azureml.core.no_such_module.Thing"] == MISSING


@pytest.mark.slow
def test_stand_ins_and_not_supported_members_count_as_not_supported(report: conformance.Report) -> None:
    hyperdrive = report.classes["azureml.pipeline.steps.hyper_drive_step.HyperDriveStep"]
    assert hyperdrive.status == NOT_SUPPORTED
    assert {m.status for m in hyperdrive.members.values()} == {NOT_SUPPORTED}
    datastore = report.classes["azureml.core.datastore.Datastore"]
    assert datastore.members["register_dbfs"].status == NOT_SUPPORTED  # def ...: _not_supported(...)
    assert datastore.members["register_azure_blob_container"].status == IMPLEMENTED
    assert not any(gap.endswith("HyperDriveStep.get") for gap in report.gaps())


def test_not_supported_is_read_from_the_code() -> None:
    from headwater.errors import NotSupportedError

    def raises(x: int) -> None:
        """Doc."""
        raise NotSupportedError("f is not supported.", hint="Use g.")

    def helper(x: int) -> None:
        _not_supported("f")

    def late(x: int) -> None:
        if x:
            return None
        raise NotSupportedError("only sometimes")

    def _not_supported(what: str) -> None:
        raise NotSupportedError(what)

    assert conformance.raises_not_supported(raises)
    assert conformance.raises_not_supported(helper)
    assert not conformance.raises_not_supported(late)


def test_parameters_compare_by_name_order_and_default() -> None:
    sdk = conformance.parse_params(["workspace", "name", "version=None", "*", "tags=None", "**kwargs"])
    assert sdk[3] == Param("tags", "KEYWORD_ONLY", "None")

    def same(workspace: object, name: object, version: object = None, *, tags: object = None, **kwargs: object) -> None:
        pass

    def extra_optional(
        workspace: object, name: object, version: object = None, tags: object = None, **kw: object
    ) -> None:
        pass

    def swapped(name: object, workspace: object, version: object = None, tags: object = None, **kw: object) -> None:
        pass

    def no_kwargs(workspace: object, name: object, version: object = 1, tags: object = None) -> None:
        pass

    def needs_more(
        workspace: object, name: object, path: object, version: object = None, tags: object = None, **kw: object
    ) -> None:
        pass

    def check(func: object) -> str:
        ours = conformance.signature_params(func, bound=False)
        assert ours is not None
        return conformance.compare_params(sdk, ours)

    assert check(same) == ""
    assert check(extra_optional) == ""
    assert "positional order" in check(swapped)
    assert check(no_kwargs) == "'version' defaults to 1 (SDK v1: None); no **kwargs"
    assert "requires 'path'" in check(needs_more)


@pytest.mark.slow
def test_the_table_is_written_with_the_figures(snapshot: dict[str, Any], report: conformance.Report) -> None:
    text = conformance.render_table(report, snapshot)
    assert "| the pipeline API | 45 |" in text
    assert "### `azureml.pipeline.core.run.StepRun`" in text
    assert "scripts/sdk_conformance.py --gaps" in text and "make conformance-snapshot" in text


def test_the_known_gaps_list_is_sorted_json_with_the_regeneration_command() -> None:
    data = json.loads(conformance.KNOWN_GAPS.read_text(encoding="utf-8"))
    assert list(data["gaps"]) == sorted(data["gaps"])
    assert "scripts/sdk_conformance.py --gaps" in data["about"]
