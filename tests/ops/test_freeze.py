"""Freezing a pipeline: steps point at stored snapshots, which later edits of the sources don't change."""

from __future__ import annotations

from pathlib import Path

from headwater import Workspace
from headwater.graph.spec import PipelineSpec, StepSpec
from headwater.layout import WorkspaceLayout
from headwater.ops.freeze import freeze_spec, frozen_snapshot_ids
from headwater.plan.snapshots import scan
from tests.conftest import gen


def _spec(*folders: Path) -> PipelineSpec:
    return PipelineSpec(
        steps=tuple(
            StepSpec(node_id=f"s{i}", name=f"s{i}", kind="python", source_directory=str(f), script="main.py")
            for i, f in enumerate(folders)
        )
    )


def test_a_frozen_spec_runs_the_stored_snapshot_with_the_same_digest(headwater_home: Path, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"main.py": "print('v1')\n", ".amlignore": "junk/\n", "junk": {"big.bin": "x"}})
    other = gen(tmp_path / "other", {"main.py": "print('other')\n"})
    with Workspace.create("freeze") as ws:
        spec = _spec(src, src, other)
        frozen = freeze_spec(spec, ws.metadata_store, ws.folder)

        snapshots = WorkspaceLayout(ws.folder).snapshots
        folders = [Path(s.source_directory) for s in frozen.steps]
        assert all(f.parent == snapshots for f in folders)
        assert folders[0] == folders[1] != folders[2]
        assert scan(folders[0]).digest == scan(src).digest  # the same files: reuse still matches
        assert not (folders[0] / "junk").exists()  # what .amlignore leaves out is not frozen
        assert frozen_snapshot_ids(frozen, ws.folder) == {folders[0].name, folders[2].name}
        assert ws.metadata_store.has_snapshot(folders[0].name)

        (src / "main.py").write_text("print('v2')\n")  # editing the sources after freezing ...
        assert (folders[0] / "main.py").read_text() == "print('v1')\n"  # ... does not change the frozen copy
        again = freeze_spec(frozen, ws.metadata_store, ws.folder)  # freezing a frozen spec changes nothing
        assert [s.source_directory for s in again.steps] == [str(f) for f in folders]
