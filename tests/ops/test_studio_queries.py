"""The studio's run listing and a pipeline run's graph, read from a real SQLite store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import ConfigurationError
from headwater.ops.studio_queries import (
    RunsQuery,
    list_runs_page,
    parse_runs_query,
    plan_edges,
    run_graph,
    step_state,
)
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord


def _run(store: MetadataStore, run_id: str, experiment: str, **fields: object) -> RunRecord:
    exp = store.get_or_create_experiment(experiment)
    fields.setdefault("kind", "pipeline")
    fields.setdefault("status", "Finished")
    return store.create_run(RunRecord(id=run_id, experiment_id=exp.id, **fields))  # type: ignore[arg-type]


def _populate(s: MetadataStore) -> MetadataStore:
    for i in range(7):
        _run(
            s,
            f"a{i}",
            "exp-a",
            name=f"pipe {i}",
            status="Failed" if i % 3 == 0 else "Finished",
            created_at=f"2026-01-0{i + 1}T10:00:00+00:00",
        )
    _run(s, "b0", "exp-b", kind="script", status="Completed", created_at="2026-02-01T10:00:00+00:00")
    _run(s, "a0-s1", "exp-a", kind="step", parent_id="a0", status="Finished", reused_run_id="x")
    _run(s, "a0-s2", "exp-a", kind="step", parent_id="a0", status="Failed")
    _run(s, "a0-s3", "exp-a", kind="step", parent_id="a0", status="Finished")
    s.set_tags("a1", {"team": "vision", "azureml.nodeid": "n"})
    s.set_tags("a2", {"team": "nlp"})
    return s


@pytest.fixture
def store(ws: Workspace) -> MetadataStore:
    return _populate(ws.metadata_store)


def test_the_listing_pages_filters_and_sorts_top_level_runs(store: MetadataStore) -> None:
    page = list_runs_page(store, RunsQuery(), page_size=3)
    assert [r.run.id for r in page.rows] == ["b0", "a6", "a5"]  # newest first, no step runs
    assert (page.total, page.pages, page.experiments) == (8, 3, ["exp-a", "exp-b"])
    last = list_runs_page(store, RunsQuery(page=3), page_size=3)
    assert [r.run.id for r in last.rows] == ["a1", "a0"]
    assert last.rows[1].steps == {"Reused": 1, "Failed": 1, "Finished": 1}
    assert list_runs_page(store, RunsQuery(page=99), page_size=3).page == 3  # past the end: the last page

    def ids(**q: object) -> list[str]:
        return [r.run.id for r in list_runs_page(store, RunsQuery(**q)).rows]  # type: ignore[arg-type]

    assert ids(experiment="exp-b") == ["b0"]
    assert ids(experiment="nope") == []
    assert ids(status="Failed") == ["a6", "a3", "a0"]
    assert ids(kind="script") == ["b0"]
    assert ids(tag="team") == ["a2", "a1"]
    assert ids(tag="team=vision") == ["a1"]
    assert ids(since=date(2026, 1, 3), until=date(2026, 1, 4)) == ["a3", "a2"]
    assert ids(sort="created", order="asc")[:2] == ["a0", "a1"]
    assert ids(sort="name", order="asc")[:2] == ["a0", "a1"]
    assert list_runs_page(store, RunsQuery(experiment="exp-a")).rows[5].tags == {
        "team": "vision",
        "azureml.nodeid": "n",
    }


def test_the_query_string_round_trips_and_bad_values_say_what_is_wrong() -> None:
    q = parse_runs_query({"experiment": "e", "status": "Failed", "since": "2026-01-02", "sort": "name", "page": "2"})
    assert q == RunsQuery(experiment="e", status="Failed", since=date(2026, 1, 2), sort="name", page=2)
    assert q.params() == {"experiment": "e", "status": "Failed", "since": "2026-01-02", "sort": "name"}
    assert parse_runs_query({"page": "0", "tag": "  "}) == RunsQuery()
    for bad, word in (({"sort": "size"}, "sort"), ({"since": "yesterday"}, "since"), ({"page": "x"}, "page")):
        with pytest.raises(ConfigurationError, match=word):
            parse_runs_query(bad)


def test_step_states_and_canceled_steps_point_at_the_failure_that_canceled_them(store: MetadataStore) -> None:
    assert [step_state(s, r) for s, r in (("Finished", "x"), ("Finished", None), ("Queued", None))] == [
        "reused",
        "ran",
        "queued",
    ]
    _run(store, "p", "exp-c", status="Failed")
    specs: list[tuple[str, str, str, dict[str, Any]]] = [
        ("p-prep", "prep", "Finished", {"reused_run_id": "old", "reason": "reused run old: unchanged"}),
        ("p-bad", "bad", "Failed", {"error": {"message": "Step 'bad' failed with exit code 3"}}),
        ("p-down", "down", "Canceled", {"error": {"message": "not started: upstream step 'bad' failed"}}),
        ("p-later", "later", "Canceled", {"error": {"message": "it cannot start: an upstream step did not finish"}}),
        ("p-deeper", "deeper", "Canceled", {"error": {"message": "not started: upstream step 'down' was canceled"}}),
    ]
    for i, (run_id, name, status, extra) in enumerate(specs):
        _run(store, run_id, "exp-c", kind="step", parent_id="p", name=name, status=status,
             created_at=f"2026-03-01T10:00:0{i}+00:00", **extra)  # fmt: skip
        store.set_tags(run_id, {"azureml.nodeid": name})
    graph = run_graph(store, store.get_run("p"))  # type: ignore[arg-type]
    nodes = {n.name: n for n in graph.steps}
    assert [n.name for n in graph.steps] == ["prep", "bad", "down", "later", "deeper"]
    assert (nodes["prep"].state, nodes["prep"].reason) == ("reused", "unchanged")
    assert nodes["bad"].root_cause and nodes["bad"].state == "failed"
    for name in ("down", "later", "deeper"):
        assert (nodes[name].cause_id, nodes[name].cause_name) == ("p-bad", "bad"), name
    assert graph.counts() == {"reused": 1, "failed": 1, "canceled": 3}
    assert graph.edges == []  # no plan file


def test_plan_edges_carry_the_output_names_and_control_edges(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    steps = [
        {"node_id": "a", "outputs": [{"name": "raw"}], "inputs": []},
        {"node_id": "b", "outputs": [{"name": "model"}], "inputs": [{"name": "r", "source": {"output": "raw"}}]},
        {
            "node_id": "c",
            "inputs": [{"name": "m", "source": {"output": "model"}}, {"name": "d", "source": {"dataset": {}}}],
            "run_after": ["a"],
        },
    ]
    plan.write_text(json.dumps({"spec": {"steps": steps}}))
    run = RunRecord(id="r", experiment_id="e", kind="pipeline", status="Running", definition={"plan": str(plan)})
    assert plan_edges(run) == [("a", "b", "raw"), ("b", "c", "model"), ("a", "c", "")]
    gone = RunRecord(id="r", experiment_id="e", kind="pipeline", status="Running", definition={"plan": "/nope.json"})
    assert plan_edges(gone) == []


@pytest.mark.slow
@pytest.mark.postgres
def test_the_same_queries_on_postgresql(headwater_home: Path, postgres_url: str) -> None:
    ws = Workspace.create("pg-studio", metadata_url=postgres_url)
    try:
        store = _populate(ws.metadata_store)
        test_the_listing_pages_filters_and_sorts_top_level_runs(store)
        test_step_states_and_canceled_steps_point_at_the_failure_that_canceled_them(store)
    finally:
        ws.close()
