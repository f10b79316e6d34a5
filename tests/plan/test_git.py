"""Git run properties, against real repositories created with the git binary (no mocks)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from headwater.plan.git import git_properties, strip_credentials
from tests.conftest import gen

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")

_ENV_VARS = (
    "AZUREML_GIT_REPOSITORY_URI",
    "AZUREML_GIT_BRANCH",
    "AZUREML_GIT_COMMIT",
    "AZUREML_GIT_DIRTY",
    "AZUREML_GIT_BUILD_ID",
    "AZUREML_GIT_BUILD_URI",
)


@pytest.fixture(autouse=True)
def clean_git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No overrides, and no user or system git config that could change the answers."""
    for var in (*_ENV_VARS, "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit on ``main``: ``steps/train/train.py`` and ``README.md``."""
    root = gen(tmp_path / "repo", {"steps": {"train": {"train.py": "print(1)"}}, "README.md": "r"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_clean_repository(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    assert git_properties(repo / "steps" / "train") == {
        "azureml.git.branch": "main",
        "mlflow.source.git.branch": "main",
        "azureml.git.commit": commit,
        "mlflow.source.git.commit": commit,
        "azureml.git.dirty": "False",
    }


def test_modified_file_inside_the_source_dir_is_dirty(repo: Path) -> None:
    (repo / "steps" / "train" / "train.py").write_text("print(2)")
    assert git_properties(repo / "steps" / "train")["azureml.git.dirty"] == "True"


def test_untracked_file_inside_the_source_dir_is_dirty(repo: Path) -> None:
    (repo / "steps" / "train" / "new.py").write_text("n")
    assert git_properties(repo / "steps" / "train")["azureml.git.dirty"] == "True"


def test_changes_elsewhere_in_the_repository_do_not_count(repo: Path) -> None:
    (repo / "README.md").write_text("edited")
    (repo / "notes.txt").write_text("untracked")
    assert git_properties(repo / "steps" / "train")["azureml.git.dirty"] == "False"
    assert git_properties(repo)["azureml.git.dirty"] == "True"


def test_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    props = git_properties(repo)
    assert "azureml.git.branch" not in props and "mlflow.source.git.branch" not in props
    assert props["azureml.git.commit"] == git(repo, "rev-parse", "HEAD")


def test_repository_without_commits_has_a_branch_but_no_commit(tmp_path: Path) -> None:
    root = gen(tmp_path / "fresh", {"a.py": "a"})
    git(root, "init", "-q", "-b", "trunk")
    assert git_properties(root) == {
        "azureml.git.branch": "trunk",
        "mlflow.source.git.branch": "trunk",
        "azureml.git.dirty": "True",
    }


def test_remote_url_has_its_credentials_stripped(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://alice:s3cr3t-token@git.example.com/team/proj.git")
    props = git_properties(repo)
    assert props["azureml.git.repository_uri"] == "https://git.example.com/team/proj.git"
    assert props["mlflow.source.git.repoURL"] == "https://git.example.com/team/proj.git"
    assert "s3cr3t" not in repr(props)


def test_scp_like_remote_is_kept_as_is(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:team/proj.git")
    assert git_properties(repo)["azureml.git.repository_uri"] == "git@github.com:team/proj.git"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@host/x.git", "https://host/x.git"),
        ("https://ghp_token@github.com/o/r", "https://github.com/o/r"),
        ("http://u:p@host:8080/x", "http://host:8080/x"),
        ("https://host/x.git", "https://host/x.git"),
        ("ssh://git:pw@host/x.git", "ssh://git@host/x.git"),
        ("ssh://git@host:2222/x.git", "ssh://git@host:2222/x.git"),
        ("git@host:x.git", "git@host:x.git"),
        ("/srv/git/x.git", "/srv/git/x.git"),
        ("file:///srv/git/x.git", "file:///srv/git/x.git"),
        ("https://user:p@ss@host/x", "https://host/x"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_environment_overrides_win(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZUREML_GIT_REPOSITORY_URI", "https://bot:tok@ci.example.com/r.git")
    monkeypatch.setenv("AZUREML_GIT_BRANCH", "release")
    monkeypatch.setenv("AZUREML_GIT_COMMIT", "abc123")
    monkeypatch.setenv("AZUREML_GIT_DIRTY", "TRUE")
    monkeypatch.setenv("AZUREML_GIT_BUILD_ID", "42")
    monkeypatch.setenv("AZUREML_GIT_BUILD_URI", "https://ci.example.com/build/42")
    assert git_properties(repo) == {
        "azureml.git.repository_uri": "https://ci.example.com/r.git",
        "mlflow.source.git.repoURL": "https://ci.example.com/r.git",
        "azureml.git.branch": "release",
        "mlflow.source.git.branch": "release",
        "azureml.git.commit": "abc123",
        "mlflow.source.git.commit": "abc123",
        "azureml.git.dirty": "True",
        "azureml.git.build_id": "42",
        "azureml.git.build_uri": "https://ci.example.com/build/42",
    }


def test_partial_override_and_empty_values(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZUREML_GIT_BRANCH", "  ")  # blank: as if unset
    monkeypatch.setenv("AZUREML_GIT_DIRTY", "no")
    props = git_properties(repo)
    assert props["azureml.git.branch"] == "main"
    assert props["azureml.git.dirty"] == "False"
    assert props["azureml.git.commit"] == git(repo, "rev-parse", "HEAD")


def test_not_a_repository_gives_nothing(tmp_path: Path) -> None:
    assert git_properties(gen(tmp_path / "plain", {"a.py": "a"})) == {}
    assert git_properties(tmp_path / "missing") == {}


def test_inside_the_dot_git_folder_is_not_a_work_tree(repo: Path) -> None:
    assert git_properties(repo / ".git") == {}


def test_overrides_apply_outside_a_repository_as_in_sdk_v1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZUREML_GIT_COMMIT", "abc123")
    assert git_properties(gen(tmp_path / "plain", {})) == {
        "azureml.git.commit": "abc123",
        "mlflow.source.git.commit": "abc123",
    }


def test_no_git_binary_gives_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-bin-here"))
    assert git_properties(repo) == {}


def test_git_dir_in_the_environment_does_not_redirect_git(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = gen(tmp_path / "other", {"x": "x"})
    git(other, "init", "-q", "-b", "elsewhere")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert git_properties(repo)["azureml.git.branch"] == "main"


def test_many_folders_match_one_by_one(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git_properties_many (one git status per repository) answers as git_properties does per folder."""
    from headwater.plan.git import git_properties_many

    for sub in ("a", "b", "c/deep", "d"):
        (repo / sub).mkdir(parents=True, exist_ok=True)
        (repo / sub / "x.py").write_text("print(1)\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "folders")
    (repo / "a" / "x.py").write_text("changed\n")  # modified
    (repo / "c" / "deep" / "new.txt").write_text("new\n")  # untracked, nested
    (repo / "d" / "fresh").mkdir()
    (repo / "d" / "fresh" / "f.txt").write_text("untracked folder\n")
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    folders = [
        str(repo),
        str(repo / "a"),
        str(repo / "b"),
        str(repo / "c"),
        str(repo / "c" / "deep"),
        str(repo / "d"),
        str(outside),
    ]
    expected = {f: git_properties(f) for f in folders}
    assert git_properties_many(folders) == expected
    assert expected[str(repo / "a")]["azureml.git.dirty"] == "True"
    assert expected[str(repo / "b")]["azureml.git.dirty"] == "False"
    assert expected[str(repo / "c")]["azureml.git.dirty"] == "True"
    assert expected[str(repo / "d")]["azureml.git.dirty"] == "True"
    assert expected[str(outside)] == {}
    git(repo, "checkout", "-q", "--detach")
    monkeypatch.setenv("AZUREML_GIT_COMMIT", "abc")
    assert git_properties_many(folders) == {f: git_properties(f) for f in folders}
