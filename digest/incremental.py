"""What lets a build skip work: fingerprints of its inputs and the output's manifest,
which tells whether the live site is still exactly what the previous build wrote."""

from __future__ import annotations

import os
from pathlib import Path

from digest import __version__
from digest.cache import content_hash
from digest.config import SiteConfig
from digest.sources import SourceSet
from digest.themefiles import Theme, resolve_theme


def theme_fingerprint(theme: Theme, config: SiteConfig, extra: object) -> str:
    """What every page depends on besides its own values: templates, config, version."""
    parts: list[str | bytes] = [__version__, repr(config), repr(extra)]
    for folder in theme.template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [path.as_posix(), path.read_bytes()]
    return content_hash(*parts)



def inputs_fingerprint(config: SiteConfig, sources: SourceSet, options: object) -> str:
    """Everything a build reads: when it is unchanged, so is the site."""
    theme = resolve_theme(config.root, config.theme)
    parts: list[str | bytes] = [__version__, repr(config), repr(options)]
    for source in (*sources.articles, *sources.sidecars.values(), sources.topics,
                   sources.people, *sources.pages, *sources.editions):
        if source is not None:
            parts += [source.src_rel, source.digest]
    for folder in (*theme.template_dirs, *theme.static_dirs):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [path.as_posix(), path.read_bytes()]
    return content_hash(*parts)


def manifest(folder: Path) -> dict[str, tuple[int, int]] | None:
    """Size and modification time of every file, to notice edits to a built site; None
    when the folder is missing or holds a symbolic link (a build never makes one, so
    someone else changed the site)."""
    found: dict[str, tuple[int, int]] = {}
    pending = [(str(folder), "")]
    try:
        while pending:
            path, prefix = pending.pop()
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        return None
                    if entry.is_dir():
                        pending.append((entry.path, prefix + entry.name + "/"))
                    else:
                        info = entry.stat()
                        found[prefix + entry.name] = (info.st_size, info.st_mtime_ns)
    except OSError:
        return None
    return found


def updated_manifest(folder: Path, before: dict[str, tuple[int, int]], changed: list[str],
                     removed: list[str]) -> dict[str, tuple[int, int]]:
    """The manifest after an in-place update, statting only the files it touched."""
    after = dict(before)
    for dest in removed:
        after.pop(dest, None)
    for dest in changed:
        info = os.stat(folder / dest)
        after[dest] = (info.st_size, info.st_mtime_ns)
    return after
