"""Atom and JSON Feed output: RFC 4287 and JSON Feed 1.1 rules, checked here.

No feed validator runs offline (the W3C one is a web service and PyPI has no
`feedvalidator`; `jsonfeedvalidator` only knows JSON Feed 1.0), so the rules that
matter are written out below and shared with tests/test_validity.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree as ET

import pytest

from digest import urls
from digest.feeds import (
    EPOCH,
    FEED_SIZE,
    _element_ids,
    absolutize_html,
    feed_entry_html,
    feed_files,
    feed_links,
    forget_entries_but,
    json_feed,
    knows_feed_entry_html,
)
from digest.model import Site
from digest.pipeline import Analysis, analyse, render_files

REPO_ROOT = Path(__file__).resolve().parent.parent
A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ATOM_FEED_CHILDREN = {
    "author",
    "category",
    "contributor",
    "generator",
    "icon",
    "id",
    "link",
    "logo",
    "rights",
    "subtitle",
    "title",
    "updated",
    "entry",
}
ATOM_ENTRY_CHILDREN = {
    "author",
    "category",
    "content",
    "contributor",
    "id",
    "link",
    "published",
    "rights",
    "source",
    "summary",
    "title",
    "updated",
}
TEXT_TYPES = {"text", "html", "xhtml"}


# --- checkers shared with test_validity.py ------------------------------------------


def rfc3339(text: str | None, where: str) -> dt.datetime:
    """Parse an RFC 3339 date-time that must carry an explicit offset."""
    assert text is not None and RFC3339.match(text), f"{where}: not RFC 3339: {text!r}"
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.utcoffset() is not None, f"{where}: no offset in {text!r}"
    return moment


def is_absolute_iri(text: str | None) -> bool:
    parts = urlsplit(text or "")
    return bool(parts.scheme) and (parts.scheme in ("tag", "urn", "mailto") or bool(parts.netloc))


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("href", "src")]


def html_urls(html: str) -> list[str]:
    parser = _Hrefs()
    parser.feed(html)
    parser.close()
    return parser.urls


def _one(parent: ET.Element, name: str, where: str) -> ET.Element:
    found = parent.findall(A + name)
    assert len(found) == 1, f"{where}: needs exactly one atom:{name}, has {len(found)}"
    return found[0]


def _text_construct(element: ET.Element, where: str) -> None:
    kind = element.get("type", "text")
    assert kind in TEXT_TYPES, f"{where}: type={kind!r}"
    if kind == "html":
        for url in html_urls(element.text or ""):
            assert is_absolute_iri(url), f"{where}: relative URL {url!r} in HTML"


def _links(parent: ET.Element, where: str) -> list[ET.Element]:
    links = parent.findall(A + "link")
    for link in links:
        assert is_absolute_iri(link.get("href")), f"{where}: link href {link.get('href')!r}"
        assert set(link.attrib) <= {"href", "rel", "type", "hreflang", "title", "length"}
    alternates = [
        (lk.get("type"), lk.get("hreflang"))
        for lk in links
        if lk.get("rel", "alternate") == "alternate"
    ]
    assert len(alternates) == len(set(alternates)), f"{where}: duplicate alternate links"
    return links


def _persons(parent: ET.Element, where: str) -> int:
    authors = parent.findall(A + "author")
    for author in authors:
        assert (_one(author, "name", where).text or "").strip(), f"{where}: empty author name"
        assert {c.tag for c in author} <= {A + "name", A + "uri", A + "email"}
    return len(authors)


def assert_valid_atom(data: bytes, self_url: str) -> ET.Element:
    """The RFC 4287 rules an Atom feed document must satisfy; returns the feed element."""
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    feed = ET.fromstring(data)  # well-formed, or this raises
    assert feed.tag == A + "feed"
    assert {c.tag for c in feed} <= {A + n for n in ATOM_FEED_CHILDREN}, "unknown element"
    assert is_absolute_iri(_one(feed, "id", "feed").text)
    _text_construct(_one(feed, "title", "feed"), "feed title")
    updated = rfc3339(_one(feed, "updated", "feed").text, "feed updated")
    links = _links(feed, "feed")
    selves = [lk for lk in links if lk.get("rel") == "self"]
    assert len(selves) == 1 and selves[0].get("href") == self_url, "feed needs rel=self"
    assert selves[0].get("type") == "application/atom+xml"
    feed_has_author = _persons(feed, "feed") > 0
    ids = set()
    entry_updates = []
    for number, entry in enumerate(feed.findall(A + "entry"), start=1):
        where = f"entry {number}"
        assert {c.tag for c in entry} <= {A + n for n in ATOM_ENTRY_CHILDREN}, where
        entry_id = _one(entry, "id", where).text
        assert is_absolute_iri(entry_id), f"{where}: id {entry_id!r}"
        assert entry_id not in ids, f"{where}: duplicate id {entry_id}"
        ids.add(entry_id)
        _text_construct(_one(entry, "title", where), where)
        entry_updated = rfc3339(_one(entry, "updated", where).text, where)
        entry_updates.append(entry_updated)
        published = entry.findall(A + "published")
        assert len(published) <= 1
        if published:
            assert rfc3339(published[0].text, where) <= entry_updated
        assert feed_has_author or _persons(entry, where) > 0, f"{where}: no author"
        _persons(entry, where)
        links = _links(entry, where)
        content = entry.findall(A + "content")
        assert len(content) <= 1
        if not content:
            assert any(lk.get("rel", "alternate") == "alternate" for lk in links)
        else:
            _text_construct(content[0], f"{where} content")
        for summary in entry.findall(A + "summary"):
            _text_construct(summary, f"{where} summary")
        for category in entry.findall(A + "category"):
            assert category.get("term"), f"{where}: category without term"
    if entry_updates:
        assert updated == max(entry_updates), "feed updated is not its newest entry's"
    return feed


def assert_valid_json_feed(data: bytes, feed_url: str) -> dict:
    """The JSON Feed 1.1 rules; returns the parsed feed."""
    feed = json.loads(data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert feed["feed_url"] == feed_url
    assert is_absolute_iri(feed["home_page_url"])
    assert "author" not in feed, "1.1 uses 'authors'"
    for author in feed.get("authors", []):
        assert author.get("name") or author.get("url")
    assert isinstance(feed["items"], list)
    ids = set()
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"] not in ids
        ids.add(item["id"])
        assert is_absolute_iri(item["url"])
        assert isinstance(item["content_html"], str) and item["content_html"]
        for url in html_urls(item["content_html"]):
            assert is_absolute_iri(url), f"relative URL {url!r} in {item['id']}"
        rfc3339(item["date_published"], item["id"])
        if "date_modified" in item:
            assert rfc3339(item["date_modified"], item["id"]) >= rfc3339(
                item["date_published"], item["id"]
            )
        assert "author" not in item
        for tag in item.get("tags", []):
            assert isinstance(tag, str)
    return feed


# --- the demo site -------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(demo: Analysis, links: urls.Urls) -> dict[str, bytes]:
    return {f.dest_rel: f.content for f in feed_files(demo.site, demo.annotated, links)}


def test_feed_files_are_the_site_feeds_and_one_per_topic(
    demo: Analysis, files: dict[str, bytes]
) -> None:
    expected = {"feed.xml", "feed.json"} | {f"topics/{s}/feed.xml" for s in demo.site.topics}
    assert set(files) == expected


def test_every_atom_feed_follows_rfc_4287(files: dict[str, bytes], links: urls.Urls) -> None:
    for dest, data in files.items():
        if dest.endswith(".xml"):
            assert_valid_atom(data, links.absolute(dest))


def test_site_feed_holds_the_newest_articles_newest_first(
    demo: Analysis, files: dict[str, bytes], links: urls.Urls
) -> None:
    feed = ET.fromstring(files["feed.xml"])
    hrefs = [e.find(A + "link").get("href") for e in feed.findall(A + "entry")]  # type: ignore[union-attr]
    newest = demo.site.articles[:FEED_SIZE]
    assert hrefs == [links.absolute(urls.article_rel(a.slug)) for a in newest]
    updated = feed.findtext(A + "updated")
    assert updated == max(a.updated for a in demo.site.articles).isoformat()


def test_topic_feed_holds_exactly_the_topics_articles(
    demo: Analysis, files: dict[str, bytes]
) -> None:
    for slug, topic in demo.site.topics.items():
        feed = ET.fromstring(files[f"topics/{slug}/feed.xml"])
        assert feed.findtext(A + "title") == f"{topic.title} · {demo.config.title}"
        terms = [
            [c.get("term") for c in e.findall(A + "category")] for e in feed.findall(A + "entry")
        ]
        assert terms and all(slug in t for t in terms)
        members = [a for a in demo.site.articles if slug in a.topics]
        assert len(terms) == len(members)


def test_entry_content_is_the_annotated_text_with_absolute_urls(
    demo: Analysis, files: dict[str, bytes], links: urls.Urls
) -> None:
    feed = ET.fromstring(files["feed.xml"])
    for entry in feed.findall(A + "entry"):
        link = entry.find(A + "link")
        assert link is not None
        page = link.get("href", "")
        slug = page.rstrip("/").rsplit("/", 1)[1]
        article = demo.site.by_slug[slug]
        html = entry.findtext(A + "content") or ""
        assert html.count("<mark") == len(article.quotes) + len(article.notes)
        assert html.count('<li id="fn-') == len(article.notes)
        body_html = demo.annotated[slug].body_html
        # The very passages the page highlights, in the same pieces.
        marked = re.compile(r"<mark[^>]*>(.*?)</mark>", re.DOTALL)
        assert marked.findall(html) == marked.findall(body_html)
        body_ids = set(re.findall(r' id="([^"]+)"', body_html))
        for url in html_urls(html):
            assert is_absolute_iri(url), url
            if url.startswith(page + "#"):
                # Footnote links lead to the note on the article page, which has it.
                assert url.split("#", 1)[1] in body_ids, url


def test_json_feed_follows_json_feed_1_1(
    demo: Analysis, files: dict[str, bytes], links: urls.Urls
) -> None:
    feed = assert_valid_json_feed(files["feed.json"], links.absolute("feed.json"))
    atom = ET.fromstring(files["feed.xml"])
    # One identity per article, whichever feed a reader follows.
    assert [i["id"] for i in feed["items"]] == [
        e.findtext(A + "id") for e in atom.findall(A + "entry")
    ]
    first = demo.site.articles[0]
    assert feed["items"][0]["date_published"] == first.published.isoformat()
    assert feed["items"][0].get("external_url", "") == first.source_url


def test_ids_are_tag_uris_that_survive_a_move_to_https(demo: Analysis) -> None:
    def ids(base_url: str) -> list[str]:
        site = dataclasses.replace(
            demo.site, config=dataclasses.replace(demo.config, base_url=base_url)
        )
        data = json.loads(json_feed(site, demo.annotated, urls.Urls(base_url), list(site.articles)))
        return [i["id"] for i in data["items"]]

    https = ids("https://example.github.io/digest/")
    assert https == ids("http://example.github.io/digest/")
    article = demo.site.articles[0]
    assert https[0] == (
        f"tag:example.github.io,{article.date.isoformat()}:digest/articles/{article.slug}/"
    )


def test_feeds_are_deterministic(demo: Analysis, links: urls.Urls, files: dict[str, bytes]) -> None:
    again = {f.dest_rel: f.content for f in feed_files(demo.site, demo.annotated, links)}
    assert again == files


def test_empty_site_feed_is_valid_and_dated_from_content_not_the_clock(
    demo: Analysis, links: urls.Urls
) -> None:
    empty = Site(demo.config, (), {}, {}, (), (), ())
    out = {f.dest_rel: f.content for f in feed_files(empty, {}, links)}
    feed = assert_valid_atom(out["feed.xml"], links.absolute("feed.xml"))
    assert feed.findtext(A + "updated") == EPOCH.isoformat()
    assert json.loads(out["feed.json"])["items"] == []


def test_feed_links_for_page_heads(links: urls.Urls) -> None:
    base = "https://example.github.io/digest/"
    assert feed_links(links, None) == [
        ("application/atom+xml", "Atom feed", base + "feed.xml"),
        ("application/feed+json", "JSON Feed", base + "feed.json"),
    ]
    assert feed_links(links, "iran")[0] == (
        "application/atom+xml",
        "Atom feed of this topic",
        base + "topics/iran/feed.xml",
    )
    assert len(feed_links(links, "iran")) == 3


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<a href="/digest/people/x/">X</a>', '<a href="https://h.example/digest/people/x/">X</a>'),
        (
            '<a href="#fn-note-1">1</a>',
            '<a href="https://h.example/digest/articles/a/#note-1">1</a>',
        ),
        ('<a href="#q">q</a>', '<a href="https://h.example/digest/articles/a/#q">q</a>'),
        (
            '<a href="https://other.example/?a=1&amp;b=2">o</a>',
            '<a href="https://other.example/?a=1&amp;b=2">o</a>',
        ),
        ('<a href="mailto:desk@h.example">m</a>', '<a href="mailto:desk@h.example">m</a>'),
        (
            "<img src='pic.png' alt=\"\">",
            '<img src="https://h.example/digest/articles/a/pic.png" alt="">',
        ),
        # Text that merely looks like an attribute is left alone.
        ('<p>write href="/x" in a tag</p>', '<p>write href="/x" in a tag</p>'),
        (
            '<p>a\n<a class="c"\n   href="/y/">y</a></p>',
            '<p>a\n<a class="c"\n   href="https://h.example/y/">y</a></p>',
        ),
        # Attribute names in any case; a comment is skipped whole, even one that holds
        # a tag; tags without href or src are left as they are.
        ('<A HREF="/z/">z</A>', '<A HREF="https://h.example/z/">z</A>'),
        ('<!-- <a href="/c/"> -->', '<!-- <a href="/c/"> -->'),
        ('<mark id="q" class="quote"><em>e</em></mark>',
         '<mark id="q" class="quote"><em>e</em></mark>'),
        ('<span data-href="/d/">d</span>', '<span data-href="/d/">d</span>'),
    ],
)
def test_absolutize_html(html: str, expected: str) -> None:
    page = "https://h.example/digest/articles/a/"
    assert absolutize_html(html, page, {"fn-note-1": "note-1"}) == expected


# --- dates: a date-only front matter value never shifts a day -------------------------


def _tiny_site(root: Path, timezone: str, byline: str = "") -> None:
    (root / "content" / "articles").mkdir(parents=True)
    (root / "site.toml").write_text(
        f'[site]\ntitle = "Tiny"\nbase_url = "https://example.org/tiny/"\n'
        f'timezone = "{timezone}"\nauthor = "Tiny desk"\n',
        encoding="utf-8",
    )
    byline_line = f"byline: {byline}\n" if byline else ""
    (root / "content" / "articles" / "hello.md").write_text(
        f"---\ntitle: Hello\ndate: 2020-01-13\n{byline_line}---\n\nBody text here.\n",
        encoding="utf-8",
    )
    (root / "content" / "articles" / "hello.yaml").write_text(
        "summary: A greeting.\n", encoding="utf-8"
    )


@pytest.fixture
def machine_tz(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with the process's local zone set through TZ."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    "machine_tz",
    ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Los_Angeles"],
    indirect=True,
)
@pytest.mark.parametrize("site_tz", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_date_only_front_matter_keeps_its_day_everywhere(
    tmp_path: Path, site_tz: str, machine_tz: str
) -> None:
    _tiny_site(tmp_path, site_tz)
    analysis = analyse(tmp_path)
    assert not analysis.errors
    page = render_files(analysis).files["articles/hello/index.html"].content.decode()
    assert re.search(r'<time datetime="2020-01-13"[^>]*>13 January 2020</time>', page)
    links = urls.Urls(analysis.config.base_url)
    out = {f.dest_rel: f.content for f in feed_files(analysis.site, analysis.annotated, links)}
    atom = assert_valid_atom(out["feed.xml"], links.absolute("feed.xml"))
    published = atom.find(f"{A}entry/{A}published").text  # type: ignore[union-attr]
    offset = "+14:00" if site_tz == "Pacific/Kiritimati" else "-11:00"
    assert published == f"2020-01-13T00:00:00{offset}"
    item = assert_valid_json_feed(out["feed.json"], links.absolute("feed.json"))["items"][0]
    assert item["date_published"] == published
    assert item["id"] == "tag:example.org,2020-01-13:tiny/articles/hello/"


def test_byline_becomes_the_entry_author(tmp_path: Path) -> None:
    _tiny_site(tmp_path, "UTC", byline="By Jane Doe")
    analysis = analyse(tmp_path)
    links = urls.Urls(analysis.config.base_url)
    out = {f.dest_rel: f.content for f in feed_files(analysis.site, analysis.annotated, links)}
    atom = assert_valid_atom(out["feed.xml"], links.absolute("feed.xml"))
    assert atom.findtext(f"{A}author/{A}name") == "Tiny desk"
    assert atom.findtext(f"{A}entry/{A}author/{A}name") == "Jane Doe"
    item = json.loads(out["feed.json"])["items"][0]
    assert item["authors"] == [{"name": "Jane Doe"}]


@pytest.mark.parametrize("base", [
    "https://example.org/digest/articles/x/", "http://a.b/c/d?q=1", "https://h/p/#frag",
    "HTTPS://H.org/a/b/"])
def test_links_are_resolved_exactly_as_urljoin_resolves_them(base: str) -> None:
    values = ["#note-1", "#", "#a#b", "#fn-x", "/people/x/", "x/y", "../z", "?q=2", "",
              " https://x/ ", "https://en.wikinews.org/wiki/A?b=1#c", "http://x.org/",
              "HTTPS://X.ORG/a/./b/../c", "https://\tx/y", "https://\t/y", "https:foo",
              "//cdn.x/y", "https://x.org/?", "https://x.org/#", "https://x.org/;p?q",
              "ftp://f/x", "https://h:8080/a", "mailto:a@b", "ht\ttps://x/"]
    for value in values:
        html = f"<a href=\"{escape(value)}\">t</a><img alt='' src='{escape(value)}'>"
        wanted = value.strip() if value.strip() != "#fn-x" else "#x"
        resolved = escape(urljoin(base, wanted), quote=True)
        assert absolutize_html(html, base, {"fn-x": "x"}) == (
            f'<a href="{resolved}">t</a><img alt=\'\' src="{resolved}">'), value


def test_element_ids_are_found_as_the_whitespace_led_pattern_finds_them() -> None:
    pattern = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""")
    html = ("<p id=\"a\"><span data-id='no' id = 'b'>said id=\"c\"</span>"
            "<i data-xid=\"d id='e'\">x</i>\n<b\tid=\"f\"></b><u id=\"\"></u>id=\"g\"")
    assert _element_ids(html) == pattern.findall(html) == ["a", "b", "c", "e", "f"]


def test_entries_of_articles_not_in_the_last_build_are_forgotten(
        demo: Analysis, links: urls.Urls) -> None:
    from digest import feeds

    first, second = list(demo.annotated.values())[:2]
    feed_files(demo.site, demo.annotated, links)  # every article's entry and body
    assert knows_feed_entry_html(first, False, links)
    body = feed_entry_html(first, False, links)
    forget_entries_but([second])
    assert not knows_feed_entry_html(first, False, links)
    assert knows_feed_entry_html(second, False, links)
    assert {id(kept) for kept, _ in feeds._ENTRIES.values()} == {id(second)}
    # Forgotten, a body is made again, the same.
    assert feed_entry_html(first, False, links) == body
    assert knows_feed_entry_html(first, False, links)
