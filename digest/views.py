"""View objects: exactly what templates see, built from the model (no model internals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkView:
    """A link: its text and where it goes."""

    title: str
    href: str


@dataclass(frozen=True)
class QuoteView:
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


@dataclass(frozen=True)
class EventView:
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


@dataclass(frozen=True)
class YearView:
    """One year of a chronology, its events grouped by month."""

    year: int
    months: tuple[tuple[str, tuple[EventView, ...]], ...]  # (heading, events); '' first


@dataclass(frozen=True)
class ArticleCard:
    """An article as the listings show it."""

    slug: str
    title: str
    href: str
    date: str
    iso_date: str
    section: str
    standfirst: str
    topics: tuple[LinkView, ...]


@dataclass(frozen=True)
class NoteView:
    """A side note as its article page lists it."""

    id: str
    number: int
    kind: str
    label: str
    text_html: str
    rating: str
    sources: tuple[LinkView, ...]


@dataclass(frozen=True)
class ArticleView:
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


@dataclass(frozen=True)
class TopicView:
    """Everything a topic page shows."""

    slug: str
    title: str
    description: str
    href: str
    articles: tuple[ArticleCard, ...]
    quotes: tuple[QuoteView, ...]
    chronology: tuple[YearView, ...]


@dataclass(frozen=True)
class PersonView:
    """Everything a person page shows."""

    slug: str
    name: str
    role: str
    href: str
    same_as: tuple[str, ...]
    quotes: tuple[QuoteView, ...]
    articles: tuple[ArticleCard, ...]


@dataclass(frozen=True)
class EditionView:
    """A digest edition: its date, introduction and articles."""

    date: str
    iso_date: str
    title: str
    intro_html: str
    href: str
    articles: tuple[ArticleCard, ...]


@dataclass(frozen=True)
class Pager:
    """Where a page of a paginated listing stands among the others."""

    number: int
    total: int
    previous: str  # href or ''
    next: str


@dataclass(frozen=True)
class PageMeta:
    """What base.html needs about the page being rendered."""

    title: str
    description: str
    rel: str  # site-relative URL of the page
    kind: str  # 'article', 'topic', ...
    canonical: str
    feeds: tuple[tuple[str, str, str], ...] = ()  # (type, title, href) for rel=alternate
    social: tuple[tuple[str, str, str], ...] = ()  # OpenGraph / Twitter meta tags
    jsonld: str = ""  # a <script type="application/ld+json"> element, already escaped
