"""What an edit changed since the last good build, for the keys of pages.

Each page is keyed by what it shows (see `render.SiteRenderer`), and making every key
again is work in proportion to the site: at 10,000 articles, 0.3-0.5 s of a rebuild
after a one-file edit. When the inputs that pages share are those of the last build
(theme and settings, the registries, the articles and their order, the merged
chronology, the editions), a page's key can only change if an article it shows did:
the pages of the others are the last build's, under the keys they had, without making
those keys again.

Used by `digest serve`, whose last good build holds its pages and their keys together
with the `KeyInputs` they were made from, and by `digest build`, which keeps them in
its cache with the output they describe (see keystate.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from digest.cache import texts_hash
from digest.model import Article, ChronologyEntry, Edition, Site


class ListedArticle(NamedTuple):
    """What the listing pages show of an article that decides where it is listed (see
    `Changes.listed`): kept by `digest build` between builds in place of the article,
    which the articles' cache holds already."""

    title: str
    date: dt.date
    topics: tuple[str, ...]
    speakers: tuple[str, ...]


def _speakers(article: Article | ListedArticle) -> Iterable[str]:
    if isinstance(article, ListedArticle):
        return article.speakers
    return (q.speaker for q in article.quotes)


@dataclass(slots=True)
class KeyInputs:
    """What one build's page keys were made from, beyond each page's own inputs."""

    fingerprint: str
    registries_key: str
    order: tuple[str, ...]  # the articles' slugs, newest first
    article_keys: Mapping[str, str]  # slug -> input key
    listing_keys: Mapping[str, str]  # slug -> listing key
    chronology_key: str  # what the merged chronology was made from; "": unknown
    editions_key: str  # `editions_key` of the site's editions
    articles: Mapping[str, Article | ListedArticle]  # by slug
    # Set as the listing pages are keyed: the hashes of what each edition, topic and
    # person page and the chronology are made from.
    edition_inputs: dict[dt.date, str] = field(default_factory=dict)
    topic_inputs: dict[str, str] = field(default_factory=dict)
    person_inputs: dict[str, str] = field(default_factory=dict)
    chronology_inputs: str = ""
    # Set when the sitemap is made: the pages it lists, and what it reads of each
    # article (slug -> its update, topics and speakers).
    page_rels: tuple[str, ...] = ()
    sitemap_parts: dict[str, str] = field(default_factory=dict)


class Changes(NamedTuple):
    """The articles whose input keys changed since the last build; among them those
    whose listing keys changed (what pages other than their own show of them), and among
    those the ones whose titles changed (what an event's entry shows of its articles)."""

    articles: frozenset[str]
    listings: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()

    def article_pages(self, site: Site, events_of: Mapping[str, list[ChronologyEntry]]
                      ) -> set[str]:
        """The slugs of the article pages whose keys may have changed: the changed
        articles', those showing a changed article's card (related articles), and those
        sharing an event with an article whose title changed."""
        affected = set(self.articles)
        if self.listings:
            for article in site.articles:
                if not self.listings.isdisjoint(article.related):
                    affected.add(article.slug)
        for slug in self.titles:
            for entry in events_of.get(slug, ()):
                affected.update(entry.articles)
        return affected

    def listed(self, site: Site, last: Mapping[str, Article | ListedArticle],
               events_of: Mapping[str, list[ChronologyEntry]]) -> Listed:
        """Where the articles whose listing keys changed are listed, now or in the last
        build: their days' editions, their topics (and their events' topics) and their
        speakers; the other listing pages show none of them."""
        days: set[dt.date] = set()
        topics: set[str] = set()
        people: set[str] = set()
        for slug in self.listings:
            for article in (site.by_slug[slug], last.get(slug)):
                if article is not None:
                    days.add(article.date)
                    topics.update(article.topics)
                    people.update(_speakers(article))
            for entry in events_of.get(slug, ()):
                topics.update(entry.topics)
        return Listed(days, topics, people, self.retitle_events(events_of))

    def retitle_events(self, events_of: Mapping[str, list[ChronologyEntry]]) -> bool:
        """Whether an event's entry shows a title that changed (the chronology's and the
        timeline's keys are made of the events and their articles' titles)."""
        return any(events_of.get(slug) for slug in self.titles)


class Listed(NamedTuple):
    """The listing pages that show a changed article: by edition day, topic and person,
    and whether the chronology does (an event's entry shows its articles' titles)."""

    days: set[dt.date]
    topics: set[str]
    people: set[str]
    events: bool


def changes_since(last: KeyInputs | None, now: KeyInputs) -> Changes | None:
    """The changes from `last` to `now`; None when an input that pages share changed
    (then every page is keyed again).

    The chronology and the editions are compared by keys of what they are made from.
    (The order is implied by the editions today, which list each day's articles in it,
    and an article moving to another day changes its listing key; it is compared
    anyway, so that no key comes to depend on that.)"""
    if (last is None or last.fingerprint != now.fingerprint
            or last.registries_key != now.registries_key or last.order != now.order
            or not now.chronology_key or last.chronology_key != now.chronology_key
            or last.editions_key != now.editions_key):
        return None
    articles = frozenset(slug for slug, key in now.article_keys.items()
                         if last.article_keys.get(slug) != key)
    listings = frozenset(slug for slug in articles
                         if last.listing_keys.get(slug) != now.listing_keys.get(slug))
    titles = frozenset(slug for slug in listings if slug not in last.articles
                       or last.articles[slug].title != now.articles[slug].title)
    return Changes(articles, listings, titles)


def editions_key(editions: Iterable[Edition]) -> str:
    """Everything the editions hold (days, titles, intros, articles)."""
    return texts_hash([part for e in editions
                       for part in (e.date.isoformat(), e.title, e.intro, *e.articles, "|")])


def sitemap_part(slug: str, updated: str, topics: Iterable[str],
                 speakers: Iterable[str]) -> str:
    """What the sitemap reads of one article: the pages it dates by the article's update
    (its own, its topics', its speakers')."""
    return f"{slug} {updated} {' '.join(topics)} | {' '.join(speakers)}"
