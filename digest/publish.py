"""Publish the built site on a `gh-pages` branch, and the GitHub Pages workflow.

`publish` commits the site folder with git plumbing alone: blobs from
`hash-object --no-filters`, a tree built in a throw-away index, `commit-tree`, then
`update-ref`. The working tree, the real index and the current branch are never
touched, the bytes are committed exactly as built (no ignore rules, no line-ending or
clean filters), and every step is one git process whatever the size of the site.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from digest.errors import DigestError

log = logging.getLogger(__name__)

WORKFLOW_REL = ".github/workflows/pages.yml"

# The workflow `digest init` writes for a new site; the repository's own
# .github/workflows/pages.yml is this text (a test keeps the two identical).
PAGES_WORKFLOW = """\
# Build the site with digest and deploy it to GitHub Pages.
# In the repository's Settings > Pages, set Source to "GitHub Actions".
name: Deploy to GitHub Pages

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

# One deployment at a time; a running one finishes rather than being cancelled.
concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v7
      - uses: actions/setup-python@v7
        with:
          python-version: "3.11"
      - id: pages
        uses: actions/configure-pages@v6
      - name: Install digest
        # requirements.txt says where digest comes from: "." in digest's own
        # repository, a git URL or package index name in a site made by `digest init`.
        run: python -m pip install -r requirements.txt
      - name: Build the site
        # Links follow the URL Pages serves the site from (a project site lives
        # under /<repository>/, a custom domain at its root).
        env:
          BASE_URL: ${{ steps.pages.outputs.base_url }}
        run: digest build --base-url "$BASE_URL"
      - uses: actions/upload-pages-artifact@v5
        with:
          path: _site
          # Since v4 dotfiles are dropped unless asked for; _site holds only what
          # digest built (.nojekyll, and .well-known/ if a site adds one).
          include-hidden-files: true

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v5
"""

_ZERO_OID = ""  # update-ref's "must not exist yet" old value


def _git(
    root: Path, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            input=input,
            capture_output=True,
            env=dict(env) if env else None,
            check=False,
        )
    except FileNotFoundError:
        raise DigestError("git is not installed or not on PATH: install git to publish") from None


def _git_out(
    root: Path, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> str:
    """Run git and return its stdout; any failure is a DigestError quoting git."""
    done = _git(root, *args, input=input, env=env)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise DigestError(f"git {args[0]} failed: {said}")
    return done.stdout.decode("utf-8", "replace").strip()


def _resolve(root: Path, ref: str) -> str:
    """The commit `ref` names, or '' when there is none."""
    done = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else ""


def _site_files(site_dir: Path) -> list[tuple[str, Path]]:
    """(path in the tree, file) for every file of the site, sorted."""
    found = []
    for folder, dirs, names in os.walk(site_dir):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in names:
            path = Path(folder) / name
            rel = path.relative_to(site_dir).as_posix()
            if "\n" in rel:
                raise DigestError(f"cannot publish {path}: its name holds a line break")
            found.append((rel, path))
    return sorted(found)


def publish(
    root: Path,
    site_dir: Path,
    *,
    remote: str = "origin",
    branch: str = "gh-pages",
    message: str | None = None,
    push: bool = True,
) -> str:
    """Commit `site_dir` as the whole tree of `branch` and push it; return the commit sha.

    The new commit's parent is the branch's previous commit (the remote-tracking one
    after a fresh clone), so history grows and the push is a fast-forward. A site
    identical to the last published one makes no new commit.
    """
    root = root.resolve()
    site_dir = site_dir.resolve()
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise DigestError(
            f"not a git repository: {root}; run 'git init' or publish from "
            "a clone of your site's repository"
        )
    if push and remote not in _git_out(root, "remote").split():
        raise DigestError(
            f"no git remote '{remote}': add one with 'git remote add {remote} "
            "URL' or pass --no-push"
        )
    ref = f"refs/heads/{branch}"
    if _git(root, "check-ref-format", ref).returncode != 0:
        raise DigestError(f"'{branch}' is not a valid branch name; choose one such as gh-pages")
    if _git(root, "symbolic-ref", "--quiet", "HEAD").stdout.decode().strip() == ref:
        raise DigestError(
            f"'{branch}' is the branch checked out here; switch to your "
            "source branch first ('git switch main')"
        )
    files = _site_files(site_dir) if site_dir.is_dir() else []
    if not files:
        raise DigestError(f"no built site in {site_dir}: run 'digest build' first")

    tree = _write_tree(root, files)
    local = _resolve(root, ref)
    parent = local or _resolve(root, f"refs/remotes/{remote}/{branch}")
    if parent and _git_out(root, "rev-parse", f"{parent}^{{tree}}") == tree:
        log.info("the site is unchanged since %s; no new commit", parent[:10])
        commit = parent
    else:
        text = message or _default_message(root)
        args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
        commit = _git_out(root, *args, input=text.encode("utf-8"))
    if commit != local:
        _git_out(root, "update-ref", "-m", "digest publish", ref, commit, local or _ZERO_OID)
    if push:
        done = _git(root, "push", "--quiet", remote, f"{ref}:{ref}")
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip()
            raise DigestError(
                f"git push to '{remote}' failed: {said}\nthe commit {commit[:10]} "
                f"is on the local '{branch}' branch; fetch and retry, or push "
                "it yourself"
            )
    log.info("published %d files as %s on %s", len(files), commit[:10], branch)
    return commit


def _write_tree(root: Path, files: list[tuple[str, Path]]) -> str:
    """Store every file as a blob and return the tree holding them (plus .nojekyll)."""
    paths = "".join(f"{path}\n" for _, path in files).encode("utf-8")
    blobs = _git_out(
        root, "hash-object", "-w", "--no-filters", "--stdin-paths", input=paths
    ).split()
    entries = dict(zip((rel for rel, _ in files), blobs, strict=True))
    if ".nojekyll" not in entries:
        # Without it GitHub Pages runs Jekyll, which drops files starting with '_'.
        entries[".nojekyll"] = _git_out(root, "hash-object", "-w", "--stdin", input=b"")
    records = "".join(f"100644 {sha}\t{rel}\0" for rel, sha in sorted(entries.items()))
    with tempfile.TemporaryDirectory(prefix="digest-publish-") as scratch:
        # A private index: the repository's own index and working tree stay as they are.
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git_out(
            root,
            "update-index",
            "-z",
            "--add",
            "--index-info",
            input=records.encode("utf-8"),
            env=env,
        )
        return _git_out(root, "write-tree", env=env)


def _default_message(root: Path) -> str:
    head = _git(root, "rev-parse", "--short", "HEAD").stdout.decode().strip()
    return f"Publish site built from {head}" if head else "Publish site"
