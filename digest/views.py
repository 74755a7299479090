"""View objects: exactly what templates see, built from the model (no model internals).

Named tuples, as the model's records: a build that renders any page creates these twelve
classes, and a frozen dataclass took about 0.5 ms to create (six methods compiled with
`exec`), a named tuple 0.09 ms; they are made by the ten thousand, too, and a named
tuple is made without a call of `object.__setattr__` per field.
"""

from __future__ import annotations

from typing import NamedTuple


class LinkView(NamedTuple):
    """A link: its text and where it goes."""

    title: str
    href: str


class QuoteView(NamedTuple):
    """A quote as pages list it, linked to its passage, its speaker and its article."""

    id: str
    text: str
    href: str  # the passage in its article: /articles/<slug>/#<id>
    speaker: LinkView
    role: str
    context: str
    article: LinkView
    date: str
    callout: bool


class EventView(NamedTuple):
    """A dated event of the chronology, with the articles and topics it belongs to."""

    key: str
    when: str  # '1868', 'January 2020', 'c. 6 August 2024 – 26 April 2025'
    start_iso: str
    end_iso: str
    approx: bool
    title: str
    text_html: str
    year: int
    month_heading: str  # 'January 2020', or '' for year-only dates
    articles: tuple[LinkView, ...]
    topics: tuple[LinkView, ...]


class YearView(NamedTuple):
    """One year of a chronology, its events grouped by month."""

    year: int
    months: tuple[tuple[str, tuple[EventView, ...]], ...]  # (heading, events); '' first


class ArticleCard(NamedTuple):
    """An article as the listings show it."""

    slug: str
    title: str
    href: str
    date: str
    iso_date: str
    section: str
    standfirst: str
    topics: tuple[LinkView, ...]


class NoteView(NamedTuple):
    """A side note as its article page lists it."""

    id: str
    number: int
    kind: str
    label: str
    text_html: str
    rating: str
    sources: tuple[LinkView, ...]


class ArticleView(NamedTuple):
    """Everything an article page shows."""

    card: ArticleCard
    body_html: str
    summary_html: str
    source: str
    source_url: str
    byline: str
    image_caption: str
    license: str
    license_url: str
    updated: str
    people: tuple[LinkView, ...]
    quotes: tuple[QuoteView, ...]
    notes: tuple[NoteView, ...]
    chronology: tuple[YearView, ...]
    related: tuple[ArticleCard, ...]
    sources: tuple[LinkView, ...]


class TopicView(NamedTuple):
    """Everything a topic page shows."""

    slug: str
    title: str
    description: str
    href: str
    articles: tuple[ArticleCard, ...]
    quotes: tuple[QuoteView, ...]
    chronology: tuple[YearView, ...]


class PersonView(NamedTuple):
    """Everything a person page shows."""

    slug: str
    name: str
    role: str
    href: str
    same_as: tuple[str, ...]
    quotes: tuple[QuoteView, ...]
    articles: tuple[ArticleCard, ...]


class EditionView(NamedTuple):
    """A digest edition: its date, introduction and articles."""

    date: str
    iso_date: str
    title: str
    intro_html: str
    href: str
    articles: tuple[ArticleCard, ...]


class Pager(NamedTuple):
    """Where a page of a paginated listing stands among the others."""

    number: int
    total: int
    previous: str  # href or ''
    next: str


class PageMeta(NamedTuple):
    """What base.html needs about the page being rendered."""

    title: str
    description: str
    rel: str  # site-relative URL of the page
    kind: str  # 'article', 'topic', ...
    canonical: str
    feeds: tuple[tuple[str, str, str], ...] = ()  # (type, title, href) for rel=alternate
    social: tuple[tuple[str, str, str], ...] = ()  # OpenGraph / Twitter meta tags
    jsonld: str = ""  # a <script type="application/ld+json"> element, already escaped
