"""``azureml.widgets.RunDetails`` (a text step table) and ``azureml.data.DataType`` (column type names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import NotSupportedError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")


class FakeRun:
    """The public surface RunDetails reads (as PipelineRun and StepRun provide it)."""

    def __init__(
        self,
        run_id: str,
        status: str,
        *,
        name: str | None = None,
        children: list[FakeRun] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.id = run_id
        self.name = name
        self._status = status
        self._children = children or []
        self._details = {"runId": run_id, "status": status, **(details or {})}

    def get_status(self) -> str:
        return self._status

    def get_children(self) -> list[FakeRun]:
        return self._children

    def get_details(self) -> dict[str, Any]:
        return self._details


def test_run_details_prints_the_step_table(capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.widgets import RunDetails

    steps = [
        FakeRun(
            "s1",
            "Finished",
            name="prepare.py",
            details={
                "startTimeUtc": "2026-01-01T10:00:00+00:00",
                "endTimeUtc": "2026-01-01T10:00:02.5+00:00",
                "reuseReason": "never ran before",
                "properties": {},
            },
        ),
        FakeRun(
            "s2",
            "Finished",
            name="train.py",
            details={
                "startTimeUtc": "2026-01-01T10:00:03+00:00",
                "endTimeUtc": "2026-01-01T10:02:05+00:00",
                "reuseReason": "unchanged",
                "properties": {"azureml.reusedrunid": "old-run"},
            },
        ),
        FakeRun(
            "s3",
            "Failed",
            name="compare.py",
            details={
                "startTimeUtc": "2026-01-01T10:03:00+00:00",
                "endTimeUtc": "2026-01-01T10:03:01+00:00",
                "error": {"message": "compare.py exited with code 1\nTraceback ..."},
            },
        ),
        FakeRun("s4", "Running", name="report.py", details={"startTimeUtc": "2026-01-01T10:03:00+00:00"}),
        FakeRun("s5", "NotStarted", name="publish.py"),
    ]
    RunDetails(FakeRun("p1", "Running", children=steps)).show()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "FakeRun p1: Running"
    assert lines[1].split() == ["Step", "Status", "Duration", "Ran", "or", "reused"]
    assert set(lines[2]) <= {"-", " "}
    table = "\n".join(lines[3:])
    assert "prepare.py" in lines[3] and "2.5 s" in lines[3] and "ran: never ran before" in lines[3]
    assert "2 min 02 s" in lines[4] and "reused old-run: unchanged" in lines[4]
    assert "compare.py exited with code 1" in lines[5] and "Traceback" not in table
    assert "running" in lines[6]
    assert lines[7].split() == ["publish.py", "NotStarted"]


def test_a_reused_steps_reason_names_the_earlier_run_once(capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.widgets import RunDetails

    step = FakeRun(
        "s1",
        "Finished",
        name="train.py",
        details={"reuseReason": "reused run old-run: unchanged", "properties": {"azureml.reusedrunid": "old-run"}},
    )
    RunDetails(FakeRun("p1", "Finished", children=[step])).show()
    row = capsys.readouterr().out.splitlines()[3]
    assert row.endswith("reused run old-run: unchanged") and row.count("old-run") == 1


def test_run_details_of_a_run_without_steps_and_of_an_offline_run(capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Run
    from azureml.widgets import RunDetails

    details = RunDetails(FakeRun("r1", "Completed", name="train"))
    details.show()
    assert "train" in capsys.readouterr().out.splitlines()[3]
    assert details.get_widget_data() == {"run_id": "r1", "status": "Completed", "child_runs": []}
    RunDetails(Run.get_context()).show()
    assert "offline run" in capsys.readouterr().out


def test_data_type_gives_headwaters_column_type_names() -> None:
    from azureml.data import DataType
    from azureml.data.dataset_factory import DataType as FactoryDataType

    assert DataType is FactoryDataType
    assert DataType.to_long() == "int"
    assert DataType.to_float() == "float"
    assert DataType.to_string() == "string"
    assert DataType.to_bool() == "bool"
    assert DataType.to_datetime() == "datetime"
    assert DataType.to_datetime("%d/%m/%Y") == DataType.to_datetime(["%d/%m/%Y"]) == "datetime:%d/%m/%Y"
    with pytest.raises(NotSupportedError):
        DataType.to_datetime(["%Y", "%d/%m/%Y"])
    with pytest.raises(NotSupportedError):
        DataType.to_float(decimal_mark="comma")
    with pytest.raises(NotSupportedError):
        DataType.to_stream(None)


def test_set_column_types_with_data_type_reads_typed_columns(ws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Dataset, Datastore
    from azureml.data import DataType

    gen(tmp_path / "data", {"people.csv": "id,height,born\n1,1.80,01/02/1990\n2,1.65,15/07/1985\n"})
    store = Datastore(ws, "workspaceblobstore")
    store.upload(str(tmp_path / "data"), target_path="people", show_progress=False)
    table = Dataset.Tabular.from_delimited_files(
        [(store, "people/people.csv")],
        set_column_types={
            "id": DataType.to_string(),
            "height": DataType.to_float(),
            "born": DataType.to_datetime("%d/%m/%Y"),
        },
    )
    df = table.to_pandas_dataframe()
    assert list(df["id"]) == ["1", "2"]
    assert df["height"].dtype.kind == "f"
    assert [d.month for d in df["born"]] == [2, 7]
