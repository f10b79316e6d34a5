"""The status vocabulary (:mod:`headwater.status`): SDK v1's words, values that stay plain text, and
no status written as a bare string anywhere else in the package."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import headwater
from headwater.status import (
    ACTIVE,
    SUCCEEDED,
    TERMINAL,
    PipelineRunStatus,
    ReuseBlocker,
    ScriptRunStatus,
    StepRunStatus,
)

PACKAGE = Path(headwater.__file__).parent
WORDS = {s.value for vocabulary in (PipelineRunStatus, StepRunStatus, ScriptRunStatus) for s in vocabulary}
QUOTED = re.compile("[\"']({})[\"']".format("|".join(sorted(WORDS))))


def test_the_three_vocabularies_are_sdk_v1s() -> None:
    assert list(PipelineRunStatus) == ["NotStarted", "Running", "Finished", "Failed", "Canceled"]
    assert list(StepRunStatus) == ["NotStarted", "Queued", "Running", "Finished", "Failed", "Canceled"]
    assert list(ScriptRunStatus) == [
        "NotStarted",
        "Queued",
        "Preparing",
        "Running",
        "Finalizing",
        "Completed",
        "Failed",
        "Canceled",
    ]
    assert {"Finished", "Completed", "Failed", "Canceled"} == TERMINAL
    assert {"Finished", "Completed"} == SUCCEEDED
    assert ACTIVE | TERMINAL == WORDS and not ACTIVE & TERMINAL


def print_text(value: object) -> str:
    out = io.StringIO()
    print(value, file=out)
    return out.getvalue()


def test_a_member_is_its_text_everywhere_it_goes() -> None:
    finished = StepRunStatus.Finished
    # one word across the vocabularies (mypy sees two enums; the point is that they are equal)
    assert finished == "Finished" and finished == PipelineRunStatus.Finished  # type: ignore[comparison-overlap]
    assert str(finished) == f"{finished}" == "Finished"
    assert print_text(finished) == "Finished\n"
    assert type(str(finished)) is str
    assert json.dumps({"status": finished}) == '{"status": "Finished"}'
    # a plain string finds a member used as a key (stored words are read back as str)
    assert "Finished" in TERMINAL and finished in {"Finished"} and {finished: 1}["Finished"] == 1  # type: ignore[index]
    # named like its text: whatever writes an enum by its name writes the same word
    assert all(s.name == s.value for v in (PipelineRunStatus, StepRunStatus, ScriptRunStatus) for s in v)


def test_a_reuse_blocker_is_compared_by_code_and_reads_as_its_message() -> None:
    blocker = ReuseBlocker("outputs-missing", "the outputs of run r1 no longer exist")
    assert blocker.code == "outputs-missing"
    assert str(blocker) == f"{blocker}" == "the outputs of run r1 no longer exist"


def _status_literals(path: Path) -> list[str]:
    """``file:line 'Word'`` for each string literal in ``path`` that is exactly a status word."""
    text = path.read_text(encoding="utf-8")
    if not QUOTED.search(text):  # most files: no need to tokenize
        return []
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING and tok.string.strip("\"'") in WORDS:
            found.append(f"{path.relative_to(PACKAGE)}:{tok.start[0]} {tok.string}")
    return found


def test_no_status_is_written_as_a_bare_string_outside_the_vocabulary() -> None:
    # the step-side runtime's own copy (it runs on Python 3.8, status.py needs 3.11): checked below
    vocabularies = {PACKAGE / "status.py", PACKAGE / "runtime" / "statuses.py"}
    # the same word in another of SDK v1's vocabularies: a pipeline run entity's UploadState
    other_vocabularies = {("server/routes_submit.py", '"Completed"')}
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) if p not in vocabularies for hit in _status_literals(p)]
    found = [hit for hit in found if (hit.split(":")[0], hit.split(" ")[1]) not in other_vocabularies]
    assert found == [], "use headwater.status instead of these literals:\n" + "\n".join(found)


def test_the_runtimes_words_are_the_vocabularys() -> None:
    from headwater.runtime import statuses

    assert StepRunStatus.Running == statuses.RUNNING
    assert (StepRunStatus.Failed, StepRunStatus.Canceled) == statuses.END_STATUSES
    assert statuses.TERMINAL == TERMINAL
    assert (
        ScriptRunStatus.Queued,
        ScriptRunStatus.Preparing,
        ScriptRunStatus.Finalizing,
        ScriptRunStatus.Completed,
    ) == (statuses.QUEUED, statuses.PREPARING, statuses.FINALIZING, statuses.COMPLETED)
    assert PipelineRunStatus.Finished == statuses.FINISHED


def test_the_vocabulary_imports_nothing_but_the_standard_library() -> None:
    """So every layer may import it, the step-side runtime included (and nothing it imports is heavy)."""
    import ast

    tree = ast.parse((PACKAGE / "status.py").read_text(encoding="utf-8"))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert modules <= {"__future__", "dataclasses", "enum", "typing"}, modules
