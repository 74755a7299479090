"""What lets a build skip work: fingerprints of its inputs, the output's manifest, and
pages of the previous build that can be reused."""

from __future__ import annotations

from pathlib import Path

from digest import __version__
from digest.cache import BuildCache, content_hash
from digest.config import SiteConfig
from digest.render import PageMemo
from digest.sources import SourceSet
from digest.templates import Theme, resolve_theme


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
            parts += [source.src_rel, source.text]
    for folder in (*theme.template_dirs, *theme.static_dirs):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [path.as_posix(), path.read_bytes()]
    return content_hash(*parts)


def manifest(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file, to notice edits to a built site."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            found[path.relative_to(folder).as_posix()] = (info.st_size, info.st_mtime_ns)
    return found


def output_unchanged(folder: Path, recorded: dict[str, tuple[int, int]]) -> bool:
    """True when the built site still holds exactly the files the last build wrote."""
    return folder.is_dir() and manifest(folder) == recorded


def memo_from_output(cache: BuildCache, target: Path, fingerprint: str) -> PageMemo:
    """Reuse pages of the last build into `target`, if the files there are still ours."""
    table = cache.get(str(target), "") or {}

    def load(dest: str) -> bytes | None:
        try:
            data = (target / dest).read_bytes()
        except OSError:
            return None
        return data if content_hash(data) == table[dest][1] else None

    return PageMemo(fingerprint, {d: key for d, (key, _) in table.items()}, load)
