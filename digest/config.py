"""site.toml: parsed with tomllib, checked against the site schema, frozen into SiteConfig."""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from digest.errors import ContentError, Problem
from digest.located import Loaded, Mark
from digest.schema import SITE
from digest.structure import check

CONFIG_NAME = "site.toml"
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Everything site.toml says, with defaults filled in."""

    root: Path
    title: str
    base_url: str
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    author: str = ""
    cname: str = ""
    output: str = "_site"
    theme: str = "default"
    per_page: int = 10
    jobs: int = 0
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    allow_html: bool = False
    search: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under, always ending in '/': '/digest/'."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def output_dir(self) -> Path:
        # Not resolved: the writer must see (and refuse) an output that is a link.
        return Path(os.path.abspath(self.root / self.output))


_SECTION_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _toml_marks(text: str, loaded: Loaded) -> None:
    """Record where each [section] and key starts; tomllib keeps no positions."""
    section: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _SECTION_RE.match(line):
            section = tuple(match.group(1).split("."))
            loaded.keys.setdefault(section, Mark(number, match.start(1) + 1))
            loaded.values.setdefault(section, Mark(number, match.start(1) + 1))
        elif match := _KEY_RE.match(line):
            path = (*section, match.group(1))
            loaded.keys.setdefault(path, Mark(number, match.start(1) + 1))
            value_col = line.index("=") + 2 + len(line[line.index("=") + 1:]) - len(
                line[line.index("=") + 1:].lstrip())
            loaded.values.setdefault(path, Mark(number, value_col))


def parse_config(text: str, root: Path, src_rel: str = CONFIG_NAME,
                 base_url: str | None = None) -> SiteConfig:
    """Parse site.toml text; raise ContentError naming every problem at its line."""
    try:
        data = tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ContentError([Problem(src_rel, 1, 1, "TOML nested too deeply",
                                    "flatten the nested arrays and tables",
                                    code="toml-syntax")]) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+), column (\d+)", str(exc))
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        raise ContentError([Problem(src_rel, line, col, f"TOML syntax error: {exc}",
                                    "check quotes, brackets and '=' on this line",
                                    code="toml-syntax")]) from None
    loaded = Loaded(data, src_rel)
    _toml_marks(text, loaded)
    if base_url is not None:
        data.setdefault("site", {})["base_url"] = base_url
    problems = check(loaded, SITE)
    site = data.get("site", {})
    timezone = site.get("timezone", "UTC")
    if isinstance(timezone, str):
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(loaded.problem(("site", "timezone"), f"unknown time zone "
                                           f"'{timezone}'", "use an IANA name such as "
                                           "'Europe/Berlin' or 'UTC'", code="timezone"))
    if problems:
        raise ContentError(problems)
    build = data.get("build", {})
    return SiteConfig(
        root=root,
        title=site["title"],
        base_url=site["base_url"] if site["base_url"].endswith("/") else site["base_url"] + "/",
        description=site.get("description", ""),
        language=site.get("language", "en"),
        timezone=timezone,
        author=site.get("author", ""),
        cname=site.get("cname", ""),
        output=build.get("output", "_site"),
        theme=build.get("theme", "default"),
        per_page=build.get("per_page", 10),
        jobs=build.get("jobs", 0),
        max_file_size=build.get("max_file_size", DEFAULT_MAX_FILE_SIZE),
        allow_html=data.get("markdown", {}).get("allow_html", False),
        search=data.get("search", {}).get("enabled", True),
        extra=data.get("extra", {}),
    )


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding site.toml."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ContentError([Problem(CONFIG_NAME, 1, 1, f"no {CONFIG_NAME} in {start} or above",
                                "run digest in a site folder, or create one with "
                                "'digest init DIR'", code="no-config")])


def load_config(root: Path, base_url: str | None = None) -> SiteConfig:
    """Read and parse `root/site.toml`."""
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError([Problem(CONFIG_NAME, 1, 1, f"not UTF-8 text (byte {exc.start})",
                                    "save the file as UTF-8", code="encoding")]) from None
    return parse_config(text.removeprefix("\ufeff"), root, base_url=base_url)
