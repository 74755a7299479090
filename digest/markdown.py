"""Markdown rendering: one configured engine, returning HTML and the links it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from urllib.parse import unquote

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


# Elements whose content an HTML parser reads as raw text up to their end tag, and
# the foreign (SVG, MathML) elements the sanitiser drops with everything inside. The
# allowlist keeps none of them; but left open in one raw HTML snippet, one would
# swallow the rest of the article in the sanitiser (an unclosed `<style>` or `<math>`
# empties the page), and they are the usual mutation-XSS vehicles. Their opening tags
# are shown as text instead.
_SWALLOWING_OPEN_RE = re.compile(
    r"<(?=\s*(?:script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext"
    r"|svg|math)(?![\w-]))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Link:
    """A link or image target, and where it is written in the Markdown source."""

    url: str
    line: int  # 0-based line within the Markdown text
    column: int = 1  # 1-based; where the target is written when it can be found


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


def _position(lines: list[str], first: int, last: int, url: str, after: tuple[int, int]
              ) -> tuple[int, int] | None:
    """(0-based line, 0-based column) of `url` as written in lines[first:last], at or after
    `after`. markdown-it keeps block lines only, so the spot inside a paragraph is found
    by searching for the target in the spellings it may have in the source."""
    spellings = [url, unquote(url), unescape(url)]
    scheme = url_scheme(url)
    if scheme:
        spellings.append(scheme)
    best: tuple[int, int] | None = None
    for number in range(max(first, after[0]), min(last, len(lines))):
        line = lines[number].lower()
        start = after[1] if number == after[0] else 0
        hits = [i for i in (line.find(s.lower(), start) for s in spellings if s) if i >= 0]
        if hits:
            best = (number, min(hits))
            break
    return best


def _collect_links(tokens: list, links: list[Link], lines: list[str]) -> None:
    cursor = (0, 0)
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        first, last = token.map if token.map else (0, len(lines))
        cursor = max(cursor, (first, 0))
        for child in token.children:
            if child.type not in ("link_open", "image"):
                continue
            attr = "href" if child.type == "link_open" else "src"
            url = str(child.attrGet(attr) or "")
            # After the previous link of its block, else anywhere in the block, else
            # anywhere (a reference definition `[r]: url` stands apart).
            found = (_position(lines, first, last, url, cursor)
                     or _position(lines, first, last, url, (first, 0))
                     or _position(lines, 0, len(lines), url, (0, 0)))
            if found is None:
                links.append(Link(url, first, 1))
            else:
                links.append(Link(url, found[0], found[1] + 1))
                if first <= found[0] < last:
                    cursor = (found[0], found[1] + 1)
            if not is_safe_url(url):
                child.attrSet(attr, "#")


def _defuse_swallowing_tags(tokens: list) -> None:
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            token.content = _SWALLOWING_OPEN_RE.sub("&lt;", token.content)
        if token.children:
            _defuse_swallowing_tags(token.children)


def render_markdown(text: str, allow_html: bool = False, inline: bool = False) -> Rendered:
    """Render Markdown to HTML; unsafe link targets become '#' and are listed in `links`."""
    md = _engine(allow_html)
    env: dict = {}
    tokens = md.parseInline(text, env) if inline else md.parse(text, env)
    links: list[Link] = []
    _collect_links(tokens, links, text.split("\n"))
    if allow_html:
        _defuse_swallowing_tags(tokens)
    html = md.renderer.render(tokens, md.options, env)
    if allow_html:
        html = nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES,
                         url_schemes=set(SAFE_SCHEMES), link_rel=None)
    return Rendered(html, tuple(links))


def unsafe_links(text: str, inline: bool = False) -> tuple[Link, ...]:
    """The links and images of Markdown `text` whose URL scheme is refused.

    For Markdown fields of sidecars, pages and editions: report each at its place
    (`line`, `column` are relative to the text) instead of letting it render as '#'.
    """
    return tuple(link for link in render_markdown(text, inline=inline).links
                 if not is_safe_url(link.url))
