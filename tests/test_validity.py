"""The built demo is valid: HTML (Nu checker), feeds, sitemap, and no broken link.

The demo is built once, with its base URL pointing at a local http.server that serves
it under /digest/ (as GitHub Pages serves a project site), then:
- every HTML page goes through the Nu HTML Checker in one Java run;
- a crawler follows every internal link of the pages, feeds, sitemap, robots.txt and
  timeline, and checks each target answers 200 and each #fragment exists;
- the feeds and sitemap are checked against their specifications.
Checkers that are missing skip locally but fail when CI is set.

Until the build wires in feeds, sitemap, timeline and head tags itself, the fixture
adds them the way the wiring will (files it does not find, head tags a page lacks).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape, unescape
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import urlopen
from xml.etree import ElementTree as ET

import pytest

from digest import urls
from digest.feeds import feed_files, feed_links
from digest.jsonld import article_jsonld, meta_tags, person_jsonld
from digest.model import Site
from digest.pipeline import analyse, render_files
from digest.sitemap import sitemap_files
from digest.timeline import timeline_file
from digest.writer import OutputFile
from tests.test_feeds import assert_valid_atom, assert_valid_json_feed, html_urls

REPO_ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SITEMAP_XSD = REPO_ROOT / "node_modules" / "sitemap" / "schema" / "sitemap.xsd"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SUBPATH = "digest"


def missing_tool(what: str) -> None:
    """Skip for a missing checker, except in CI, where it must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI; scripts/test.sh should install it")
    pytest.skip(f"{what} is missing")


# --- the site, with what issue 4 adds -------------------------------------------------


def _page_kind(dest: str) -> tuple[str, str]:
    parts = dest.split("/")
    if len(parts) == 3 and parts[2] == "index.html":
        return {"articles": "article", "people": "person", "topics": "topic"}.get(
            parts[0], "page"
        ), parts[1]
    return "page", ""


def _head_value(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    return unescape(match.group(1)) if match else ""


def head_extras(site: Site, links: urls.Urls, dest: str, html: str) -> str:
    """What the wiring puts in a page's head, for whatever the page lacks so far."""
    kind, slug = _page_kind(dest)
    extra = []
    if "application/atom+xml" not in html:
        extra += [
            f'<link rel="alternate" type="{t}" title="{escape(title)}" href="{escape(h)}">'
            for t, title, h in feed_links(links, slug if kind == "topic" else None)
        ]
    if 'property="og:title"' not in html:
        title = _head_value(html, r"<title>(.*?)</title>").split(" · ")[0]
        description = _head_value(html, r'<meta name="description" content="([^"]*)"')
        canonical = _head_value(html, r'<link rel="canonical" href="([^"]*)"')
        extra += [
            f'<meta {attr}="{key}" content="{escape(value)}">'
            for attr, key, value in meta_tags(site, kind, title, description, canonical, links)
        ]
    if "application/ld+json" not in html:
        if kind == "article" and slug in site.by_slug:
            extra.append(article_jsonld(site, site.by_slug[slug], links))
        elif kind == "person" and slug in site.people:
            extra.append(person_jsonld(site, site.people[slug], links))
    return "\n".join(extra)


def complete_site(root: Path, base_url: str) -> dict[str, OutputFile]:
    analysis = analyse(root, base_url=base_url)
    assert not analysis.errors, [p.format_text() for p in analysis.errors]
    files = dict(render_files(analysis).files)
    site = analysis.site
    links = urls.Urls(analysis.config.base_url)
    pages = sorted(d for d in files if d.endswith(".html"))
    for dest in pages:
        html = files[dest].content.decode("utf-8")
        extra = head_extras(site, links, dest, html)
        if extra:
            html = html.replace("</head>", extra + "\n</head>", 1)
            files[dest] = OutputFile(dest, html.encode("utf-8"), files[dest].source)
    page_rels = [d.removesuffix("index.html") for d in pages]
    added = [
        *feed_files(site, analysis.annotated, links),
        timeline_file(site, links),
        *sitemap_files(site, links, page_rels),
    ]
    for output in added:
        files.setdefault(output.dest_rel, output)
    return files


class _Handler(SimpleHTTPRequestHandler):
    """Static files only: a folder without index.html is a 404, as on GitHub Pages."""

    def list_directory(self, path: str | os.PathLike[str]) -> None:  # type: ignore[override]
        self.send_error(404, "no index.html")
        return None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT/digest/
    folder: Path  # what is served under /digest/
    files: dict[str, OutputFile]
    www: Path  # the server's root: the site, plus /selftest/ with known faults


# Pages with known faults, so a checker that silently checks nothing cannot pass.
SELFTEST = {
    "index.html": '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>'
    '<a href="page.html#there">ok</a> <a href="missing.html">404</a> '
    '<a href="#nowhere">no id</a> <a href="/elsewhere/">outside</a> '
    '<a href="https://example.github.io/digest/">configured host</a>'
    "</body></html>",
    "page.html": '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>'
    '<p id="there">x</p></body></html>',
    "bad.html": '<!DOCTYPE html><html lang="en"><head></head><body><p><div></p></body></html>',
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    www = tmp_path_factory.mktemp("www")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/{SUBPATH}/"
        files = complete_site(REPO_ROOT, base)
        folder = www / SUBPATH
        for dest, output in files.items():
            target = folder / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(output.content)
        (www / "selftest").mkdir()
        for name, text in SELFTEST.items():
            (www / "selftest" / name).write_text(text, encoding="utf-8")
        yield Served(base, folder, files, www)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- HTML validity --------------------------------------------------------------------


def test_every_page_passes_the_nu_html_checker(served: Served) -> None:
    java = shutil.which("java") or ""
    if not java or not VNU_JAR.is_file():
        missing_tool("java or node_modules/vnu-jar (npm ci)")
    # One Java run for every page: the JVM start dominates the time.
    done = subprocess.run(
        [
            java,
            "-jar",
            str(VNU_JAR),
            "--skip-non-html",
            "--errors-only",
            "--format",
            "gnu",
            str(served.www),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    lines = (done.stdout + done.stderr).replace(f"file:{served.www}{os.sep}", "").splitlines()
    assert any(line.startswith('"selftest/bad.html"') for line in lines), (
        "the checker did not report the known-bad page:\n" + "\n".join(lines)
    )
    errors = [line for line in lines if not line.startswith('"selftest/')]
    assert not errors, "\n".join(errors)


# --- links ----------------------------------------------------------------------------


class _PageLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id",) + (("name",) if tag == "a" else ()):
            if values.get(name):
                self.ids.add(values[name] or "")
        for name in ("href", "src"):
            if values.get(name) is not None:
                self.urls.append(values[name] or "")


@dataclass
class Crawl:
    status: dict[str, int] = field(default_factory=dict)  # URL without fragment -> status
    ids: dict[str, set[str]] = field(default_factory=dict)  # HTML page -> ids in it
    wanted: dict[str, set[str]] = field(default_factory=dict)  # URL -> pages linking to it
    broken: list[str] = field(default_factory=list)


def _links_of(url: str, kind: str, body: bytes) -> tuple[list[str], set[str] | None]:
    """The URLs a resource points at, and its ids when it is an HTML page."""
    if kind == "html":
        parser = _PageLinks()
        parser.feed(body.decode("utf-8"))
        parser.close()
        return [urljoin(url, u) for u in parser.urls], parser.ids
    if url.endswith(".xml"):
        root = ET.fromstring(body)
        found = [e.get("href", "") for e in root.iter(ATOM + "link")]
        found += [e.text or "" for e in root.iter(SITEMAP + "loc")]
        for content in list(root.iter(ATOM + "content")) + list(root.iter(ATOM + "summary")):
            found += html_urls(content.text or "")
        return found, None
    if url.endswith(".json"):
        text = json.dumps(json.loads(body))
        found = re.findall(r'"(?:url|home_page_url|feed_url|external_url)": "([^"]+)"', text)
        found += [unescape(h) for h in re.findall(r'href=\\"([^"\\]+)\\"', text)]
        return found, None
    if url.endswith("robots.txt"):
        return re.findall(r"(?m)^Sitemap: (\S+)$", body.decode("utf-8")), None
    return [], None


def crawl(base: str, seeds: list[str], forbidden_hosts: set[str]) -> Crawl:
    """Fetch everything under `base` that the seeds lead to; note what is broken."""
    result = Crawl()
    origin = urlsplit(base)
    queue = [(s, "(seed)") for s in seeds]
    while queue:
        url, referrer = queue.pop()
        page, fragment = urldefrag(url)
        parts = urlsplit(page)
        if parts.scheme in ("mailto", "tel", "tag"):
            continue
        if parts.hostname in forbidden_hosts:
            result.broken.append(
                f"{referrer}: links to the configured host, not the build's base URL: {url}"
            )
            continue
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
            continue  # external: not checked offline
        if not parts.path.startswith(origin.path):
            result.broken.append(f"{referrer}: leaves the site's base path: {url}")
            continue
        if fragment:
            result.wanted.setdefault(f"{page}#{fragment}", set()).add(referrer)
        if page in result.status:
            continue
        try:
            with urlopen(page, timeout=10) as response:
                body = response.read()
                kind = (
                    "html" if "text/html" in response.headers.get("Content-Type", "") else "other"
                )
                result.status[page] = response.status
        except HTTPError as error:
            result.status[page] = error.code
            result.broken.append(f"{referrer}: {error.code} for {page}")
            continue
        found, ids = _links_of(page, kind, body)
        if ids is not None:
            result.ids[page] = ids
        queue += [(urljoin(page, u), page) for u in found if u]
    for target, referrers in sorted(result.wanted.items()):
        page, fragment = urldefrag(target)
        if result.status.get(page) != 200:
            continue  # already reported
        if page not in result.ids:
            result.broken.append(f"{sorted(referrers)[0]}: fragment on a non-HTML file: {target}")
        elif unquote(fragment) not in result.ids[page]:
            result.broken.append(f"{sorted(referrers)[0]}: no id '{fragment}' in {page}")
    return result


def test_the_crawler_finds_what_is_broken(served: Served) -> None:
    base = served.base.replace(f"/{SUBPATH}/", "/selftest/")
    result = crawl(base, [base], {"example.github.io"})
    assert sorted(result.broken) == [
        f"{base}: 404 for {base}missing.html",
        f"{base}: leaves the site's base path: {base.replace('/selftest/', '/elsewhere/')}",
        f"{base}: links to the configured host, not the build's base URL: "
        "https://example.github.io/digest/",
        f"{base}: no id 'nowhere' in {base}",
    ]


def test_no_broken_link_or_fragment(served: Served) -> None:
    seeds = [
        served.base + rel
        for rel in (
            "",
            "404.html",
            "feed.xml",
            "feed.json",
            "sitemap.xml",
            "robots.txt",
            "timeline.json",
        )
    ]
    configured = urlsplit(analyse(REPO_ROOT).config.base_url).hostname or ""
    result = crawl(served.base, seeds, {configured})
    assert not result.broken, "\n".join(sorted(set(result.broken)))
    # The crawl really went through the whole site, topic feeds included.
    for dest in served.files:
        if dest.endswith((".html", ".xml")) and dest != "404.html":
            assert served.base + dest.removesuffix("index.html") in result.status, dest


# --- feeds and sitemap ----------------------------------------------------------------


def _get(url: str) -> bytes:
    with urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def test_served_feeds_match_their_specifications(served: Served) -> None:
    for dest in served.files:
        if dest == "feed.xml" or (dest.startswith("topics/") and dest.endswith("feed.xml")):
            assert_valid_atom(_get(served.base + dest), served.base + dest)
    assert_valid_json_feed(_get(served.base + "feed.json"), served.base + "feed.json")
    json.loads(_get(served.base + "timeline.json"))


def test_sitemap_matches_the_sitemaps_org_schema(served: Served) -> None:
    try:
        from lxml import etree
    except ImportError:
        missing_tool("lxml (pip install lxml)")
    if not SITEMAP_XSD.is_file():
        missing_tool("node_modules/sitemap (npm ci)")
    schema = etree.XMLSchema(etree.parse(str(SITEMAP_XSD)))
    document = etree.fromstring(_get(served.base + "sitemap.xml"))
    assert schema.validate(document), schema.error_log
    locs = [e.text for e in document.iter(SITEMAP + "loc")]
    pages = {
        served.base + d.removesuffix("index.html")
        for d in served.files
        if d.endswith(".html") and d != "404.html"
    }
    assert set(locs) == pages and len(locs) == len(pages)
    robots = _get(served.base + "robots.txt").decode()
    assert f"Sitemap: {served.base}sitemap.xml" in robots.splitlines()


def test_sitemap_lastmod_comes_from_the_content(monkeypatch: pytest.MonkeyPatch) -> None:
    analysis = analyse(REPO_ROOT)
    site = analysis.site
    links = urls.Urls(analysis.config.base_url)
    article = site.articles[-1]
    rels = [
        "",
        "index.html",
        "404.html",
        "about/",
        urls.article_rel(article.slug),
        "topics/iran/index.html",
        "people/vladimir-putin/",
        "https://elsewhere.example/",
    ]
    files = {f.dest_rel: f.content.decode() for f in sitemap_files(site, links, rels)}
    root = ET.fromstring(files["sitemap.xml"])
    lastmod = {
        u.findtext(SITEMAP + "loc"): u.findtext(SITEMAP + "lastmod")
        for u in root.iter(SITEMAP + "url")
    }
    newest = max(a.updated for a in site.articles).isoformat()
    iran = max(a.updated for a in site.articles if "iran" in a.topics).isoformat()
    putin = max(
        a.updated for a in site.articles if any(q.speaker == "vladimir-putin" for q in a.quotes)
    ).isoformat()
    assert lastmod == {
        links.absolute(""): newest,
        links.absolute("about/"): None,  # no date in a plain page's source
        links.absolute(urls.article_rel(article.slug)): article.updated.isoformat(),
        links.absolute("topics/iran/"): iran,
        links.absolute("people/vladimir-putin/"): putin,
    }
    assert files["robots.txt"] == (
        "User-agent: *\nDisallow:\n\nSitemap: https://example.github.io/digest/sitemap.xml\n"
    )
    # Past the protocol's 50,000 URLs per file, sitemap.xml becomes an index.
    monkeypatch.setattr("digest.sitemap.MAX_URLS", 2)
    split = {f.dest_rel: f.content for f in sitemap_files(site, links, rels)}
    assert sorted(split) == [
        "robots.txt",
        "sitemap-1.xml",
        "sitemap-2.xml",
        "sitemap-3.xml",
        "sitemap.xml",
    ]
    index = ET.fromstring(split["sitemap.xml"])
    assert index.tag == SITEMAP + "sitemapindex"
    assert [s.findtext(SITEMAP + "loc") for s in index] == [
        links.absolute(f"sitemap-{n}.xml") for n in (1, 2, 3)
    ]
