"""Discover and read the site's source files; the only module that reads content/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from digest.config import SiteConfig
from digest.errors import Problem


@dataclass(frozen=True, slots=True)
class SourceText:
    """One source file's text, with its path relative to the site root."""

    src_rel: str
    text: str


@dataclass(frozen=True, slots=True)
class SourceSet:
    """Every content file of the site, found and read."""

    articles: tuple[SourceText, ...]
    sidecars: dict[str, SourceText]  # by stem
    topics: SourceText | None
    people: SourceText | None
    pages: tuple[SourceText, ...]
    editions: tuple[SourceText, ...]


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def read_source(path: Path, root: Path, max_size: int) -> SourceText | Problem:
    """Read one UTF-8 file, refusing links out of the project, huge files and bad bytes."""
    src_rel = _rel(path, root)
    resolved = path.resolve()
    if path.is_symlink() and not resolved.is_relative_to(root.resolve()):
        return Problem(src_rel, 1, 1, f"symbolic link points outside the project ({resolved})",
                       "copy the file into the project instead of linking to it",
                       code="symlink")
    size = path.stat().st_size
    if size > max_size:
        return Problem(src_rel, 1, 1, f"file is {size} bytes, over the limit of {max_size}",
                       "split it, or raise max_file_size under [build] in site.toml",
                       code="too-large")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(src_rel, data.count(b"\n", 0, exc.start) + 1, 1,
                       f"not valid UTF-8 (byte offset {exc.start})",
                       "save the file as UTF-8", code="encoding")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return Problem(src_rel, line, 1, "file contains a NUL character",
                       "remove it; it is not text", code="encoding")
    return SourceText(src_rel, text)


def _files(folder: Path, suffix: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == suffix and p.is_file()
                  and not p.name.startswith("."))


def discover(config: SiteConfig) -> tuple[SourceSet, list[Problem]]:
    """Find and read every content file; unreadable ones become problems."""
    root = config.root
    content = config.content_dir
    problems: list[Problem] = []
    _refuse_outside_links(content, root, problems)

    def read_all(paths: list[Path]) -> list[SourceText]:
        texts = []
        for path in paths:
            result = read_source(path, root, config.max_file_size)
            if isinstance(result, Problem):
                problems.append(result)
            else:
                texts.append(result)
        return texts

    articles_dir = content / "articles"
    articles = read_all(_files(articles_dir, ".md"))
    sidecar_paths = _files(articles_dir, ".yaml") + _files(articles_dir, ".yml")
    sidecars = {Path(s.src_rel).stem: s for s in read_all(sidecar_paths)}
    registries = {}
    for name in ("topics", "people"):
        path = content / f"{name}.yaml"
        found = read_all([path]) if path.is_file() else []
        registries[name] = found[0] if found else None
    return SourceSet(
        articles=tuple(articles),
        sidecars=sidecars,
        topics=registries["topics"],
        people=registries["people"],
        pages=tuple(read_all(_files(content / "pages", ".md"))),
        editions=tuple(read_all(_files(content / "digests", ".yaml"))),
    ), problems


def _refuse_outside_links(folder: Path, root: Path, problems: list[Problem]) -> None:
    """Symbolic links anywhere under `folder` must stay inside the project."""
    if not folder.is_dir():
        return
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                problems.append(Problem(
                    _rel(path, root), 1, 1,
                    f"symbolic link points outside the project ({path.resolve()})",
                    "copy the file into the project instead of linking to it", code="symlink"))
                if name in dirnames:
                    dirnames.remove(name)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Split `---` YAML front matter off Markdown: (yaml or None, body, body's first line)."""
    if not text.startswith("---\n"):
        return None, text, 1
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4:end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        return None, text, 1
    front = text[4:end + 1]
    body = text[end + 5:]
    body_line = text.count("\n", 0, end + 5) + 1
    return front, body, body_line
