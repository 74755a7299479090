"""Atom and JSON Feed 1.1 for the site and an Atom feed per topic. Pure: model -> files.

Entries carry the full annotated text (highlights, notes as footnotes) with every URL
made absolute, since feed readers show it away from the site. Dates come from the
content and carry explicit offsets; nothing here reads the clock.

Entry ids are `tag:` URIs (RFC 4151) minted from the base URL's host and path, the
article's publication day and its slug. Unlike the plain article URL they survive a
move from http to https and say when the name was minted, so they stay valid after
the domain changes hands; both feeds use the same id, so an article is one item
everywhere. Moving the site to another host or path still changes them: keeping them
through such a move needs the authority pinned in site.toml, which is not there yet.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from html import escape, unescape
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from digest import __version__, urls
from digest.annotate import AnnotatedArticle, feed_body_html, pack_two, unpack_one
from digest.markdown import render_markdown
from digest.model import Article, Site
from digest.tuplepickle import pickled_as_tuple
from digest.writer import OutputFile

FEED_SIZE = 50  # newest articles per feed: enough for any reader's backlog
ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# The Unix epoch stands in for "never updated" so an empty feed is still deterministic.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Characters XML 1.0 forbids even as references; content may smuggle them in.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_URL_ATTR = re.compile(r"""(\s(?:href|src)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)""", re.I)
_BYLINE_PREFIX = re.compile(r"^\s*by\s+", re.I)


def feed_rel(topic_slug: str | None = None) -> str:
    """Site-relative URL of the site's Atom feed or of one topic's."""
    return f"{urls.topic_rel(topic_slug)}feed.xml" if topic_slug else "feed.xml"


def feed_links(links: urls.Urls, topic_slug: str | None) -> list[tuple[str, str, str]]:
    """(type, title, href) for `<link rel="alternate">` in a page's head.

    A topic page lists its own feed first, then the site's. Hrefs are absolute so
    feed discovery works wherever the HTML is read.
    """
    found = []
    if topic_slug:
        found.append((ATOM_TYPE, "Atom feed of this topic", links.absolute(feed_rel(topic_slug))))
    found.append((ATOM_TYPE, "Atom feed", links.absolute(feed_rel())))
    found.append((JSON_FEED_TYPE, "JSON Feed", links.absolute("feed.json")))
    return found


class Feed(NamedTuple):
    """One feed of the site, before it is made: what `make` writes depends only on the
    site's settings and topics, the year of its oldest article, `fallback` (for an
    empty feed) and `articles`, so a rebuild can tell when to make it again."""

    dest_rel: str
    source: str
    articles: tuple[Article, ...]
    fallback: dt.datetime
    make: Callable[[], bytes]

    def output(self, key: str = "") -> OutputFile:
        return OutputFile(self.dest_rel, self.make(), self.source, key)


def site_feeds(site: Site, annotated: dict[str, AnnotatedArticle], links: urls.Urls
               ) -> list[Feed]:
    """feed.xml, feed.json and topics/<slug>/feed.xml for every topic."""
    newest = tuple(site.articles[:FEED_SIZE])
    fallback = latest_update(site.articles)
    title = site.config.title
    feeds = [
        Feed(feed_rel(), "Atom feed", newest, fallback, functools.partial(
            atom_feed, site, annotated, links, newest, title, "", fallback)),
        Feed("feed.json", "JSON Feed", newest, fallback,
             functools.partial(json_feed, site, annotated, links, newest)),
    ]
    by_topic: dict[str, list[Article]] = {}
    for article in site.articles:
        for topic_slug in article.topics:
            members = by_topic.setdefault(topic_slug, [])
            if len(members) < FEED_SIZE:
                members.append(article)
    for slug, topic in sorted(site.topics.items()):
        chosen = tuple(by_topic.get(slug, []))
        feeds.append(Feed(feed_rel(slug), f"Atom feed of topic {slug}", chosen, fallback,
                          functools.partial(atom_feed, site, annotated, links, chosen,
                                            f"{topic.title} · {title}", slug, fallback)))
    return feeds


def feed_files(
    site: Site, annotated: dict[str, AnnotatedArticle], links: urls.Urls
) -> list[OutputFile]:
    """Every feed of the site, made."""
    return [feed.output() for feed in site_feeds(site, annotated, links)]


def latest_update(articles: Iterable[Article]) -> dt.datetime:
    """When the newest change among `articles` happened; the epoch when there are none."""
    return max((a.updated for a in articles), default=EPOCH)


def rfc3339(moment: dt.datetime) -> str:
    """'2020-01-13T00:00:00+01:00': seconds precision and an explicit offset, always."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        # The model promises aware datetimes; a naive one here is a bug upstream.
        raise ValueError(f"naive datetime {moment!r} cannot go into a feed")
    return moment.isoformat(timespec="seconds")


def tag_uri(links: urls.Urls, date: str, rel: str) -> str:
    """'tag:example.github.io,2020-01-13:digest/articles/x/' for a site-relative URL.

    `date` is a day ('2020-01-13') or a year ('2019') when the authority held its name.
    """
    parts = urlsplit(links.base_url)
    specific = (parts.path.strip("/") + "/" + rel.lstrip("/")).lstrip("/")
    return f"tag:{parts.hostname or 'localhost'},{date}:{specific}"


def entry_id(links: urls.Urls, article: Article) -> str:
    """The id of an article in every feed: minted from the day it was published."""
    return tag_uri(links, article.date.isoformat(), urls.article_rel(article.slug))


def feed_id(site: Site, links: urls.Urls, rel: str) -> str:
    """The id of a feed: minted from the year of the site's oldest article.

    That year is one in which the authority certainly held its name, and it only moves
    if older articles are back-filled.
    """
    return tag_uri(links, f"{oldest_day(site.articles).year:04d}", rel)


_OLDEST: list[tuple[tuple[Article, ...], dt.date]] = []


def oldest_day(articles: tuple[Article, ...]) -> dt.date:
    """The day of the oldest article; remembered for the last site asked about, since
    every feed of a site asks (a scan of every article per feed)."""
    if not _OLDEST or _OLDEST[0][0] is not articles:
        _OLDEST[:] = [(articles, min((a.date for a in articles), default=EPOCH.date()))]
    return _OLDEST[0][1]


def author_names(site: Site, article: Article | None = None) -> list[str]:
    """Who to credit: the article's byline when it has one, else the site's author."""
    if article is not None and article.byline.strip():
        return [_BYLINE_PREFIX.sub("", article.byline).strip()]
    return [site.config.author or site.config.title]


# Start tags in HTML that markdown-it, nh3 or digest wrote: attribute values there are
# quoted and escape "<" and ">", so a tag ends at the first ">". Comments are skipped
# whole, so a URL-like text inside one is never rewritten. Only tags with an href or
# src are matched (the lookahead): the others, most of an article's tags, have nothing
# to rewrite, and skipping them halved the time this took.
_START_TAG = re.compile(r"<!--.*?-->|<[A-Za-z](?=[^>]*\s(?i:href|src)\s*=)[^>]*>", re.DOTALL)


# A URL with a scheme and a host: urljoin's result for it depends on nothing else of the
# page's URL than the scheme, so it is remembered (sources recur across notes and
# articles).
# (urlsplit drops tabs and line breaks first, so one of those does not count as a host.)
_HAS_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\t\r\n]")


@functools.lru_cache(maxsize=4096)
def _join_absolute(base_scheme: str, url: str) -> str:
    return urljoin(f"{base_scheme}://host/", url)


def absolutize_html(html: str, page_url: str, fragments: dict[str, str] | None = None) -> str:
    """Resolve every href and src in `html` against `page_url`.

    Root-relative links ('/digest/people/x/') gain the scheme and host; fragments
    ('#x') point into the page, since a feed entry has no page of its own, renamed
    through `fragments` where the page calls the target differently.
    """
    renames = fragments or {}
    # What urljoin makes of "#x" is this followed by x, whatever x is (not empty).
    fragment_base = urljoin(page_url, "#_")[:-1]
    base_scheme = urlsplit(page_url).scheme

    def resolve(match: re.Match[str]) -> str:
        raw = match.group(2)
        value = unescape(raw[1:-1] if raw[:1] in "\"'" else raw).strip()
        if value.startswith("#") and value[1:] in renames:
            value = "#" + renames[value[1:]]
        if len(value) > 1 and value[0] == "#":
            absolute = fragment_base + value[1:]
        elif _HAS_HOST.match(value):
            absolute = _join_absolute(base_scheme, value)
        else:
            absolute = urljoin(page_url, value)
        return f'{match.group(1)}"{escape(absolute, quote=True)}"'

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        return text if text.startswith("<!--") else _URL_ATTR.sub(resolve, text)

    return _START_TAG.sub(tag, html)


# An id attribute's value. Searched from its literal "id" (then checked for the space
# before it), which is four times faster than from a leading \s.
_ID_VALUE = re.compile(r"""id\s*=\s*["']([^"']+)["']""")


def _element_ids(html: str) -> list[str]:
    r"""What `\sid\s*=\s*["']([^"']+)["']` finds in `html`, as findall finds it."""
    ids: list[str] = []
    position = 0
    while (match := _ID_VALUE.search(html, position)) is not None:
        start = match.start()
        if start and html[start - 1].isspace():
            ids.append(match.group(1))
            position = match.end()
        else:  # part of a longer name, such as data-id: look again from the next place
            position = start + 1
    return ids


def absolute_feed_html(feed_html: str, body_html: str, page_url: str) -> str:
    """An article's feed HTML (highlights, notes as footnotes) with absolute URLs.

    Footnote links ('#fn-note-1') lead to the note on the article page ('#note-1'):
    readers rarely keep in-entry anchors working, and the page always has the note.
    """
    page_ids = {unescape(m) for m in _element_ids(body_html)}
    renames = {f"fn-{i}": i for i in page_ids}
    return absolutize_html(feed_html, page_url, renames)


@pickled_as_tuple
class PackedEntry(NamedTuple):
    """An article's feed body and Atom entry as one LZ4 block of UTF-8, the body's
    `body_size` bytes first: how the feed store keeps them and page workers send them
    back. One block, since the entry holds the body again (escaped): the two took 5.6 kB
    an article on the benchmark site, against 14.4 kB as text."""

    body_size: int
    blob: bytes

    @classmethod
    def pack(cls, body: str, entry: bytes) -> PackedEntry:
        return cls(*pack_two(body.encode("utf-8"), entry))

    def body(self) -> str:
        return unpack_one(self.blob, self.body_size).decode("utf-8")

    def entry(self) -> bytes:
        return unpack_one(self.blob, self.body_size, second=True)


# What the memos hold: the text, or a PackedEntry that a build brought back from a worker
# or the feed store, unpacked when a feed first asks (most are never asked for again).
_FEED_BODIES: dict[tuple[int, bool, str], tuple[AnnotatedArticle, str | PackedEntry]] = {}


def feed_entry_html(annotated: AnnotatedArticle, allow_html: bool, links: urls.Urls) -> str:
    """What a feed entry carries of an article: its feed body, URLs made absolute.

    Made when a feed first shows the article (most articles are in no feed), then
    remembered by the identity of the frozen annotated article for the other feeds
    that show it and for `digest serve`'s next rebuilds, like `atom_entry`."""
    known = _remembered(annotated, allow_html, links)
    if known is not None:
        return known
    html = absolute_feed_html(feed_body_html(annotated, allow_html), annotated.body_html,
                              links.absolute(urls.article_rel(annotated.article.slug)))
    remember_feed_entry_html(annotated, allow_html, links, html)
    return html


def knows_feed_entry_html(annotated: AnnotatedArticle, allow_html: bool,
                          links: urls.Urls) -> bool:
    """Whether `feed_entry_html` has the body of `annotated` already (unpacked or not)."""
    found = _FEED_BODIES.get((id(annotated), allow_html, links.base_url))
    return found is not None and found[0] is annotated


def _remembered(annotated: AnnotatedArticle, allow_html: bool, links: urls.Urls) -> str | None:
    # Keyed by identity: the entry holds the article, so its id is not reused meanwhile.
    key = (id(annotated), allow_html, links.base_url)
    found = _FEED_BODIES.get(key)
    if found is None or found[0] is not annotated:
        return None
    if isinstance(found[1], PackedEntry):
        found = _FEED_BODIES[key] = (annotated, found[1].body())
    return found[1]  # type: ignore[return-value]  # unpacked above


def remember_feed_entry_html(annotated: AnnotatedArticle, allow_html: bool, links: urls.Urls,
                             html: str | PackedEntry) -> None:
    """What `feed_entry_html` is to return for `annotated` (made by an earlier build or
    elsewhere): the text, or the PackedEntry holding it."""
    if len(_FEED_BODIES) > 50_000:
        _FEED_BODIES.clear()
    _FEED_BODIES[(id(annotated), allow_html, links.base_url)] = (annotated, html)


def forget_entries_but(kept: Iterable[AnnotatedArticle]) -> None:
    """Drop the entries and bodies remembered for articles other than `kept` (the site
    just built). Under `digest serve` an edit to a registry or a setting makes every
    article anew, and each such edit left a feed's worth of superseded articles alive
    until the memos filled up."""
    alive = {id(annotated) for annotated in kept}
    _CONTEXTS.clear()  # (they hold the site's articles)
    _CONTEXTS_OF.clear()
    for memo in (_FEED_BODIES, _ENTRIES):
        for key in [key for key, (annotated, _) in memo.items() if id(annotated) not in alive]:
            del memo[key]


def summary_html(site: Site, article: Article, links: urls.Urls) -> str:
    """The standfirst, or else the editor's summary rendered from Markdown."""
    if article.standfirst:
        return escape(article.standfirst)
    if article.summary:
        html = render_markdown(article.summary, site.config.allow_html).html
        return absolutize_html(html, links.absolute(urls.article_rel(article.slug)))
    return ""


def _x(text: str) -> str:
    """Text escaped for XML content and double-quoted attributes."""
    return escape(_XML_ILLEGAL.sub("", text), quote=True)


def _person(name: str, uri: str = "") -> str:
    uri_el = f"<uri>{_x(uri)}</uri>" if uri else ""
    return f"<name>{_x(name)}</name>{uri_el}"


def atom_feed(
    site: Site,
    annotated: dict[str, AnnotatedArticle],
    links: urls.Urls,
    articles: Sequence[Article],
    title: str,
    topic_slug: str,
    fallback: dt.datetime,
) -> bytes:
    """One Atom document (RFC 4287) holding `articles`, newest first."""
    config = site.config
    self_rel = feed_rel(topic_slug or None)
    home = links.absolute(urls.topic_rel(topic_slug) if topic_slug else "")
    updated = latest_update(articles) if articles else fallback
    description = site.topics[topic_slug].description if topic_slug else config.description
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="{ATOM_NS}" xml:lang="{_x(config.language)}">',
        f"  <id>{_x(feed_id(site, links, self_rel))}</id>",
        f"  <title>{_x(title)}</title>",
    ]
    if description:
        lines.append(f"  <subtitle>{_x(description)}</subtitle>")
    lines += [
        f"  <updated>{rfc3339(updated)}</updated>",
        f'  <link rel="self" type="{ATOM_TYPE}" href="{_x(links.absolute(self_rel))}"/>',
        f'  <link rel="alternate" type="text/html" href="{_x(home)}"/>',
        f"  <author>{_person(config.author or config.title, links.absolute(''))}</author>",
        f'  <generator version="{_x(__version__)}">digest</generator>',
    ]
    # Entries are kept as UTF-8 (see `atom_entry`): the topic feeds of a large site hold
    # tens of megabytes of them, encoded once rather than once per feed that shows them.
    parts = ["\n".join(lines).encode("utf-8")]
    parts += [atom_entry(site, annotated[article.slug], links) for article in articles]
    parts.append(b"</feed>\n")
    return b"\n".join(parts)


_ENTRIES: dict[tuple[object, ...], tuple[AnnotatedArticle, bytes | PackedEntry]] = {}
# The contexts of the last site asked about, by article identity (an article sits in
# several feeds, and each entry's context is looked up for each).
_CONTEXTS: dict[int, tuple[Article, tuple[object, ...]]] = {}
_CONTEXTS_OF: list[Site] = []


def atom_entry_context(site: Site, article: Article, links: urls.Urls) -> tuple[object, ...]:
    """What an article's Atom entry is made from besides the article and its feed body:
    the settings it shows (the base URL, whether raw HTML is allowed) and its topics'
    titles. An entry kept under another context is made again. (The site's title and
    author are not in an entry: it credits the byline, or nobody.)"""
    if not _CONTEXTS_OF or _CONTEXTS_OF[0] is not site:
        _CONTEXTS.clear()
        _CONTEXTS_OF[:] = [site]
    known = _CONTEXTS.get(id(article))
    if known is not None and known[0] is article and known[1][0] == links.base_url:
        return known[1]
    context = (links.base_url, site.config.allow_html,
               tuple(site.topics[t].title if t in site.topics else t for t in article.topics))
    _CONTEXTS[id(article)] = (article, context)
    return context


def _entry_key(site: Site, annotated: AnnotatedArticle, links: urls.Urls) -> tuple[object, ...]:
    return (*atom_entry_context(site, annotated.article, links), id(annotated))


def atom_entry(site: Site, annotated: AnnotatedArticle, links: urls.Urls) -> bytes:
    """One Atom entry, in UTF-8; remembered, since an article sits in several feeds and
    `digest serve` rebuilds every feed after each save.

    Remembered by the identity of the (frozen) annotated article, which `digest serve`
    keeps while its files are unchanged: hashing the article and its HTML for the key
    cost more than making the entry. The entry holds the object, so its id cannot be
    taken by another while remembered."""
    key = _entry_key(site, annotated, links)
    found = _ENTRIES.get(key)
    if found is None or found[0] is not annotated:
        if len(_ENTRIES) > 50_000:
            _ENTRIES.clear()
        found = _ENTRIES[key] = (annotated,
                                 _make_atom_entry(site, annotated, links).encode("utf-8"))
    elif isinstance(found[1], PackedEntry):
        found = _ENTRIES[key] = (annotated, found[1].entry())
    return found[1]  # type: ignore[return-value]  # unpacked above


def knows_atom_entry(site: Site, annotated: AnnotatedArticle, links: urls.Urls) -> bool:
    """Whether `atom_entry` has the entry of `annotated` already (unpacked or not)."""
    found = _ENTRIES.get(_entry_key(site, annotated, links))
    return found is not None and found[0] is annotated


def remember_atom_entry(site: Site, annotated: AnnotatedArticle, links: urls.Urls,
                        entry: bytes | PackedEntry) -> None:
    """What `atom_entry` is to return for `annotated` (made by an earlier build or
    elsewhere): the UTF-8 text, or the PackedEntry holding it."""
    if len(_ENTRIES) > 50_000:
        _ENTRIES.clear()
    _ENTRIES[_entry_key(site, annotated, links)] = (annotated, entry)


def _make_atom_entry(site: Site, annotated: AnnotatedArticle, links: urls.Urls) -> str:
    article = annotated.article
    url = links.absolute(urls.article_rel(article.slug))
    parts = [
        "  <entry>",
        f"    <id>{_x(entry_id(links, article))}</id>",
        f"    <title>{_x(article.title)}</title>",
        f'    <link rel="alternate" type="text/html" href="{_x(url)}"/>',
        f"    <published>{rfc3339(article.published)}</published>",
        f"    <updated>{rfc3339(article.updated)}</updated>",
    ]
    if article.byline.strip():
        parts += [f"    <author>{_person(name)}</author>" for name in author_names(site, article)]
    if article.source_url:
        # RFC 4287 4.2.7.2: "via" names the source the entry's information came from.
        parts.append(f'    <link rel="via" type="text/html" href="{_x(article.source_url)}"/>')
    if article.license_url:
        # RFC 4946: the licence a CC-licensed source asks to be carried along.
        parts.append(f'    <link rel="license" href="{_x(article.license_url)}"/>')
    for slug in article.topics:
        topic = site.topics.get(slug)
        parts.append(
            f'    <category term="{_x(slug)}" '
            f'scheme="{_x(links.absolute("topics/"))}" '
            f'label="{_x(topic.title if topic else slug)}"/>'
        )
    summary = summary_html(site, article, links)
    if summary:
        parts.append(f'    <summary type="html">{_x(summary)}</summary>')
    content = feed_entry_html(annotated, site.config.allow_html, links)
    parts.append(f'    <content type="html">{_x(content)}</content>')
    if article.license:
        parts.append(f"    <rights>{_x(article.license)}</rights>")
    parts.append("  </entry>")
    return "\n".join(parts)


def json_feed(
    site: Site,
    annotated: dict[str, AnnotatedArticle],
    links: urls.Urls,
    articles: Sequence[Article],
) -> bytes:
    """A JSON Feed 1.1 document holding `articles`, newest first."""
    config = site.config
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": config.title,
        "home_page_url": links.absolute(""),
        "feed_url": links.absolute("feed.json"),
    }
    if config.description:
        feed["description"] = config.description
    feed["language"] = config.language
    feed["authors"] = [{"name": name, "url": links.absolute("")} for name in author_names(site)]
    feed["items"] = [_json_item(site, annotated[a.slug], links) for a in articles]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(site: Site, annotated: AnnotatedArticle, links: urls.Urls) -> dict[str, object]:
    article = annotated.article
    item: dict[str, object] = {
        "id": entry_id(links, article),
        "url": links.absolute(urls.article_rel(article.slug)),
    }
    if article.source_url:
        item["external_url"] = article.source_url
    item["title"] = article.title
    item["content_html"] = feed_entry_html(annotated, site.config.allow_html, links)
    summary = article.standfirst or _plain(summary_html(site, article, links))
    if summary:
        item["summary"] = summary
    item["date_published"] = rfc3339(article.published)
    item["date_modified"] = rfc3339(article.updated)
    if article.byline.strip():
        item["authors"] = [{"name": name} for name in author_names(site, article)]
    tags = [site.topics[s].title for s in article.topics if s in site.topics]
    if tags:
        item["tags"] = tags
    item["language"] = site.config.language
    return item


def _plain(html: str) -> str:
    """Text of a small HTML fragment, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).split())
