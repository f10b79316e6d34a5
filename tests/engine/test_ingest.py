"""Ingesting a step's events file into the metadata store."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.engine.ingest import apply_event, ingest_events
from headwater.errors import DataAccessError
from headwater.runtime.context import InputDatasetRef
from headwater.runtime.events import encode_event
from headwater.store.metadata import MetadataStore, sqlite_url
from headwater.store.records import RunRecord
from tests.runtime._step import make_context, run_step

STEP, PIPELINE = "step-run", "pipeline-run"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    """A store holding an experiment, a pipeline run and its step run."""
    with MetadataStore.create(sqlite_url(tmp_path / "m.db")) as s:
        exp = s.get_or_create_experiment("exp")
        s.create_run(RunRecord(id=PIPELINE, experiment_id=exp.id, kind="pipeline", status="Running"))
        s.create_run(RunRecord(id=STEP, experiment_id=exp.id, kind="step", status="Running", parent_id=PIPELINE))
        yield s


def metric(name: str, value: Any, run: str = "self", kind: str = "scalar") -> dict[str, Any]:
    return {"type": "metric", "run": run, "name": name, "kind": kind, "value": value, "description": "", "t": "t0"}


def values(store: MetadataStore, run_id: str, name: str) -> list[Any]:
    return [m.value for m in store.get_metrics(run_id, name)]


def test_a_real_step_process_ends_up_in_the_store(tmp_path: Path, store: MetadataStore) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    context = make_context(tmp_path, inputs={"raw": InputDatasetRef("raw", "download", str(raw), None)})
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "m.txt").write_text("model")
    result = run_step(
        """
        from headwater import Run
        run = Run.get_context()
        run.log('acc', 0.9)
        run.log('acc', 0.95)
        run.log('loss', float('nan'))
        run.parent.log('best', 1)
        run.tag('k', 'v')
        run.parent.tag('winner', 'train')
        run.add_properties({'p': 'x'})
        run.log_row('rows', a=1, b='two')
        run.upload_file('model/m.txt', 'm.txt')
        print(run.input_datasets['raw'])
        """,
        cwd=workdir,
        context=context,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(raw)
    events_file = context.parent / "events.jsonl"
    done = ingest_events(store, STEP, PIPELINE, events_file)
    assert done.problems == []
    assert done.applied == 9 and done.offset == events_file.stat().st_size
    assert values(store, STEP, "acc") == [0.9, 0.95]
    assert math.isnan(values(store, STEP, "loss")[0])
    assert values(store, STEP, "rows") == [{"a": 1, "b": "two"}]
    assert [m.kind for m in store.get_metrics(STEP)] == ["scalar", "scalar", "scalar", "row"]
    assert values(store, PIPELINE, "best") == [1]
    assert store.get_tags(STEP) == {"k": "v"} and store.get_tags(PIPELINE) == {"winner": "train"}
    assert store.get_properties(STEP) == {"p": "x"}
    assert (context.parent / "artifacts" / "model" / "m.txt").read_text() == "model"
    # Nothing new: ingesting again from the returned offset applies nothing twice.
    again = ingest_events(store, STEP, PIPELINE, events_file, done.offset)
    assert again == (done.offset, 0, [])
    assert values(store, STEP, "acc") == [0.9, 0.95]


def test_a_partial_last_line_waits_for_the_next_call(tmp_path: Path, store: MetadataStore) -> None:
    events_file = tmp_path / "events.jsonl"
    first, second = encode_event(metric("acc", 1)), encode_event(metric("acc", 2))
    events_file.write_bytes(first + second[:10])
    done = ingest_events(store, STEP, PIPELINE, events_file)
    assert done.offset == len(first) and done.problems == []
    assert values(store, STEP, "acc") == [1]
    with events_file.open("ab") as fh:
        fh.write(second[10:])
    done = ingest_events(store, STEP, PIPELINE, events_file, done.offset)
    assert done.offset == len(first) + len(second)
    assert values(store, STEP, "acc") == [1, 2]


def test_a_partial_last_line_of_an_ended_step_is_reported(tmp_path: Path, store: MetadataStore) -> None:
    events_file = tmp_path / "events.jsonl"
    events_file.write_bytes(encode_event(metric("acc", 1)) + b'{"type": "met')
    done = ingest_events(store, STEP, PIPELINE, events_file, final=True)
    assert done.offset == events_file.stat().st_size
    assert len(done.problems) == 1 and "incomplete" in done.problems[0]
    assert values(store, STEP, "acc") == [1]


def test_bad_lines_are_skipped_and_reported_the_rest_applied(tmp_path: Path, store: MetadataStore) -> None:
    events_file = tmp_path / "events.jsonl"
    lines = [
        encode_event(metric("acc", 1)),
        b"this is not json\n",
        b"\xff\xfe\n",
        b"\n",
        encode_event({"type": "bogus"}),
        encode_event(metric("acc", 2, kind="histogram")),
        encode_event({"type": "tags", "run": "self", "tags": {"k": ["not", "a", "string"]}}),
        encode_event({"type": "file", "run": "self", "name": "../x", "path": "artifacts/../x"}),
        encode_event({"type": "file", "run": "self", "name": "gone.txt", "path": "artifacts/gone.txt"}),
        encode_event({"type": "properties", "run": "self", "properties": {"p": "1"}}),
        encode_event({"type": "properties", "run": "self", "properties": {"p": "2"}}),
        encode_event(metric("acc", 3)),
    ]
    events_file.write_bytes(b"".join(lines))
    done = ingest_events(store, STEP, PIPELINE, events_file)
    assert values(store, STEP, "acc") == [1, 3]
    assert store.get_properties(STEP) == {"p": "1"}
    assert done.offset == events_file.stat().st_size
    problems = "\n".join(done.problems)
    assert len(done.problems) == 8, problems
    for expected in (
        "not a JSON line",
        "unknown event type 'bogus'",
        "'kind' must be one of",
        "'tags' must map",
        "bad artifact name",
        "gone.txt",
        "Run property 'p' already exists",
    ):
        assert expected in problems
    assert f"{events_file} at byte {len(lines[0])}:" in done.problems[0]


def test_parent_events_need_a_parent(tmp_path: Path, store: MetadataStore) -> None:
    events_file = tmp_path / "events.jsonl"
    events_file.write_bytes(encode_event(metric("best", 1, run="parent")))
    done = ingest_events(store, PIPELINE, None, events_file)
    assert "has no parent" in done.problems[0]
    assert store.get_metrics(PIPELINE) == []


def test_a_missing_events_file_ingests_nothing(tmp_path: Path, store: MetadataStore) -> None:
    assert ingest_events(store, STEP, PIPELINE, tmp_path / "nothing.jsonl", 0) == (0, 0, [])


def test_apply_event_writes_one_event(store: MetadataStore) -> None:
    class NumpyLike:
        def tolist(self) -> list[int]:
            return [1, 2]

    apply_event(store, STEP, PIPELINE, metric("hist", NumpyLike(), kind="list"))
    apply_event(store, STEP, PIPELINE, {"type": "tags", "run": "parent", "tags": {"a": None}})
    apply_event(store, STEP, PIPELINE, {"type": "file", "run": "self", "name": "m.txt", "path": "artifacts/m.txt"})
    assert values(store, STEP, "hist") == [[1, 2]]
    assert store.get_metrics(STEP)[0].logged_at == "t0"
    assert store.get_tags(PIPELINE) == {"a": None}
    with pytest.raises(DataAccessError, match="unknown event type"):
        apply_event(store, STEP, PIPELINE, {"type": "nope"})


def test_remove_tags(tmp_path: Path, store: MetadataStore) -> None:
    events_file = tmp_path / "events.jsonl"
    events_file.write_bytes(
        encode_event({"type": "tags", "run": "self", "tags": {"a": "1", "b": "2"}})
        + encode_event({"type": "remove_tags", "run": "self", "keys": ["a"]})
    )
    done = ingest_events(store, STEP, PIPELINE, events_file)
    assert done.problems == []
    assert store.get_tags(STEP) == {"b": "2"}


def test_event_lines_are_single_json_lines() -> None:
    line = encode_event(metric("text", "two\nlines"))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["value"] == "two\nlines"
