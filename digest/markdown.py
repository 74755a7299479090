"""Markdown rendering: CommonMark to HTML, with every refused link reported at its place.

Two engines give the same HTML. markdown-it-py is the reference: its token stream tells
where each link is written. markdown-it-pyrs (the Rust port, about ten times faster)
renders the common case: text whose links are all safe and spelled plainly, with raw
HTML off; inline text too when it makes one plain paragraph. Anything else (a refused
scheme, an entity or backslash that could spell one, an international domain name,
which the two encode differently, raw HTML to sanitise, the few constructs the fast
engine gets wrong) goes to the reference engine. `DIGEST_MARKDOWN=reference`
uses the reference engine for everything; tests prove both build the same sites.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

try:
    import markdown_it_pyrs
except ImportError:  # a platform without its wheel: the reference engine does it all
    markdown_it_pyrs = None

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


class Link(NamedTuple):
    """A link or image target, and where it is written in the Markdown source."""

    url: str
    line: int  # 0-based line within the Markdown text
    column: int = 1  # 1-based; where the target is written when it can be found


class Rendered(NamedTuple):
    """Markdown rendered: the HTML and the links in it (for the link checks)."""

    html: str
    links: tuple[Link, ...]  # every link of the text, or at least every refused one


# Text that may hold a link the fast engine would drop silently (it refuses these
# schemes by itself) or that only the reference engine can place: spelled out, or
# hidden behind an entity or a backslash escape.
# (Searched in lower-cased text: a case-insensitive pattern took five times as long as
# rendering the article.)
_SCHEME_WORD_RE = re.compile(r"(?:script|file|data)\s*(?:\\?:|&)")
_ENTITY_RE = re.compile(r"&(?:#|[a-zA-Z][a-zA-Z0-9]*;)")
# Where markdown-it-pyrs 0.4 parts from the reference. A code span of three or more
# spaces (line endings count as spaces) loses one at each end, where CommonMark keeps
# a span of spaces only whole. And a backtick after a "[" can make it panic (index out
# of bounds while it scans a link label for code spans: "[`" alone does it), which
# stopped the whole build with a Rust traceback.
_BLANK_CODE_SPAN_RE = re.compile(r"`[ \r\n]{3,}`")
_LIST_MARKER_RE = re.compile(r"(?m)^[ \t]*(?:[-+*]|[0-9]{1,9}[.)])(?:[ \t\r]|$)")
_TAB_INDENT_RE = re.compile(r"(?m)^[ >*+\-.)0-9]*\t")
# White space other than space, tab and line endings, where the engines part. Python's
# str.isspace and Rust's char::is_whitespace disagree on the control separators
# (\x1c-\x1f), and markdown-it-py takes more of these for word boundaries (emphasis)
# and line breaks: a text with any of them, or with a byte order mark, goes to the
# reference. The spaces of Unicode's Zs category differ only where the reference trims
# them (str.strip) and the fast engine keeps them, as CommonMark does: at either end of
# a line or of a block's content (after "- ", "> ", "# ", "1. ").
_ODD_SPACES = "\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029\ufeff"
_WIDE_SPACES = ("\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                "\u200a\u202f\u205f\u3000")
_WIDE_SPACE_AT_AN_END_RE = re.compile(
    f"[{_WIDE_SPACES}][ \\t#]*(?:[\\n\\r]|\\Z)"
    f"|(?:\\A|[\\n\\r])[ \\t>#*+\\-0-9.)]*[{_WIDE_SPACES}]")
# And in a link's target, which the reference trims too: the fast engine's target then
# holds one, percent-encoded.
_WIDE_SPACE_ESCAPES = tuple(quote(c) for c in _WIDE_SPACES)
_URL_ATTR_RE = re.compile(r'<(?:a href|img src)="([^"]*)"')
_PLAIN_MAILTO_RE = re.compile(r"(?i:mailto):[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")
# The part of an address the reference parses as a host (after "//", or after any
# scheme but mailto: tel:@ loses its "@") and writes back in its own way: an
# international name in punycode where the fast engine percent-encodes it, an empty
# user dropped, "a:b:80" reordered, an overlong name cut. Only a plain name with an
# optional port is left to the fast engine. (Its scheme may start with a digit or a
# dot: "80a:b" has one to the reference, which then reads "b" as a host.)
_AUTHORITY_RE = re.compile(r"(?:[A-Za-z0-9+.-]+:)?//([^/?#]*)|[A-Za-z0-9+.-]+:([^/?#]*)")
_PLAIN_AUTHORITY_RE = re.compile(r"[A-Za-z0-9._+-]{0,255}(?::[0-9]*)?")
_LONG_HOST_PART_RE = re.compile(r"[^.:]{64}")
# An autolink's text is shown decoded by the reference (percent escapes, punycode).
_DECODED_AUTOLINK_RE = re.compile(r"<[^<>\s]*(?:%|[xX][nN]--)[^<>\s]*>")
# Emphasis next to a symbol beyond ASCII (currency signs, arrows, emoji): the reference
# counts Unicode's symbols as punctuation when it decides what can open or close
# emphasis, as CommonMark 0.31 does; the fast engine counts only punctuation.
_NON_ASCII_MARK_RE = re.compile(r"[^\x00-\x7f\w\s]")  # punctuation or symbol
# Containers nested about twenty deep: the reference stops nesting there, the fast
# engine does not. Every level takes at least one character of a line's indentation
# or markers, so a line starting with eighteen of them is sent to the reference.
# (Two patterns: led by "\n", the search skips ahead to line breaks; "(?m)^" tries
# every position.)
_DEEP_NESTING_RE = re.compile(r"\n[ \t>*+\-.)0-9]{18}")
_DEEP_NESTING_AT_START_RE = re.compile(r"[ \t>*+\-.)0-9]{18}")
_LONE_CR_RE = re.compile(r"\r(?!\n)")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
# (A backslash and what it escapes go too: an escaped bracket is none.)
_NOT_A_BRACKET_RE = re.compile(r"[^\[\]\\]+|\\.?", re.DOTALL)


def _spaces_read_differently(text: str) -> bool:
    # (Looked for one by one first, about 8 us an article: the pattern takes 130 us.)
    return any(c in text for c in _ODD_SPACES) or (
        any(c in text for c in _WIDE_SPACES) and bool(_WIDE_SPACE_AT_AN_END_RE.search(text)))


def _symbol_beside_delimiter(text: str) -> bool:
    # (Twice as fast as a pattern for the pair: most of these marks are quotes, dashes.)
    for match in _NON_ASCII_MARK_RE.finditer(text):
        at = match.start()
        if ((text[at - 1:at] in ("*", "_") or text[at + 1:at + 2] in ("*", "_"))
                and unicodedata.category(match.group())[0] == "S"):
            return True
    return False


def _image_alt_escaped_or_broken(text: str) -> bool:
    """An image whose paragraph, from the image on, holds a backslash or a hard line
    break: the fast engine drops both from the image's alt text."""
    start = text.find("![")
    while start >= 0:
        end = _BLANK_LINE_RE.search(text, start)
        rest = text[start:end.start() if end else len(text)]
        if "\\" in rest or "  \n" in rest or "  \r" in rest:
            return True
        start = text.find("![", start + 2)
    return False


def _deeply_nested(text: str) -> bool:
    if _DEEP_NESTING_RE.search(text) or _DEEP_NESTING_AT_START_RE.match(text):
        return True
    # Links and images in one another: each needs its "](" (reference links, the other
    # way to nest them, go to the reference with their definitions).
    if text.count("](") < 18:
        return False
    # Each round takes out the innermost pairs of brackets: as many rounds as they nest.
    # (A loop over the brackets took 11 us an article of the Wikinews corpus.)
    brackets = _NOT_A_BRACKET_RE.sub("", text)
    for _ in range(18):
        if "[]" not in brackets:
            return False
        brackets = brackets.replace("[]", "")
    return True


def _read_differently(text: str, lowered: str) -> bool:
    """True for text holding something the checks above name (looked for only where a
    character it needs is in the text, most of them never for plain prose)."""
    return ("\0" in text or ("\r" in text and bool(_LONE_CR_RE.search(text)))
            or "](<" in text
            or (not text.isascii() and ("*" in text or "_" in text)
                and _symbol_beside_delimiter(text))
            or ("![" in text and _image_alt_escaped_or_broken(text))
            or ("<" in text and ("%" in text or "xn--" in lowered)
                and bool(_DECODED_AUTOLINK_RE.search(text)))
            or _deeply_nested(text))


def engine_name() -> str:
    """The engine that renders plain Markdown: part of every cache key."""
    if os.environ.get("DIGEST_MARKDOWN") == "reference" or markdown_it_pyrs is None:
        return "markdown-it-py"
    return "markdown-it-pyrs"


# CommonMark's rules without raw HTML: markdown-it-pyrs' "commonmark" preset passes
# raw HTML through, so the engine is assembled from "zero" rule by rule.
_FAST_RULES = ["blockquote", "code", "fence", "heading", "hr", "lheading", "list",
               "paragraph", "reference", "autolink", "backticks", "emphasis", "entity",
               "escape", "image", "link", "newline"]


@lru_cache(maxsize=1)
def _fast_engine() -> object:
    engine = markdown_it_pyrs.MarkdownIt("zero")  # type: ignore[union-attr]
    engine.enable_many(_FAST_RULES)
    return engine


def _render_fast(text: str) -> str | None:
    """The fast engine's HTML when it is certain to equal the reference's, else None."""
    lowered = text.lower()
    # (The words first: three substring searches cost less than one regex search.)
    if (("script" in lowered or "file" in lowered or "data" in lowered)
            and _SCHEME_WORD_RE.search(lowered)) or ("&" in text and _ENTITY_RE.search(text)):
        return None
    # Reference definitions ("[x]: url") are read differently in several ways (a
    # backslash in them, a title on the next line, an unclosed inline link beside them).
    if "]:" in text or _spaces_read_differently(text) or _read_differently(text, lowered):
        return None
    if "`" in text and (("[" in text and "`" in text[text.index("[") + 1:])
                        or _BLANK_CODE_SPAN_RE.search(text)):
        return None
    try:
        html: str = _fast_engine().render(text)  # type: ignore[attr-defined]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - a Rust panic (pyo3's PanicException) is no
        return None        # Exception; the reference engine reads the text instead
    # More differences, seen in the output: an empty block quote is written on two lines,
    # a code block still open at the end of text that ends without a line break gains
    # one. And where the two read the structure differently: a list marker after a
    # block quote (which of them may interrupt the quote's paragraph), a code block in
    # a list item, a tab in a line's indentation or markers, a backslash ending a line
    # in a code span or a link. (Each is looked for only where a character it needs is
    # in the text.)
    if ">" in text and "<blockquote>" in html and (
            "<blockquote>\n</blockquote>" in html or _LIST_MARKER_RE.search(text)
            # a code span going on in a quote's lazy line: its indentation is kept by
            # the reference only
            or ("<code>" in html and "\n " in text)):
        return None
    if "<pre>" in html and (not text.endswith("\n") or "<li>" in html):
        return None
    if ' title=""' in html:  # an empty link title, which the reference leaves out
        return None
    if ("\t" in text and _TAB_INDENT_RE.search(text)) or (
            "\\" in text and ("\\\n" in text or "\\\r" in text)
            and ("`" in text or "](" in text)):
        return None
    for url in _URL_ATTR_RE.findall(html):
        url = unescape(url)
        if not is_safe_url(url):
            return None
        if url[:7].lower() == "mailto:":
            if not _PLAIN_MAILTO_RE.fullmatch(url):
                return None  # the reference reads its domain as a host (punycode, ports)
        elif authority := _AUTHORITY_RE.match(url):
            host = authority.group(1) if authority.group(1) is not None else authority.group(2)
            if not _PLAIN_AUTHORITY_RE.fullmatch(host) or _LONG_HOST_PART_RE.search(host):
                return None
        if "%" in url and any(e in url for e in _WIDE_SPACE_ESCAPES):
            return None
    return html


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
    # Imported when first needed: a rebuild whose Markdown the fast engine renders all
    # of is spared loading markdown-it-py (about 25 ms of every such process).
    from markdown_it import MarkdownIt

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


def _paragraph_content(text: str, html: str) -> str | None:
    """`text` rendered inline, taken from its rendering as a block (`html`), or None.

    The fast engine has no inline mode. But when the block is one paragraph and its
    content is all of `text`, that content went through the same inline rules as an
    inline rendering would. So the text must hold no reference definition (which the
    paragraph would drop; `_render_fast` leaves those to the reference) and must not
    start or end with white space, which a paragraph trims (a byte order mark, which
    JavaScript's trim takes too, never gets here). Tabs, carriage returns and NULs,
    which block parsing may rewrite, are left to the reference too."""
    if (not text or text[0].isspace() or text[-1].isspace()
            or "\t" in text or "\r" in text or "\0" in text):
        return None
    if html.startswith("<p>") and html.endswith("</p>\n") and html.count("<p>") == 1:
        return html[3:-5]
    return None


def render_markdown(text: str, allow_html: bool = False, inline: bool = False) -> Rendered:
    """Render Markdown to HTML; unsafe link targets become '#' and are listed in `links`."""
    if not allow_html and engine_name() == "markdown-it-pyrs":
        html = _render_fast(text)
        if html is not None and inline:
            html = _paragraph_content(text, html)
        if html is not None:
            return Rendered(html, ())  # every link in it is safe
    md = _engine(allow_html)
    env: dict = {}
    tokens = md.parseInline(text, env) if inline else md.parse(text, env)
    links: list[Link] = []
    _collect_links(tokens, links, text.split("\n"))
    if allow_html:
        _defuse_swallowing_tags(tokens)
    html = md.renderer.render(tokens, md.options, env)
    if allow_html:
        import nh3  # only sites that opt in to raw HTML need the sanitiser

        html = nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES,
                         url_schemes=set(SAFE_SCHEMES), link_rel=None)
    return Rendered(html, tuple(links))


def unsafe_links(text: str, inline: bool = False) -> tuple[Link, ...]:
    """The links and images of Markdown `text` whose URL scheme is refused.

    For Markdown fields of sidecars, pages and editions: report each at its place
    (`line`, `column` are relative to the text) instead of letting it render as '#'.
    """
    # A link needs "[" or "<" (links, images, references, autolinks), and a scheme needs
    # ":" or an entity that decodes to one: text without them (most notes and
    # summaries) is not rendered just to find none.
    if not (("[" in text or "<" in text) and (":" in text or "&" in text)):
        return ()
    return tuple(link for link in render_markdown(text, inline=inline).links
                 if not is_safe_url(link.url))
