"""Model -> output files. Pure: reads nothing from disk, writes nothing."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import jinja2

from digest import urls
from digest.anchors import plain_text
from digest.annotate import NOTE_LABELS, AnnotatedArticle, render_inline
from digest.cache import texts_hash
from digest.changes import (
    Changes,
    KeyInputs,
    changes_since,
    editions_key,
    sitemap_part,
)
from digest.dates import FuzzyDate, display_range, format_day
from digest.feeds import (
    Feed,
    PackedEntry,
    atom_entry,
    feed_entry_html,
    feed_links,
    forget_entries_but,
    knows_atom_entry,
    knows_feed_entry_html,
    oldest_day,
    remember_atom_entry,
    remember_feed_entry_html,
    site_feeds,
)
from digest.feedstore import FeedEntryStore
from digest.fragments import FragmentMemo
from digest.jsonld import article_jsonld, meta_tags, person_jsonld
from digest.markdown import render_markdown
from digest.model import Article, ChronologyEntry, Edition, Person, Quote, Site, Topic
from digest.pagekeys import PageMemo, ViewCache
from digest.sitemap import MAX_URLS, sitemap_files
from digest.templates import render_bytes
from digest.timeline import timeline_file
from digest.views import (
    ArticleCard,
    ArticleView,
    EditionView,
    EventView,
    LinkView,
    NoteView,
    PageMeta,
    Pager,
    PersonView,
    QuoteView,
    TopicView,
    YearView,
)
from digest.writer import OutputFile

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What rendering a site needs besides the site: its annotated articles, the
    templates, the links, and what earlier builds left to reuse."""

    site: Site
    annotated: dict[str, AnnotatedArticle]
    env: jinja2.Environment
    links: urls.Urls
    article_keys: dict[str, str] = field(default_factory=dict)  # slug -> input key
    registries_key: str = ""
    views: ViewCache | None = None  # `digest serve`: views kept between rebuilds
    fragments: FragmentMemo | None = None  # the `once` global's memo, freed after use
    feed_store: FeedEntryStore | None = None  # `digest build`: the last builds' feed entries


@lru_cache(maxsize=32768)
def _markdown_html(text: str, allow_html: bool) -> str:
    # Summaries and intros are rendered again on every rebuild of `digest serve`.
    return render_markdown(text, allow_html).html


class ViewBuilder:
    """Builds the view objects of one site; memoises the ones pages share."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self.site = ctx.site
        self.href = ctx.links.href
        self._memo: dict[tuple[object, ...], object] = {}
        self._event_keys: dict[str, str] = {}
        self._quotes_of: dict[str, tuple[QuoteView, ...]] = {}
        # Each article's events in the merged chronology.
        self.events_by_article: dict[str, list[ChronologyEntry]] = {}
        # Looked up for every card, quote and event link of every page key: a dict, made
        # once, not attribute lookups through the annotations each time.
        self.listing_keys = {slug: ctx.annotated[slug].listing_key
                              for slug in self.site.by_slug} if ctx.article_keys else None
        for entry in self.site.chronology:
            for slug in entry.articles:
                self.events_by_article.setdefault(slug, []).append(entry)

    def events_of(self, slug: str) -> list[ChronologyEntry]:
        return self.events_by_article.get(slug, [])

    def md(self, text: str) -> str:
        return _markdown_html(text, self.site.config.allow_html) if text else ""

    def shared(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """A view made once per build, and with `digest serve`'s ViewCache, kept across
        builds while its inputs (`key`, holding input keys) are unchanged."""
        found = self._memo.get(key)
        if found is None:
            views = self.ctx.views
            found = self._memo[key] = views.get(key, make) if views is not None else make()
        return found  # type: ignore[return-value]

    def listing_key(self, slug: str) -> str:
        """A key for what pages other than its own show of an article (see
        `annotate.listing_key`); '-' for an article not on the site, '' when pages are
        not keyed."""
        keys = self.listing_keys
        return "" if keys is None else keys.get(slug, "-")

    # Links are shared, not made anew for every card, quote and event that shows one:
    # fewer objects, and each is hashed once for the page keys.
    def topic_link(self, slug: str) -> LinkView:
        def make() -> LinkView:
            topic = self.site.topics.get(slug)
            return LinkView(topic.title if topic else slug, self.href(urls.topic_rel(slug)))
        return self.shared(("topic-link", slug, self.ctx.registries_key), make)

    def person_link(self, slug: str) -> LinkView:
        def make() -> LinkView:
            person = self.site.people.get(slug)
            return LinkView(person.name if person else slug, self.href(urls.person_rel(slug)))
        return self.shared(("person-link", slug, self.ctx.registries_key), make)

    def article_link(self, slug: str) -> LinkView:
        return self.shared(("article-link", slug, self.listing_key(slug)), lambda: LinkView(
            self.site.by_slug[slug].title, self.href(urls.article_rel(slug))))

    def card(self, article: Article) -> ArticleCard:
        def make() -> ArticleCard:
            return ArticleCard(
                article.slug, article.title, self.href(urls.article_rel(article.slug)),
                format_day(article.date), article.date.isoformat(), article.section,
                article.standfirst, tuple(self.topic_link(t) for t in article.topics))
        return self.shared(("card", article.slug, self.listing_key(article.slug),
                             self.ctx.registries_key), make)

    def quote(self, article: Article, quote: Quote) -> QuoteView:
        return self.shared(("quote", article.slug, quote.id, self.listing_key(article.slug),
                             self.ctx.registries_key), lambda: self._quote(article, quote))

    def _quote(self, article: Article, quote: Quote) -> QuoteView:
        person = self.site.people.get(quote.speaker)
        return QuoteView(
            quote.id, quote.text,
            self.href(urls.article_rel(article.slug)) + "#" + quote.id,
            self.person_link(quote.speaker), person.role if person else "", quote.context,
            self.article_link(article.slug), format_day(article.date), quote.callout)

    def quotes(self, articles: Iterable[Article], speaker: str = "") -> tuple[QuoteView, ...]:
        found: list[QuoteView] = []
        for article in articles:
            views = self._quotes_of.get(article.slug)
            if views is None:
                # Kept as one tuple per article: the quotes page asks for all of them.
                views = self._quotes_of[article.slug] = self.shared(
                    ("quotes-of", article.slug, self.listing_key(article.slug),
                     self.ctx.registries_key),
                    lambda article=article: tuple(self.quote(article, q)
                                                  for q in article.quotes))
            found += views if not speaker else [
                v for v, q in zip(views, article.quotes, strict=True) if q.speaker == speaker]
        return tuple(found)

    def event_key(self, entry: ChronologyEntry) -> str:
        """What an event's view (and its timeline slide) is made of: the merged event and
        its articles' titles."""
        key = self._event_keys.get(entry.key)
        if key is None:
            # Every field of the merged event, then what its view shows of its articles:
            # their titles ('\0' for one not on the site: a NUL is in no title).
            by_slug = self.site.by_slug
            titles = tuple([by_slug[s].title if s in by_slug else "\0" for s in entry.articles])

            def make() -> str:
                return texts_hash((
                    entry.key, entry.date.iso, entry.end.iso if entry.end else "-",
                    "~" if entry.approx else "", entry.title, entry.text, *entry.topics, "|",
                    *entry.articles, "|", *titles))
            # `digest serve` keeps the keys of events (and titles) that did not change.
            views = self.ctx.views
            key = self._event_keys[entry.key] = (
                views.get(("event-key", entry, titles), make) if views is not None else make())
        return key

    def event(self, entry: ChronologyEntry) -> EventView:
        # One event shows on the chronology, its topics' pages and its articles' pages.
        return self.shared(("event", self.event_key(entry), self.ctx.registries_key),
                           lambda: self._event(entry))

    def _event(self, entry: ChronologyEntry) -> EventView:
        date = entry.date
        month = FuzzyDate(date.year, date.month).display() if date.month else ""
        articles = tuple(self.article_link(s) for s in entry.articles if s in self.site.by_slug)
        return EventView(
            entry.key, display_range(entry.date, entry.end, entry.approx), entry.date.iso,
            entry.end.iso if entry.end else "", entry.approx, entry.title,
            render_inline(entry.text, self.site.config.allow_html) if entry.text else "",
            entry.date.year, month, articles, tuple(self.topic_link(t) for t in entry.topics))

    def chronology(self, entries: Iterable[ChronologyEntry]) -> tuple[YearView, ...]:
        """Events grouped by year, then month (year-only events first in their year)."""
        years: dict[int, dict[str, list[EventView]]] = {}
        for entry in entries:
            view = self.event(entry)
            years.setdefault(view.year, {}).setdefault(view.month_heading, []).append(view)
        return tuple(YearView(year, tuple((m, tuple(evs)) for m, evs in months.items()))
                     for year, months in sorted(years.items()))

    def article(self, article: Article) -> ArticleView:
        annotated = self.ctx.annotated[article.slug]
        people = sorted({q.speaker for q in article.quotes})
        notes = tuple(
            NoteView(n.id, n.number, n.kind, NOTE_LABELS.get(n.kind, n.kind), html, n.rating,
                     tuple(LinkView(s.title, s.url) for s in n.sources))
            for n, html in zip(article.notes, annotated.note_html, strict=True))
        sources = []
        if article.source_url:
            sources.append(LinkView(article.source or article.source_url, article.source_url))
        seen = {s.href for s in sources}
        for note in notes:
            for src in note.sources:
                if src.href not in seen:
                    seen.add(src.href)
                    sources.append(src)
        own = self.events_by_article.get(article.slug, [])
        return ArticleView(
            card=self.card(article), body_html=annotated.body_html,
            summary_html=self.md(article.summary), source=article.source,
            source_url=article.source_url, byline=article.byline,
            image_caption=article.image_caption, license=article.license,
            license_url=article.license_url,
            updated=format_day(article.updated.date()) if article.updated != article.published
            else "",
            people=tuple(self.person_link(p) for p in people),
            quotes=self.quotes([article]), notes=notes, chronology=self.chronology(own),
            related=tuple(self.card(self.site.by_slug[s]) for s in article.related
                          if s in self.site.by_slug),
            sources=tuple(sources))


def plain_description(article: Article) -> str:
    """Plain text for meta descriptions: the standfirst, else the summary without markup."""
    text = article.standfirst or article.summary
    if article.standfirst or not text:
        return text
    return plain_text(render_markdown(text).html).strip()


# The kinds of page made of the views and fragments that `digest serve` keeps (article
# pages use some of them too; plain, search and 404 pages none).
_LISTING_KINDS = frozenset({"home", "edition", "topic", "topics", "person", "people",
                            "quotes", "chronology"})


def _paginate(items: list, per_page: int) -> Iterator[tuple[int, int, list]]:
    total = max(1, -(-len(items) // per_page))
    for number in range(1, total + 1):
        yield number, total, items[(number - 1) * per_page:number * per_page]


class SiteRenderer:
    """Renders the site's pages; article pages separately so processes can share them."""

    def __init__(self, ctx: RenderContext, memo: PageMemo | None = None) -> None:
        self.ctx = ctx
        self.site = ctx.site
        self.views = ViewBuilder(ctx)
        self.links = ctx.links
        self.memo = memo
        # Listing pages rendered (not reused) so far: `digest serve` keeps the views and
        # fragments of the listings across builds that render none.
        self.listings_rendered = 0
        # What changed since the last build (`digest serve`'s, or the one whose key
        # inputs `digest build` kept), so that pages showing none of it keep their keys
        # without making them again (see changes.py).
        self.changes: Changes | None = None
        self._rekey: set[str] | None = None
        self._made_keys: dict[str, str] = {}  # article page keys made, by slug
        if memo is not None and memo.keep_inputs and self.views.listing_keys is not None:
            site = self.site
            memo.made_inputs = KeyInputs(
                memo.fingerprint, ctx.registries_key, tuple(a.slug for a in site.articles),
                ctx.article_keys, self.views.listing_keys, site.chronology_key,
                editions_key(site.editions), site.by_slug)
            self.changes = changes_since(memo.inputs, memo.made_inputs)
            if self.changes is not None:
                self._rekey = self.changes.article_pages(site, self.views.events_by_article)

    def page(self, template: str, rel: str, title: str, kind: str, source: str,
             description: str = "", *, jsonld: str = "", topic_slug: str | None = None,
             key: str = "", **values: object) -> OutputFile:
        description = description or self.site.config.description
        canonical = self.links.absolute(rel)
        meta = PageMeta(title, description, rel, kind, canonical,
                        feeds=tuple(feed_links(self.links, topic_slug)),
                        social=tuple(meta_tags(self.site, kind, title, description, canonical,
                                               self.links)),
                        jsonld=jsonld)
        dest = urls.dest_of(rel)
        if self.memo is not None and not key:
            key = self.memo.key(template, {"page": meta, **values})
            if (reused := self.memo.reuse(dest, key, source)) is not None:
                return reused
        if kind in _LISTING_KINDS:
            self.listings_rendered += 1
        content = render_bytes(self.ctx.env.get_template(template), page=meta, **values)
        return OutputFile(dest, content, source, key)

    def _input_key(self, *parts: str) -> str:
        assert self.memo is not None
        return texts_hash((self.memo.fingerprint, self.ctx.registries_key, *parts))

    def _keyed(self, template: str, rel: str, source: str, inputs: Iterable[str],
               keyed: bool) -> tuple[str, OutputFile | None]:
        """A page keyed by its inputs (everything else it shows is in the fingerprint):
        its key, and the previous build's page when that key is unchanged."""
        if not keyed:
            return "", None
        key = self._input_key(template, rel, *inputs)
        return key, self._reuse(rel, key, source)

    def _reuse(self, rel: str, key: str, source: str) -> OutputFile | None:
        assert self.memo is not None
        return self.memo.reuse(urls.dest_of(rel), key, source)

    def article_page_key(self, article: Article) -> str:
        """A key for an article's page from what its view is made of, without making it.

        An article page shows the article (its input key covers its two files, the
        people registry and the settings), topic titles (the registries key), the cards
        of its related articles and the events it shares with others (their articles'
        input keys, and the merged events themselves); the rest (theme, config, nav) is
        in the memo's fingerprint. Unaffected pages are then reused without building
        their views, which is most of the cost of a rebuild after a one-file edit."""
        views = self.views
        assert self.memo is not None
        parts = [self.memo.fingerprint, "article.html", self.ctx.article_keys[article.slug],
                 self.ctx.registries_key]
        for slug in article.related:
            parts += [slug, views.listing_key(slug)]  # '-': not on the site (draft, missing)
        parts += [views.event_key(entry) for entry in views.events_of(article.slug)]
        return texts_hash(parts)

    def _article_page_reuse(self, article: Article) -> tuple[str, OutputFile | None]:
        """The key of an article's page, and the previous build's page if it still holds."""
        if self.memo is None or article.slug not in self.ctx.article_keys:
            return "", None
        dest = urls.dest_of(urls.article_rel(article.slug))
        if self._rekey is not None and article.slug not in self._rekey:
            kept = self.memo.kept(dest, article.src_rel)
            if kept is not None:
                return kept.key, kept
        key = self._made_keys.get(article.slug)
        if key is None:  # (split_reusable made the keys of the pages to render)
            key = self._made_keys[article.slug] = self.article_page_key(article)
        return key, self.memo.reuse(dest, key, article.src_rel)

    def split_reusable(self, slugs: list[str]) -> tuple[list[OutputFile], list[str]]:
        """The article pages of the previous build that still hold, and the slugs whose
        pages must be rendered; everything to render when there is no previous build."""
        if self.memo is None or not self.memo.previous:
            return [], slugs
        reused: list[OutputFile] = []
        todo: list[str] = []
        for slug in slugs:
            page = self._article_page_reuse(self.site.by_slug[slug])[1]
            if page is None:
                todo.append(slug)
            else:
                reused.append(page)
        return reused, todo

    def article_pages(self, slugs: Iterable[str]) -> Iterator[OutputFile]:
        """The page of each article named."""
        for slug in slugs:
            article = self.site.by_slug[slug]
            key, reused = self._article_page_reuse(article)
            if reused is not None:
                yield reused
                continue
            yield self.page("article.html", urls.article_rel(slug), article.title, "article",
                            article.src_rel, plain_description(article),
                            jsonld=article_jsonld(self.site, article, self.links), key=key,
                            article=self.views.article(article))
        self._free_fragments()

    def other_pages(self) -> Iterator[OutputFile]:
        """Every page that is not an article page."""
        site, views, links, page = self.site, self.views, self.links, self.page
        kept = self._kept_listings()
        yield from kept if kept is not None else self._listing_pages()
        if site.config.search:
            yield page("search.html", "search/", "Search", "search", "search page")
        for item in site.pages:
            yield page("page.html", urls.page_rel(item.slug), item.title, "page", item.src_rel,
                       item.description, body_html=views.md(item.body))
        meta = PageMeta("Page not found", site.config.description, "404.html", "404",
                        links.absolute("404.html"), feeds=tuple(feed_links(links, None)))
        yield OutputFile("404.html", render_bytes(self.ctx.env.get_template("404.html"),
                                                  page=meta), "404 page")
        self._free_fragments()

    def _kept_listings(self) -> list[OutputFile] | None:
        """The previous build's home, edition, topic, person, index, quotes and
        chronology pages, when no article changed what these pages show of it (and
        nothing they share changed: see changes.py); else None."""
        if self.changes is None or self.changes.listings:
            return None
        assert self.memo is not None
        site = self.site
        # The pages `_listing_pages` makes, named again: given only the hashes kept from
        # the last build, it would still spend 0.07-0.1 s at 10,000 articles grouping the
        # articles and keying every page. A page left out here is missing after a summary
        # edit, which the serve-against-fresh-build test shows.
        places = [(urls.home_rel(number), "home") for number, _, _ in
                  _paginate(list(site.editions), site.config.per_page)]
        places += [(urls.edition_rel(e.date.isoformat()), f"edition {e.date.isoformat()}")
                   for e in site.editions]
        places += [(urls.topic_rel(slug), f"topic {slug}") for slug in sorted(site.topics)]
        places += [("topics/", "topics index")]
        places += [(urls.person_rel(slug), f"person {slug}") for slug in sorted(site.people)]
        places += [("people/", "people index"), ("quotes/", "quotes index"),
                   ("chronology/", "chronology")]
        pages = [self.memo.kept(urls.dest_of(rel), source) for rel, source in places]
        if not all(pages):
            return None
        last, made = self.memo.inputs, self.memo.made_inputs
        assert last is not None and made is not None  # (self.changes is made from them)
        made.edition_inputs, made.topic_inputs = last.edition_inputs, last.topic_inputs
        made.person_inputs = last.person_inputs
        made.chronology_inputs = last.chronology_inputs
        return pages  # type: ignore[return-value]

    def _listing_pages(self) -> Iterator[OutputFile]:
        """The home, edition, topic, person, index, quotes and chronology pages."""
        site, views, links, page = self.site, self.views, self.links, self.page
        keyed = self._keyed_files()
        edition_views: dict[dt.date, EditionView] = {}
        # With the last build's key inputs: the pages listing no changed article keep
        # the hashes of their inputs from it (see changes.py); `made` keeps this build's.
        last = self._last_inputs()
        listed = (self.changes.listed(site, last.articles, views.events_by_article)
                  if last is not None and self.changes is not None else None)
        made = self.memo.made_inputs if self.memo is not None else None
        # The kept views of topics, people and the chronology are found by these hashes
        # too: made whenever views are kept, even with no page keyed (a site whose
        # articles are all drafts), or an edited registry would find the old views.
        hashing = keyed or self.ctx.views is not None

        def edition_view(e: Edition) -> EditionView:
            if e.date not in edition_views:
                edition_views[e.date] = EditionView(
                    format_day(e.date), e.date.isoformat(),
                    e.title or f"Digest of {format_day(e.date)}", views.md(e.intro),
                    links.href(urls.edition_rel(e.date.isoformat())),
                    tuple(views.card(site.by_slug[s]) for s in e.articles))
            return edition_views[e.date]

        # Editions and home pages are most of a site's pages: like article pages they
        # are keyed by their inputs (the edition file's fields, its articles' input
        # keys, the registries), so unaffected ones are reused without building views.
        edition_keys: dict[dt.date, str] = {}
        for e in site.editions if keyed else ():
            kept = (last.edition_inputs.get(e.date)
                    if last is not None and listed is not None and e.date not in listed.days
                    else None)
            edition_keys[e.date] = kept or self._input_key(
                "edition", e.date.isoformat(), e.title, e.intro,
                *(views.listing_key(s) for s in e.articles))
        if made is not None:
            made.edition_inputs = edition_keys
        for number, total, chunk in _paginate(list(site.editions), site.config.per_page):
            rel = urls.home_rel(number)
            key = self._input_key("home", str(number), str(total),
                                  *(edition_keys[e.date] for e in chunk)) if keyed else ""
            if key and (reused := self._reuse(rel, key, "home")) is not None:
                yield reused
                continue
            pager = Pager(number, total,
                          links.href(urls.home_rel(number - 1)) if number > 1 else "",
                          links.href(urls.home_rel(number + 1)) if number < total else "")
            title = site.config.title if number == 1 else f"{site.config.title}, page {number}"
            yield page("home.html", rel, title, "home", "home", key=key,
                       editions=[edition_view(e) for e in chunk], pager=pager)
        for e in site.editions:
            rel, source = urls.edition_rel(e.date.isoformat()), f"edition {e.date.isoformat()}"
            key = edition_keys.get(e.date, "")
            if key and (reused := self._reuse(rel, key, source)) is not None:
                yield reused
                continue
            edition = edition_view(e)
            yield page("edition.html", rel, edition.title, "edition", source, key=key,
                       edition=edition)
        by_topic: dict[str, list[Article]] = {}
        by_speaker: dict[str, list[Article]] = {}
        for article in site.articles:
            for topic_slug in article.topics:
                by_topic.setdefault(topic_slug, []).append(article)
            for speaker in dict.fromkeys(q.speaker for q in article.quotes):
                by_speaker.setdefault(speaker, []).append(article)
        events_by_topic: dict[str, list[ChronologyEntry]] = {}
        for entry in site.chronology:
            for topic_slug in entry.topics:
                events_by_topic.setdefault(topic_slug, []).append(entry)
        listing_key = views.listing_key
        registries = self.ctx.registries_key
        # Topic, person, index, quotes and chronology pages are keyed by the inputs of
        # their views (registries, their articles' input keys, their events' keys), so a
        # rebuild reuses an unaffected one without building its views or meta tags.
        topic_views: list[Callable[[], TopicView]] = []
        topic_inputs: list[str] = []
        for slug, topic in sorted(site.topics.items()):
            members = by_topic.get(slug, [])
            events = events_by_topic.get(slug, [])
            # The view's inputs hashed once: the topic page, the topics index and the
            # kept view (with `digest serve`) are all keyed by that hash.
            hashed = (last.topic_inputs.get(slug, "")
                      if last is not None and listed is not None and slug not in listed.topics
                      else "")
            if hashing and not hashed:
                hashed = texts_hash((registries, *(listing_key(a.slug) for a in members), "|",
                                     *(views.event_key(e) for e in events)))
            inputs = ("topic-view", slug, hashed)

            def make_topic(slug: str = slug, topic: Topic = topic, members: list[Article]
                           = members, events: list[ChronologyEntry] = events) -> TopicView:
                return TopicView(slug, topic.title, topic.description,
                                 links.href(urls.topic_rel(slug)),
                                 tuple(views.card(a) for a in members), views.quotes(members),
                                 views.chronology(events))
            view = functools.partial(views.shared, inputs, make_topic)
            topic_views.append(view)
            topic_inputs.append(inputs[2])
            rel, source = urls.topic_rel(slug), f"topic {slug}"
            key, reused = self._keyed("topic.html", rel, source, inputs, keyed)
            yield reused or page("topic.html", rel, topic.title, "topic", source,
                                 topic.description, key=key, topic_slug=slug, topic=view())
        if made is not None:
            made.topic_inputs = dict(zip(sorted(site.topics), topic_inputs, strict=True))
        key, reused = self._keyed("topics.html", "topics/", "topics index", topic_inputs, keyed)
        yield reused or page("topics.html", "topics/", "Topics", "topics", "topics index",
                             key=key, topics=[view() for view in topic_views])
        person_views: list[Callable[[], PersonView]] = []
        person_inputs: list[str] = []
        for slug, person in sorted(site.people.items()):
            mentioned = by_speaker.get(slug, [])
            hashed = (last.person_inputs.get(slug, "")
                      if last is not None and listed is not None and slug not in listed.people
                      else "")
            if hashing and not hashed:
                hashed = texts_hash((registries, *(listing_key(a.slug) for a in mentioned)))
            inputs = ("person-view", slug, hashed)

            def make_person(slug: str = slug, person: Person = person,
                            mentioned: list[Article] = mentioned) -> PersonView:
                return PersonView(slug, person.name, person.role,
                                  links.href(urls.person_rel(slug)), person.same_as,
                                  views.quotes(mentioned, speaker=slug),
                                  tuple(views.card(a) for a in mentioned))
            view = functools.partial(views.shared, inputs, make_person)
            person_views.append(view)
            person_inputs.append(inputs[2])
            rel, source = urls.person_rel(slug), f"person {slug}"
            key, reused = self._keyed("person.html", rel, source, inputs, keyed)
            yield reused or page("person.html", rel, person.name, "person", source, person.role,
                                 key=key, jsonld=person_jsonld(site, person, links),
                                 person=view())
        if made is not None:
            made.person_inputs = dict(zip(sorted(site.people), person_inputs, strict=True))
        key, reused = self._keyed("people.html", "people/", "people index", person_inputs,
                                  keyed)
        yield reused or page("people.html", "people/", "People", "people", "people index",
                             key=key, people=[view() for view in person_views])
        everything = ("all-quotes", registries, *(listing_key(a.slug) for a in site.articles))
        key, reused = self._keyed("quotes.html", "quotes/", "quotes index", everything, keyed)
        yield reused or page("quotes.html", "quotes/", "Quotes", "quotes", "quotes index",
                             key=key, quotes=views.shared(
                                 everything, lambda: views.quotes(site.articles)))
        # Nothing after this shares fragments with the pages before: the memo is freed
        # before the chronology, the largest page after the quotes page.
        self._free_fragments()
        hashed = (last.chronology_inputs
                  if last is not None and listed is not None and not listed.events else "")
        if hashing and not hashed:
            hashed = texts_hash([views.event_key(e) for e in site.chronology])
        if made is not None:
            made.chronology_inputs = hashed
        chronology = ("chronology", registries, hashed)
        key, reused = self._keyed("chronology.html", "chronology/", "chronology",
                                  (*chronology, *sorted(site.topics)), keyed)
        topic_links = {s: views.topic_link(s) for s in sorted(site.topics)}
        yield reused or page("chronology.html", "chronology/", "Chronology", "chronology",
                             "chronology", key=key,
                             years=views.shared(chronology,
                                                lambda: views.chronology(site.chronology)),
                             topics=list(topic_links.values()),
                             event_topics=[link for s, link in topic_links.items()
                                           if s in events_by_topic])

    def _free_fragments(self) -> None:
        """Empty the `once` memo: cards, quotes and events repeat across the listing
        pages, not from one article page to the next, and the memo's HTML is tens of MB
        at 10,000 articles."""
        if self.ctx.fragments is not None:
            self.ctx.fragments.clear()

    def _keyed_files(self) -> bool:
        return self.memo is not None and bool(self.ctx.article_keys)

    def feeds(self) -> Iterator[OutputFile]:
        """The site's feeds; one is made again only when its articles' input keys, the
        oldest article's year (in feed ids) or the fallback date of empty feeds change."""
        missing = self.missing_feed_entries()
        if missing:
            self.keep_feed_entries(missing, self.feed_entries(missing))
        for feed, key, reused in self._feed_plan:
            yield reused or feed.output(key)
        forget_entries_but(self.ctx.annotated.values())

    @functools.cached_property
    def _feed_plan(self) -> list[tuple[Feed, str, OutputFile | None]]:
        """Every feed with its key, and the previous build's file when that is unchanged."""
        site, keys, keyed = self.site, self.ctx.article_keys, self._keyed_files()
        oldest = oldest_day(site.articles).isoformat()
        plan = []
        for feed in site_feeds(site, self.ctx.annotated, self.links):
            inputs = itertools.chain((oldest, feed.fallback.isoformat()),
                                     (keys[a.slug] for a in feed.articles))
            plan.append((feed, *self._keyed("feed", feed.dest_rel, feed.source, inputs,
                                            keyed)))
        return plan

    def missing_feed_entries(self) -> list[str]:
        """The articles whose feed entries (body and Atom entry) the feeds to be made need
        and nobody made yet (entries an earlier build kept are taken first), so that
        `digest build` can make them in its workers."""
        allow_html, site, links = self.site.config.allow_html, self.site, self.links
        return [slug for slug in self._feed_entries_wanted
                if not knows_feed_entry_html(annotated := self.ctx.annotated[slug],
                                             allow_html, links)
                or not knows_atom_entry(site, annotated, links)]

    @functools.cached_property
    def _feed_entries_wanted(self) -> list[str]:
        """`missing_feed_entries` before any is made: the store is looked up once."""
        plan = self._feed_plan
        if all(reused is not None for _, _, reused in plan):
            return []
        made = dict.fromkeys(a.slug for feed, _, reused in plan if reused is None
                             for a in feed.articles)
        shown = [self.ctx.annotated[slug] for slug in made]
        store = self.ctx.feed_store
        if store is not None:
            # The entries of the feeds kept as they were are only kept in the store (a
            # store keeps what a build asks for): unpacking them for nothing took about
            # 5 ms of a 0.23 s one-sidecar rebuild at 1,000 articles.
            store.retain([a.slug for feed, _, reused in plan if reused is not None
                          for a in feed.articles if a.slug not in made],
                         self.ctx.article_keys)
            shown = store.recall(shown, self.ctx.article_keys, self.site, self.links)
        return [a.article.slug for a in shown]

    def feed_entries(self, slugs: Iterable[str]) -> list[PackedEntry]:
        """The feed entries of these articles, made (perhaps in a worker: the Atom entry
        too, which the feeds, made by the build's own process, would otherwise make one
        after another) and packed to travel and be kept."""
        allow_html, site, links = self.site.config.allow_html, self.site, self.links
        packed = []
        for slug in slugs:
            annotated = self.ctx.annotated[slug]
            packed.append(PackedEntry.pack(feed_entry_html(annotated, allow_html, links),
                                           atom_entry(site, annotated, links)))
        return packed

    def keep_feed_entries(self, slugs: list[str], entries: list[PackedEntry]) -> None:
        """Feed entries made by `feed_entries`, for the feeds and the next builds."""
        allow_html, site, links = self.site.config.allow_html, self.site, self.links
        for slug, entry in zip(slugs, entries, strict=True):
            annotated = self.ctx.annotated[slug]
            # Made here, they are remembered unpacked already.
            if not knows_feed_entry_html(annotated, allow_html, links):
                remember_feed_entry_html(annotated, allow_html, links, entry)
            if not knows_atom_entry(site, annotated, links):
                remember_atom_entry(site, annotated, links, entry)
            if self.ctx.feed_store is not None:
                self.ctx.feed_store.keep(annotated, self.ctx.article_keys, site, links, entry)

    def sitemap(self, page_rels: list[str]) -> list[OutputFile]:
        """sitemap.xml and robots.txt, made again only when the pages, an article's last
        update, topics or speakers, or an edition's articles change; a sitemap split
        into several files is always made."""
        site = self.site
        key = ""
        if self._keyed_files() and len(page_rels) < MAX_URLS:
            places = (("sitemap.xml", "sitemap"), ("robots.txt", "robots.txt"))
            parts = self._sitemap_parts()
            memo, last, changes = self.memo, self._last_inputs(), self.changes
            if memo is not None and memo.made_inputs is not None:
                inputs = memo.made_inputs
                inputs.page_rels, inputs.sitemap_parts = tuple(page_rels), parts
                # With the last build's key inputs: its sitemap, while the pages are the same and
                # no changed article's update, topics or speakers changed.
                if (last is not None and changes is not None
                        and last.page_rels == inputs.page_rels
                        and all(parts[slug] == last.sitemap_parts.get(slug)
                                for slug in changes.articles)):
                    kept = [memo.kept(rel, source) for rel, source in places]
                    if all(kept):
                        return kept  # type: ignore[return-value]
            key = self._input_key("sitemap", *page_rels, "|",
                                  *(parts[a.slug] for a in site.articles), "|", *(
                                      f"{e.date.isoformat()} {' '.join(e.articles)}"
                                      for e in site.editions))
            reused = [self._reuse(rel, key, source) for rel, source in places]
            if all(page is not None for page in reused):
                return reused  # type: ignore[return-value]
        return [OutputFile(made.dest_rel, made.content, made.source, key)
                for made in sitemap_files(site, self.links, page_rels)]

    def _last_inputs(self) -> KeyInputs | None:
        """The previous build's KeyInputs when nothing pages share changed since."""
        return self.memo.inputs if self.memo is not None and self.changes is not None else None

    def _sitemap_parts(self) -> dict[str, str]:
        """What page_lastmods reads of each article (its update, topics and speakers), by
        slug; with the last build's key inputs, made again for the articles that changed
        only."""
        last, changes = self._last_inputs(), self.changes
        if last is not None and changes is not None and last.sitemap_parts:
            parts = dict(last.sitemap_parts)
            articles = [self.site.by_slug[slug] for slug in changes.articles]
        else:
            parts, articles = {}, list(self.site.articles)
        for a in articles:
            parts[a.slug] = sitemap_part(a.slug, a.updated.isoformat(), a.topics,
                                         dict.fromkeys(q.speaker for q in a.quotes))
        return parts

    def timeline(self) -> OutputFile:
        """timeline.json, made again only when an event's key changes."""
        if (self.changes is not None and self.memo is not None
                and not self.changes.retitle_events(self.views.events_by_article)):
            kept = self.memo.kept("timeline.json", "chronology timeline")
            if kept is not None:
                return kept
        keyed = self._keyed_files()
        key, reused = self._keyed("timeline", "timeline.json", "chronology timeline", (
            self.views.event_key(e) for e in self.site.chronology), keyed)
        if reused is not None:
            return reused
        made = timeline_file(self.site, self.links)
        return OutputFile(made.dest_rel, made.content, made.source, key)

