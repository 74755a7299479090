"""Rebuilds that write only what changed: in-place updates and page keys."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from digest.build import build
from digest.pagekeys import ValueHasher

from .conftest import MINIMAL_SITE

NO_SEARCH = MINIMAL_SITE["site.toml"] + "\n[search]\nenabled = false\n"
SECOND_MD = MINIMAL_SITE["content/articles/talks.md"].replace(
    "Kremlin rejects foreign troops", "Second story").replace("2025-09-05", "2025-09-06")


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _inodes(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def test_an_edit_replaces_only_the_changed_files_in_place(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": NO_SEARCH, "content/articles/second.md": SECOND_MD})
    out = root / "_site"
    build(root, output=out)
    before = _inodes(out)
    sidecar = root / "content/articles/talks.yaml"
    sidecar.write_text(sidecar.read_text().replace("rejected", "refused"))
    assert build(root, output=out).files == len(before)
    after = _inodes(out)
    changed = sorted(d for d in after if after[d] != before[d])
    # The summary is shown on the article page only (feeds carry the body).
    assert changed == ["articles/talks/index.html"]
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_an_update_removes_pages_the_site_no_longer_has(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": NO_SEARCH, "content/articles/second.md": SECOND_MD})
    out = root / "_site"
    build(root, output=out)
    assert (out / "articles/second/index.html").is_file()
    (root / "content/articles/second.md").unlink()
    build(root, output=out)
    assert not (out / "articles/second").exists()  # the page and its emptied folder
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_a_site_touched_by_hand_is_rebuilt_whole(make_site) -> None:
    root = make_site({"site.toml": NO_SEARCH})
    out = root / "_site"
    build(root, output=out)
    (out / "stray.html").write_text("left by hand")
    (out / "elsewhere").symlink_to("/etc")
    sidecar = root / "content/articles/talks.yaml"
    sidecar.write_text(sidecar.read_text().replace("rejected", "refused"))
    build(root, output=out)
    # Not trusted as the previous build's output: staged whole and swapped in.
    assert not (out / "stray.html").exists()
    assert not os.path.lexists(out / "elsewhere")
    assert "refused" in (out / "articles/talks/index.html").read_text()


@dataclass(frozen=True)
class _Card:
    title: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class _Page:
    cards: tuple[_Card, ...]
    body: str


def test_page_keys_follow_values_not_objects() -> None:
    hasher = ValueHasher()
    page = _Page((_Card("A", ("x",)), _Card("B", ())), "<p>hi</p>")
    same = _Page((_Card("A", ("x",)), _Card("B", ())), "<p>hi</p>")
    assert hasher.hash(page) == ValueHasher().hash(same)
    assert hasher.hash(page) != hasher.hash(_Page((_Card("A", ("y",)), _Card("B", ())),
                                                  "<p>hi</p>"))
    assert hasher.hash(("a",)) != hasher.hash((b"a",))
    assert hasher.hash({"page": page}) == hasher.hash({"page": same})
    items = [1, 2]
    first = hasher.hash(items)
    items.append(3)  # lists are hashed again each time: they may change
    assert hasher.hash(items) != first
