"""Structured data for search engines and link previews. Pure: model -> strings.

Article pages get a schema.org graph: the NewsArticle, a Quotation per quote and a
ClaimReview per fact-check note; person pages a Person. Nodes refer to each other by
`@id` (page URL + '#fragment'), so a person quoted on an article page and the Person
on their own page are one node to a crawler. Every type and property used exists in
schema.org (tests check them against release 30.0).
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from digest import urls
from digest.feeds import rfc3339
from digest.markdown import render_markdown
from digest.model import Article, Note, Person, Quote, Site

SCHEMA_CONTEXT = "https://schema.org"
DESCRIPTION_LIMIT = 300  # what search engines show; the template's meta description agrees
# What makes text in a <script> element or an inline JSON island dangerous or fragile:
# '</script>' and '<!--' can end or confuse the element, '&' starts references in
# XHTML, and U+2028/U+2029 end lines in older JavaScript parsers.
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def script_safe_json(data: Any) -> str:
    """JSON that can be inlined in HTML: `<`, `>`, `&` and line separators as \\u escapes.

    JSON only has these characters inside strings, where the escapes mean the same.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # One str.replace per character, where it occurs (no escape holds another such
    # character): a regular expression tried every character, which took a third of
    # the time of making an article page's JSON-LD.
    for char, escaped in _SCRIPT_UNSAFE.items():
        if char in text:
            text = text.replace(char, escaped)
    return text


def script_element(data: Any) -> str:
    """`<script type="application/ld+json">…</script>`, already escaped: render it `|safe`."""
    return f'<script type="application/ld+json">{script_safe_json(data)}</script>'


def _plain(markdown: str, allow_html: bool) -> str:
    """The text of a Markdown snippet, for properties that take plain text."""
    html = render_markdown(markdown, allow_html).html
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).split())


def publisher_id(links: urls.Urls) -> str:
    return links.absolute("") + "#publisher"


def person_id(links: urls.Urls, slug: str) -> str:
    return links.absolute(urls.person_rel(slug)) + "#person"


def _publisher(site: Site, links: urls.Urls) -> dict[str, Any]:
    return {
        "@type": "Organization",
        "@id": publisher_id(links),
        "name": site.config.title,
        "url": links.absolute(""),
    }


def _author(site: Site, links: urls.Urls) -> dict[str, Any]:
    """The desk that edits the digest; the publisher itself when site.toml names none."""
    if not site.config.author or site.config.author == site.config.title:
        return {"@id": publisher_id(links)}
    return {"@type": "Organization", "name": site.config.author, "url": links.absolute("")}


def _person_ref(site: Site, links: urls.Urls, slug: str) -> dict[str, Any]:
    person = site.people.get(slug)
    node: dict[str, Any] = {
        "@type": "Person",
        "@id": person_id(links, slug),
        "name": person.name if person else slug,
        "url": links.absolute(urls.person_rel(slug)),
    }
    return node


def article_graph(site: Site, article: Article, links: urls.Urls) -> dict[str, Any]:
    """The JSON-LD document of an article page, as data."""
    url = links.absolute(urls.article_rel(article.slug))
    article_id = url + "#article"
    allow_html = site.config.allow_html
    news: dict[str, Any] = {
        "@type": "NewsArticle",
        "@id": article_id,
        "url": url,
        "mainEntityOfPage": url,
        "headline": article.title,
    }
    description = article.standfirst or (
        _plain(article.summary, allow_html) if article.summary else ""
    )
    if description:
        news["description"] = description
    news["datePublished"] = rfc3339(article.published)
    news["dateModified"] = rfc3339(article.updated)
    news["inLanguage"] = site.config.language
    news["author"] = _author(site, links)
    news["publisher"] = _publisher(site, links)
    if article.section:
        news["articleSection"] = article.section
    if article.source_url:
        news["isBasedOn"] = article.source_url
    if article.license_url:
        news["license"] = article.license_url
    topics = [
        {"@type": "Thing", "name": site.topics[s].title, "url": links.absolute(urls.topic_rel(s))}
        for s in article.topics
        if s in site.topics
    ]
    if topics:
        news["about"] = topics
    speakers = sorted({q.speaker for q in article.quotes})
    if speakers:
        news["mentions"] = [_person_ref(site, links, s) for s in speakers]
    graph: list[dict[str, Any]] = [news]
    graph += [_quotation(site, article, links, url, article_id, q) for q in article.quotes]
    graph += [
        _claim_review(site, article, links, url, article_id, n)
        for n in article.notes
        if n.kind == "fact-check"
    ]
    return {"@context": SCHEMA_CONTEXT, "@graph": graph}


def _quotation(
    site: Site, article: Article, links: urls.Urls, url: str, article_id: str, quote: Quote
) -> dict[str, Any]:
    # `creator`, not `spokenByCharacter`: the latter is for characters in fiction.
    # `isBasedOn` names where the words were reported, as schema.org's Quotation asks.
    node: dict[str, Any] = {
        "@type": "Quotation",
        "@id": f"{url}#{quote.id}",
        "url": f"{url}#{quote.id}",
        "text": quote.text,
        "creator": _person_ref(site, links, quote.speaker),
        "isPartOf": {"@id": article_id},
    }
    if article.source_url:
        node["isBasedOn"] = article.source_url
    if quote.context:
        node["description"] = _plain(quote.context, site.config.allow_html)
    return node


def _claim_review(
    site: Site, article: Article, links: urls.Urls, url: str, article_id: str, note: Note
) -> dict[str, Any]:
    # The claim appeared in the source the article reproduces; without one, in the article.
    appearance = (
        {"@type": "CreativeWork", "url": article.source_url}
        if article.source_url
        else {"@id": article_id}
    )
    node: dict[str, Any] = {
        "@type": "ClaimReview",
        "@id": f"{url}#{note.id}",
        "url": f"{url}#{note.id}",
        "claimReviewed": note.selector.exact,
        "itemReviewed": {"@type": "Claim", "appearance": appearance},
        "author": _author(site, links),
        "datePublished": rfc3339(article.published),
        "reviewBody": _plain(note.text, site.config.allow_html),
        "isPartOf": {"@id": article_id},
    }
    if note.rating:
        node["reviewRating"] = {"@type": "Rating", "alternateName": note.rating}
    return node


def article_jsonld(site: Site, article: Article, links: urls.Urls) -> str:
    """The article page's `<script type="application/ld+json">` element.

    Already escaped for HTML (no `<`, `>` or `&` in it): render it with `|safe`.
    """
    return script_element(article_graph(site, article, links))


def person_graph(site: Site, person: Person, links: urls.Urls) -> dict[str, Any]:
    """The JSON-LD document of a person page, as data."""
    url = links.absolute(urls.person_rel(person.slug))
    node: dict[str, Any] = {
        "@context": SCHEMA_CONTEXT,
        "@type": "Person",
        "@id": person_id(links, person.slug),
        "name": person.name,
        "url": url,
    }
    if person.role:
        node["jobTitle"] = person.role
    if person.aliases:
        node["alternateName"] = list(person.aliases)
    if person.same_as:
        node["sameAs"] = list(person.same_as)
    return node


def person_jsonld(site: Site, person: Person, links: urls.Urls) -> str:
    """The person page's `<script type="application/ld+json">` element.

    Already escaped for HTML (no `<`, `>` or `&` in it): render it with `|safe`.
    """
    return script_element(person_graph(site, person, links))


def _shorten(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


_OG_TYPES = {"article": "article", "person": "profile"}


def meta_tags(
    site: Site, page_kind: str, title: str, description: str, canonical_url: str, links: urls.Urls
) -> list[tuple[str, str, str]]:
    """OpenGraph and Twitter card tags as (attribute, key, content).

    Render each as `<meta {{ attribute }}="{{ key }}" content="{{ content }}">` with
    autoescape on: the values are plain text, not escaped here.
    """
    config = site.config
    text = _shorten(description or config.description)
    tags = [
        ("property", "og:type", _OG_TYPES.get(page_kind, "website")),
        ("property", "og:site_name", config.title),
        ("property", "og:title", title or config.title),
        ("property", "og:url", canonical_url or links.absolute("")),
    ]
    if text:
        tags.append(("property", "og:description", text))
    tags += [("name", "twitter:card", "summary"), ("name", "twitter:title", title or config.title)]
    if text:
        tags.append(("name", "twitter:description", text))
    return tags
