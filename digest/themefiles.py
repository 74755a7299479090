"""Themes on disk: where a theme's templates and static files come from, and the
content-hashed names its static files are published under.

Apart from `templates` so that a build with nothing to do, which fingerprints the theme's
files, does not import Jinja.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

from digest.errors import DigestError

BUILTIN_THEMES = Path(__file__).resolve().parent / "themes"


class Theme(NamedTuple):
    """Where a theme's templates and static files come from, most specific first."""

    name: str
    template_dirs: tuple[Path, ...]
    static_dirs: tuple[Path, ...]


def resolve_theme(root: Path, name: str) -> Theme:
    """The site's `themes/<name>/`, falling back to the built-in theme of that name and
    finally to the built-in default, so a site can override a single template."""
    candidates = [root / "themes" / name, BUILTIN_THEMES / name, BUILTIN_THEMES / "default"]
    folders: list[Path] = []
    for folder in candidates:
        resolved = folder.resolve()
        if folder.is_dir() and resolved not in [f.resolve() for f in folders]:
            folders.append(folder)
    if not any(f.resolve() != (BUILTIN_THEMES / "default").resolve() for f in folders) \
            and name != "default":
        raise DigestError(f"site.toml: theme '{name}' not found; create themes/{name}/ "
                          "or set theme = \"default\"")
    return Theme(name, tuple(f / "templates" for f in folders if (f / "templates").is_dir()),
                 tuple(f / "static" for f in folders if (f / "static").is_dir()))


def static_files(theme: Theme) -> dict[str, bytes]:
    """Every static file of the theme by relative name, nearer themes winning."""
    files: dict[str, bytes] = {}
    for folder in reversed(theme.static_dirs):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def hashed_name(name: str, content: bytes) -> str:
    """'style.css' -> 'style.1a2b3c4d5e.css', so browsers can cache it for ever."""
    digest = hashlib.sha256(content).hexdigest()[:10]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
