"""Markdown rendering: one configured engine, returning HTML and the links it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

# Schemes a link in content may use; everything else (javascript:, vbscript:, data:,
# file:) is refused at its line instead of being rendered.
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME_RE = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
# What raw HTML may keep when a site opts in with allow_html: no script, no handlers.
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "*": {"lang", "dir"},
}


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    line: int  # 0-based line within the rendered text


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    links: tuple[Link, ...]


def url_scheme(url: str) -> str:
    """The lower-cased scheme of `url`, or '' for relative URLs."""
    compact = re.sub(r"[\x00-\x20]", "", url)
    match = _SCHEME_RE.match(compact)
    return match.group(1).lower() if match else ""


def is_safe_url(url: str) -> bool:
    """True for relative URLs and the schemes in SAFE_SCHEMES."""
    scheme = url_scheme(url)
    return scheme == "" or scheme in SAFE_SCHEMES


@lru_cache(maxsize=2)
def _engine(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html})
    # Let every URL through to the token stream so unsafe ones are reported at their
    # line rather than silently printed as text; rendering drops them below.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def _collect_links(tokens: list, links: list[Link], line: int = 0) -> None:
    for token in tokens:
        where = token.map[0] if token.map else line
        if token.type in ("link_open", "image"):
            attr = "href" if token.type == "link_open" else "src"
            url = str(token.attrGet(attr) or "")
            links.append(Link(url, where))
            if not is_safe_url(url):
                token.attrSet(attr, "#")
        if token.children:
            _collect_links(token.children, links, where)


def render_markdown(text: str, allow_html: bool = False, inline: bool = False) -> Rendered:
    """Render Markdown to HTML; unsafe link targets become '#' and are listed in `links`."""
    md = _engine(allow_html)
    env: dict = {}
    tokens = md.parseInline(text, env) if inline else md.parse(text, env)
    links: list[Link] = []
    _collect_links(tokens, links)
    html = md.renderer.render(tokens, md.options, env)
    if allow_html:
        html = nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES,
                         url_schemes=set(SAFE_SCHEMES), link_rel=None)
    return Rendered(html, tuple(links))
