"""What an edit changed since `digest serve`'s last good build, for the keys of pages.

Each page is keyed by what it shows (see `render.SiteRenderer`), and making every key
again is work in proportion to the site: at 10,000 articles, 0.3-0.5 s of a rebuild
after a one-file edit. When the inputs that pages share are those of the last build
(theme and settings, the registries, the articles and their order, the merged
chronology, the editions), a page's key can only change if an article it shows did:
the pages of the others are the last build's, under the keys they had, without making
those keys again.

Used by `digest serve` only, whose last good build holds its pages and their keys
together with the `KeyInputs` they were made from; `digest build` keys every page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from digest.model import Article, ChronologyEntry, Edition, Site


@dataclass(slots=True)
class KeyInputs:
    """What one build's page keys were made from, beyond each page's own inputs."""

    fingerprint: str
    registries_key: str
    order: tuple[str, ...]  # the articles' slugs, newest first
    article_keys: Mapping[str, str]  # slug -> input key
    listing_keys: Mapping[str, str]  # slug -> listing key
    chronology: tuple[ChronologyEntry, ...]  # compared by identity: see `changes_since`
    editions: tuple[Edition, ...]
    articles: Mapping[str, Article]  # by slug
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


@dataclass(frozen=True, slots=True)
class Changes:
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

    def listed(self, site: Site, last: Mapping[str, Article],
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
                    people.update(q.speaker for q in article.quotes)
            for entry in events_of.get(slug, ()):
                topics.update(entry.topics)
        return Listed(days, topics, people, self.retitle_events(events_of))

    def retitle_events(self, events_of: Mapping[str, list[ChronologyEntry]]) -> bool:
        """Whether an event's entry shows a title that changed (the chronology's and the
        timeline's keys are made of the events and their articles' titles)."""
        return any(events_of.get(slug) for slug in self.titles)


@dataclass(frozen=True, slots=True)
class Listed:
    """The listing pages that show a changed article: by edition day, topic and person,
    and whether the chronology does (an event's entry shows its articles' titles)."""

    days: set[dt.date]
    topics: set[str]
    people: set[str]
    events: bool


def changes_since(last: KeyInputs | None, now: KeyInputs) -> Changes | None:
    """The changes from `last` to `now`; None when an input that pages share changed
    (then every page is keyed again).

    The chronology is compared by identity: `digest serve` keeps the last merge and
    hands it back while nothing it was made from changed (validate.merge_chronology);
    another object, equal or not, keys everything again. (The order is implied by the
    editions today, which list each day's articles in it, and an article moving to
    another day changes its listing key; it is compared anyway, so that no key comes
    to depend on that.)"""
    if (last is None or last.fingerprint != now.fingerprint
            or last.registries_key != now.registries_key or last.order != now.order
            or last.chronology is not now.chronology or last.editions != now.editions):
        return None
    articles = frozenset(slug for slug, key in now.article_keys.items()
                         if last.article_keys.get(slug) != key)
    listings = frozenset(slug for slug in articles
                         if last.listing_keys.get(slug) != now.listing_keys.get(slug))
    titles = frozenset(slug for slug in listings if slug not in last.articles
                       or last.articles[slug].title != now.articles[slug].title)
    return Changes(articles, listings, titles)


def sitemap_part(slug: str, updated: str, topics: Iterable[str],
                 speakers: Iterable[str]) -> str:
    """What the sitemap reads of one article: the pages it dates by the article's update
    (its own, its topics', its speakers')."""
    return f"{slug} {updated} {' '.join(topics)} | {' '.join(speakers)}"
