"""benchmarks/run.py: its report names the code it measured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _described(root: Path) -> str:
    # In its own process: importing run.py changes sys.path and stops bytecode writing.
    code = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "import run; print(run.checkout_description(Path(sys.argv[2])))")
    # Git must not find a repository above the temporary folder.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(root.parent)}
    done = subprocess.run([sys.executable, "-c", code, str(BENCHMARKS), str(root)],
                          capture_output=True, text=True, timeout=120, check=True, env=env)
    return done.stdout.strip()


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_report_names_the_commit_and_whether_it_was_changed(tmp_path: Path) -> None:
    assert _described(tmp_path) == "not a git checkout"
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org",
         "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD")
    assert _described(tmp_path) == f"commit {head} (clean)"
    (tmp_path / "a.txt").write_text("two\n")
    assert _described(tmp_path) == f"commit {head} (with uncommitted changes)"
