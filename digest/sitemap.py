"""sitemap.xml (sitemaps.org 0.9) and robots.txt naming it. Pure: model -> files.

`lastmod` comes from the content, never the clock: an article's last update, for a
topic, person or edition page the newest update of its articles, for listings the
newest update of the site. Plain pages have no date in their source, so none is made up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape

from digest import urls
from digest.feeds import rfc3339
from digest.model import Article, Site
from digest.writer import OutputFile

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # the protocol's limit per file; past it the sitemap becomes an index
_NOT_PAGES = frozenset({"404.html"})  # served for missing URLs, never to be indexed


def sitemap_files(site: Site, links: urls.Urls, page_rels: list[str]) -> list[OutputFile]:
    """sitemap.xml (an index over sitemap-N.xml past 50,000 URLs) and robots.txt.

    `page_rels` are the site-relative URLs of the HTML pages ('articles/x/', '' for
    the home page); 'x/index.html' is read as 'x/'.
    """
    lastmods = page_lastmods(site)
    # Home, pagination, indexes, quotes and chronology list the whole site.
    site_newest = _newest(site.articles)
    rels = sorted({rel for rel in map(_page_rel, page_rels) if rel is not None})
    entries = [(links.absolute(rel), lastmods.get(rel, site_newest)) for rel in rels]
    chunks = [entries[i : i + MAX_URLS] for i in range(0, len(entries), MAX_URLS)] or [[]]
    files = []
    if len(chunks) == 1:
        files.append(OutputFile("sitemap.xml", _urlset(chunks[0]), "sitemap"))
    else:
        names = [f"sitemap-{n}.xml" for n in range(1, len(chunks) + 1)]
        for name, chunk in zip(names, chunks, strict=True):
            files.append(OutputFile(name, _urlset(chunk), "sitemap"))
        files.append(OutputFile("sitemap.xml", _index(links, names, site), "sitemap index"))
    robots = f"User-agent: *\nDisallow:\n\nSitemap: {links.absolute('sitemap.xml')}\n"
    files.append(OutputFile("robots.txt", robots.encode("utf-8"), "robots.txt"))
    return files


def _page_rel(rel: str) -> str | None:
    """Normalise one page URL; None for what is not an indexable page of this site."""
    rel = rel.lstrip("/")
    if rel.endswith("index.html"):
        rel = rel[: -len("index.html")]
    if rel in _NOT_PAGES or "://" in rel or ".." in rel.split("/"):
        return None
    if rel and not rel.endswith("/") and not rel.endswith(".html"):
        return None
    return rel


def _newest(articles: Iterable[Article]) -> dt.datetime | None:
    return max((a.updated for a in articles), default=None)


def page_lastmods(site: Site) -> dict[str, dt.datetime | None]:
    """When each content-backed page last changed, by site-relative URL."""
    found: dict[str, dt.datetime | None] = {}
    by_topic: dict[str, list[Article]] = {}
    by_speaker: dict[str, list[Article]] = {}
    for article in site.articles:
        found[urls.article_rel(article.slug)] = article.updated
        for topic in article.topics:
            by_topic.setdefault(topic, []).append(article)
        for speaker in {q.speaker for q in article.quotes}:
            by_speaker.setdefault(speaker, []).append(article)
    for slug in site.topics:
        found[urls.topic_rel(slug)] = _newest(by_topic.get(slug, []))
    for slug in site.people:
        found[urls.person_rel(slug)] = _newest(by_speaker.get(slug, []))
    for edition in site.editions:
        found[urls.edition_rel(edition.date.isoformat())] = _newest(
            site.by_slug[s] for s in edition.articles if s in site.by_slug
        )
    for page in site.pages:
        found[urls.page_rel(page.slug)] = None
    return found


def _lastmod(moment: dt.datetime | None) -> str:
    return f"<lastmod>{rfc3339(moment)}</lastmod>" if moment else ""


def _urlset(entries: list[tuple[str, dt.datetime | None]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    lines += [f"  <url><loc>{escape(loc)}</loc>{_lastmod(moment)}</url>" for loc, moment in entries]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _index(links: urls.Urls, names: list[str], site: Site) -> bytes:
    newest = _lastmod(_newest(site.articles))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{SITEMAP_NS}">']
    lines += [
        f"  <sitemap><loc>{escape(links.absolute(name))}</loc>{newest}</sitemap>" for name in names
    ]
    lines.append("</sitemapindex>")
    return ("\n".join(lines) + "\n").encode("utf-8")
