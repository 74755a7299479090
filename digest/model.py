"""The content model: immutable records, no I/O. Later stages build new objects.

What an article is made of (Article and everything in it), the editions and the
chronology's entries are named tuples; the rest are frozen dataclasses. Every article's
record is kept in the build cache and crosses from the worker processes that read
articles to the build's own, and a frozen dataclass took two to three times as long to
unpickle as a named tuple (0.95 against 0.34-0.52 us, about 15 of them an article). With
named tuples a rebuild after one sidecar edit at 10,000 articles went from 1.77 to
1.44 s. Editions and chronology entries are kept between builds too (keystate.py).
Change one with `._replace(...)`, not `dataclasses.replace`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from digest.config import SiteConfig
from digest.dates import FuzzyDate
from digest.tuplepickle import pickled_as_tuple


@pickled_as_tuple
class Source(NamedTuple):
    title: str
    url: str


@dataclass(frozen=True)
class Topic:
    """A topic of topics.yaml."""

    slug: str
    title: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    line: int = field(default=1, compare=False)  # of its key in topics.yaml
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Person:
    """A person of people.yaml."""

    slug: str
    name: str
    role: str = ""
    aliases: tuple[str, ...] = ()
    same_as: tuple[str, ...] = ()
    line: int = field(default=1, compare=False)  # of its key in people.yaml
    column: int = field(default=1, compare=False)


@pickled_as_tuple
class Selector(NamedTuple):
    """W3C TextQuoteSelector, with the sidecar position it came from."""

    exact: str
    prefix: str = ""
    suffix: str = ""
    line: int = 1
    column: int = 1


@pickled_as_tuple
class Quote(NamedTuple):
    id: str
    text: str
    speaker: str
    selector: Selector
    context: str = ""
    callout: bool = False


@pickled_as_tuple
class Note(NamedTuple):
    id: str
    number: int
    kind: str
    text: str
    selector: Selector
    sources: tuple[Source, ...] = ()
    rating: str = ""


@pickled_as_tuple
class Event(NamedTuple):
    date: FuzzyDate
    title: str
    end: FuzzyDate | None = None
    approx: bool = False
    text: str = ""
    id: str = ""


@pickled_as_tuple
class Article(NamedTuple):
    slug: str
    src_rel: str
    sidecar_rel: str
    title: str
    date: dt.date
    published: dt.datetime
    updated: dt.datetime
    body: str
    body_line: int
    source: str = ""
    source_url: str = ""
    section: str = ""
    byline: str = ""
    standfirst: str = ""
    image_caption: str = ""
    draft: bool = False
    license: str = ""
    license_url: str = ""
    summary: str = ""
    topics: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()
    notes: tuple[Note, ...] = ()
    events: tuple[Event, ...] = ()
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """A standalone page of content/pages/."""

    slug: str
    src_rel: str
    title: str
    body: str
    description: str = ""


class Edition(NamedTuple):
    """One day's digest: the articles published that day, with an optional intro."""

    date: dt.date
    title: str
    intro: str
    articles: tuple[str, ...]


class ChronologyEntry(NamedTuple):
    """One event of the chronology; events sharing an id in several sidecars merge."""

    key: str
    date: FuzzyDate
    title: str
    end: FuzzyDate | None
    approx: bool
    text: str
    articles: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    """The whole site, read and validated: what the pages are rendered from."""

    config: SiteConfig
    articles: tuple[Article, ...]  # newest first
    topics: dict[str, Topic]
    people: dict[str, Person]
    pages: tuple[Page, ...]
    editions: tuple[Edition, ...]  # newest first
    chronology: tuple[ChronologyEntry, ...]  # oldest first
    by_slug: dict[str, Article] = field(default_factory=dict)
    # What the chronology was made from (validate.chronology_made_from); "" if unknown.
    chronology_key: str = ""
