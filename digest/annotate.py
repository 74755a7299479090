"""Anchor each quote and note in its article's rendered text and mark it up.

Quotes become `<mark>` highlights (with a pull-quote figure after their paragraph when
`callout` is set); notes become numbered side notes beside their passage, linked both
ways. A passage that cannot be found, or is found twice, is a problem at the sidecar
line; an annotation is never dropped silently.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import NamedTuple

import lz4.block

from digest import anchors
from digest.cache import texts_hash
from digest.errors import Problem
from digest.markdown import is_safe_url, render_markdown
from digest.model import Article, Note, Person, Quote, Selector
from digest.tuplepickle import pickled_as_tuple

NOTE_LABELS = {
    "context": "Context",
    "fact-check": "Fact check",
    "correction": "Correction",
    "analysis": "Analysis",
}


Found = tuple[int, int] | None  # where an annotation was placed in the text, if it was


def pack_two(first: bytes, second: bytes) -> tuple[int, bytes]:
    """Two texts as one LZ4 block, and the size of the first: where the second repeats
    much of the first (an article's HTML before and after annotation, a feed body and
    the Atom entry holding it), together they take little more than the first alone."""
    return len(first), lz4.block.compress(first + second)


def unpack_one(block: bytes, first_size: int, second: bool = False) -> bytes:
    """The first (or the second) of the two texts `pack_two` packed."""
    data = lz4.block.decompress(block)
    return data[first_size:] if second else data[:first_size]


@pickled_as_tuple
class AnnotatedArticle(NamedTuple):
    """An article with its body rendered and every annotation placed (a named tuple, as
    the model's records: see model.py).

    Holds the page's body HTML and, for the article's feed entry, the Markdown's own
    HTML and where each quote and note was found in its text: a feed shows only an
    article's newest, 764 of 10,000 on the benchmark site, and making every article's
    entry when it was read (0.35 ms each) had become a tenth of a cold build's time.
    `feeds.feed_entry_html` makes one from these when a feed asks.

    The two HTML texts are kept compressed, as one LZ4 block, the Markdown's after the
    page's: a build holds every article's (and the cache stores them), each is read
    only a few times, and the second is mostly the same text, which then compresses to
    little. LZ4 rather than zlib: on the benchmark articles it took a sixth of the
    time of zlib's fastest level and reads back about 6 times faster, for about 40%
    more bytes (4.9 kB an article against 3.6 kB)."""

    article: Article
    html_lz4: bytes  # the page's body HTML, then the Markdown's, in UTF-8
    body_size: int  # bytes of the page's
    listing_key: str  # see `listing_key`
    chronology_key: str  # see `chronology_key`
    quote_places: tuple[Found, ...]  # one per quote of the article, in order
    note_places: tuple[Found, ...]  # one per note
    # Each note's text as inline HTML (`render_inline`), made here because the page
    # workers are forked apart from the processes that read the articles, and rendering
    # every note again took 65 us an article page.
    note_html: tuple[str, ...]

    @classmethod
    def of(cls, article: Article, body_html: str, markdown_html: str,
           quote_places: tuple[Found, ...], note_places: tuple[Found, ...],
           allow_html: bool) -> AnnotatedArticle:
        size, block = pack_two(body_html.encode("utf-8"), markdown_html.encode("utf-8"))
        return cls(article, block, size, listing_key(article), chronology_key(article),
                   quote_places, note_places,
                   tuple(render_inline(note.text, allow_html) for note in article.notes))

    @property
    def body_html(self) -> str:
        """With highlights, side notes and callouts."""
        return unpack_one(self.html_lz4, self.body_size).decode("utf-8")

    @property
    def markdown_html(self) -> str:
        """The body as the Markdown renderer made it, before any annotation."""
        return unpack_one(self.html_lz4, self.body_size, second=True).decode("utf-8")


def listing_key(article: Article) -> str:
    """A hash of everything pages other than its own show of an article: its card (slug,
    title, day, section, standfirst, topics), its quotes, and its title on the entries of
    its events. An edit to its body, summary or notes leaves it unchanged, so topic,
    person, edition, index, quotes and chronology pages are reused.

    Made with the article, in the worker that reads it, and cached with it: a rebuild
    after one edit at 10,000 articles spent 0.2 s making them all again."""
    return texts_hash((article.slug, article.title, article.date.isoformat(), article.section,
                       article.standfirst, *article.topics, "|",
                       *(repr((q.id, q.text, q.speaker, q.context, q.callout))
                         for q in article.quotes)))


def chronology_key(article: Article) -> str:
    """A hash of everything the merged chronology reads of an article (its slug, day,
    topics and events): while every article's is the same, so is the merge
    (`validate.merge_chronology`; its sidecar's name and where each event is written
    only go into the problem of a conflict, and a merge with a conflict is not kept).
    Made with the article, as `listing_key`."""
    return texts_hash((article.slug, article.date.isoformat(), *article.topics, "|",
                       *(repr(event) for event in article.events)))


@lru_cache(maxsize=32768)
def render_inline(text: str, allow_html: bool) -> str:
    """Markdown for places that take inline HTML only (side notes, captions)."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    return "<br>".join(render_markdown(b, allow_html, inline=True).html for b in blocks)


def _problem(article: Article, selector: Selector, error: anchors.AnchorError,
             what: str) -> Problem:
    hint = error.hint
    code = "anchor-ambiguous" if isinstance(error, anchors.AnchorAmbiguous) else "anchor-not-found"
    # "quote not found in the article: ..." / "note anchor occurs 3 times ..."
    message = error.message if error.message.startswith('"') else f"{what} {error.message}"
    return Problem(article.sidecar_rel, selector.line, selector.column, message, hint,
                   code=code)


def _locate(doc: anchors.AnnotatedHtml, article: Article, selector: Selector, what: str,
            problems: list[Problem]) -> anchors.Span | None:
    try:
        return doc.locate(anchors.Selector(selector.exact, selector.prefix, selector.suffix))
    except anchors.AnchorError as error:
        problems.append(_problem(article, selector, error, what))
        return None


def _sources_html(note: Note) -> str:
    links = [f'<a href="{escape(s.url)}">{escape(s.title)}</a>' for s in note.sources
             if is_safe_url(s.url)]
    label = "Source" if len(links) == 1 else "Sources"
    return f' <span class="note-sources">{label}: {", ".join(links)}</span>' if links else ""


def _note_body(note: Note, text_html: str) -> str:
    """The note's label, text (`text_html`, its text rendered inline), verdict and
    sources."""
    rating = (f' <span class="note-rating">Verdict: {escape(note.rating)}</span>'
              if note.rating else "")
    return (f'<span class="note-kind">{NOTE_LABELS.get(note.kind, note.kind)}</span> '
            f"{text_html}{rating}{_sources_html(note)}")


def sidenote_html(note: Note, allow_html: bool) -> str:
    """The side note inserted after its passage: number, toggle and note (tufte-css)."""
    nid = escape(note.id)
    body = _note_body(note, render_inline(note.text, allow_html))
    return (
        f'<sup class="note-ref"><a href="#{nid}" id="ref-{nid}" '
        f'aria-label="Note {note.number}">{note.number}</a></sup>'
        f'<label for="toggle-{nid}" class="note-toggle"><span class="visually-hidden">Show '
        f"note </span>{note.number}</label>"
        f'<input type="checkbox" id="toggle-{nid}" class="note-toggle-input">'
        f'<span class="sidenote note-{escape(note.kind)}" id="{nid}" role="note">'
        f'<a class="note-number" href="#ref-{nid}" aria-label="Back to the passage of note '
        f'{note.number}">{note.number}</a> {body}</span>'
    )


def footnote_ref_html(note: Note) -> str:
    return f'<sup><a href="#fn-{escape(note.id)}">{note.number}</a></sup>'


def footnotes_html(notes: tuple[Note, ...], note_html: tuple[str, ...]) -> str:
    """Notes as a plain ordered list, for feeds and print (`note_html`: their texts
    rendered inline, as AnnotatedArticle.note_html)."""
    if not notes:
        return ""
    items = "".join(f'<li id="fn-{escape(n.id)}">{_note_body(n, html)}</li>'
                    for n, html in zip(notes, note_html, strict=True))
    return f'<hr><ol class="footnotes">{items}</ol>'


def callout_html(quote: Quote, person: Person | None, person_href: str) -> str:
    """A pull quote: figure, blockquote and caption naming the speaker and role."""
    name = escape(person.name) if person else escape(quote.speaker)
    speaker = f'<a href="{escape(person_href)}">{name}</a>' if person else name
    role = f", {escape(person.role)}" if person and person.role else ""
    return (f'<figure class="callout"><blockquote><p>{escape(quote.text)}</p></blockquote>'
            f'<figcaption>{speaker}{role} <a class="callout-link" href="#{escape(quote.id)}" '
            f'aria-label="Go to the quote in the text">↑</a></figcaption></figure>')


def annotate_article(article: Article, body_html: str, people: dict[str, Person],
                     person_href: dict[str, str], allow_html: bool,
                     problems: list[Problem]) -> tuple[str, tuple[Found, ...], tuple[Found, ...]]:
    """Place every quote and note of `article` in its rendered body: (the page's body,
    where each quote was placed, where each note was), for `feed_entry_html`."""
    page_doc = anchors.AnnotatedHtml(body_html)
    seen_ids: dict[str, str] = {}
    quote_places: list[Found] = []
    note_places: list[Found] = []
    for quote in article.quotes:
        quote_places.append(None)
        if _duplicate_id(article, quote.id, quote.selector, seen_ids, problems):
            continue
        span = _locate(page_doc, article, quote.selector, "quote", problems)
        if span is None:
            continue
        attrs = {"data-speaker": quote.speaker}
        page_doc.add_mark(span, quote.id, "quote", attrs=attrs)
        quote_places[-1] = (span.start, span.end)
        if quote.callout:
            page_doc.add_after_block(page_doc.block_of(span.end - 1), callout_html(
                quote, people.get(quote.speaker), person_href.get(quote.speaker, "")))
    for note in article.notes:
        note_places.append(None)
        if _duplicate_id(article, note.id, note.selector, seen_ids, problems):
            continue
        span = _locate(page_doc, article, note.selector, "note anchor", problems)
        if span is None:
            continue
        page_doc.add_mark(span, f"passage-{note.id}", f"annotated note-{note.kind}",
                          after_html=sidenote_html(note, allow_html))
        note_places[-1] = (span.start, span.end)
    return page_doc.render(), tuple(quote_places), tuple(note_places)


def feed_body_html(annotated: AnnotatedArticle, allow_html: bool) -> str:
    """The article's body for feeds: the same highlights, and notes as footnotes (a
    numbered reference where the page has the side note, the notes listed after)."""
    article = annotated.article
    doc = anchors.AnnotatedHtml(annotated.markdown_html)
    for quote, place in zip(article.quotes, annotated.quote_places, strict=True):
        if place is not None:
            doc.add_mark(anchors.Span(*place), quote.id, "quote")
    for note, place in zip(article.notes, annotated.note_places, strict=True):
        if place is not None:
            doc.add_mark(anchors.Span(*place), f"passage-{note.id}",
                         f"annotated note-{note.kind}", after_html=footnote_ref_html(note))
    return doc.render() + footnotes_html(article.notes, annotated.note_html)


def _duplicate_id(article: Article, element_id: str, selector: Selector,
                  seen: dict[str, str], problems: list[Problem]) -> bool:
    if element_id in seen:
        problems.append(Problem(article.sidecar_rel, selector.line, selector.column,
                                f"id '{element_id}' is used twice in this sidecar",
                                "give each quote and note its own 'id:'", code="duplicate-id"))
        return True
    seen[element_id] = element_id
    return False
