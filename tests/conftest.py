"""Shared pytest fixtures and options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digest import urls
from digest.pipeline import Analysis, analyse

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden output files instead of comparing against them",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))


MINIMAL_SITE: dict[str, str] = {
    "site.toml": """\
[site]
title = "Test Brief"
description = "A test digest"
base_url = "https://example.org/"
language = "en"
timezone = "UTC"
author = "Test desk"
""",
    "content/topics.yaml": """\
war:
  title: War
  description: Armed conflict.
""",
    "content/people.yaml": """\
dmitry-peskov:
  name: Dmitry Peskov
  role: Kremlin spokesman
""",
    "content/articles/talks.md": """\
---
title: Kremlin rejects foreign troops
date: 2025-09-05
section: World
standfirst: Moscow points to Istanbul.
source: Example Wire
source_url: https://example.com/talks
---

The Kremlin said on Friday that *foreign military contingents* cannot provide
security guarantees for Ukraine.

“Definitely not,” Kremlin spokesman Dmitry Peskov told RIA.
""",
    "content/articles/talks.yaml": """\
summary: The Kremlin rejected foreign troops as guarantees.
topics: [war]
quotes:
  - id: peskov-definitely-not
    text: Definitely not
    speaker: dmitry-peskov
    callout: true
notes:
  - anchor: foreign military contingents cannot provide
    kind: context
    text: Twenty-six nations had pledged troops a day earlier.
    sources: [{title: Example, url: "https://example.com/pledge"}]
events:
  - date: 2022-03-29
    title: Istanbul talks
    id: istanbul-2022
  - date: "2022"
    title: A year-only event
""",
}


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text) under `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path):
    """Create a site in tmp_path from MINIMAL_SITE with `changes` applied (None deletes)."""

    def make(changes: dict[str, str | None] | None = None, base: dict[str, str] | None = None
             ) -> Path:
        files = dict(MINIMAL_SITE if base is None else base)
        for rel, text in (changes or {}).items():
            if text is None:
                files.pop(rel, None)
            else:
                files[rel] = text
        root = tmp_path / "site"
        root.mkdir(exist_ok=True)
        return write_files(root, files)

    return make


class ServedDemo:
    """A copy of the demo site, rebuilt in memory as `digest serve` does after each save,
    with what serve keeps between rebuilds (articles, read files, views, templates)."""

    def __init__(self, folder: Path) -> None:
        import shutil

        from digest.cache import BuildCache
        from digest.pagekeys import ViewCache

        self.root = folder / "demo"
        self.root.mkdir()
        shutil.copy(REPO_ROOT / "site.toml", self.root)
        shutil.copytree(REPO_ROOT / "content", self.root / "content")
        self.cache, self.sources, self.views = BuildCache.in_memory(), {}, ViewCache()
        self.state: Any = None

    def rebuild(self) -> Any:
        from digest.serve import build_in_memory

        self.state = build_in_memory(self.root, False, self.state, self.cache,
                                     self.sources, self.views)
        return self.state


# The demo site analysed once per test module: feeds, JSON-LD and timeline tests read it.
@pytest.fixture(scope="module")
def demo() -> Analysis:
    return analyse(REPO_ROOT)


@pytest.fixture(scope="module")
def links(demo: Analysis) -> urls.Urls:
    return urls.Urls(demo.config.base_url)
