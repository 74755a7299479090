"""Anchor each quote and note in its article's rendered text and mark it up.

Quotes become `<mark>` highlights (with a pull-quote figure after their paragraph when
`callout` is set); notes become numbered side notes beside their passage, linked both
ways. A passage that cannot be found, or is found twice, is a problem at the sidecar
line; an annotation is never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape

import lz4.block

from digest import anchors
from digest.cache import texts_hash
from digest.errors import Problem
from digest.markdown import is_safe_url, render_markdown
from digest.model import Article, Note, Person, Quote, Selector
from digest.slotpickle import fast_slots_pickle

NOTE_LABELS = {
    "context": "Context",
    "fact-check": "Fact check",
    "correction": "Correction",
    "analysis": "Analysis",
}


@fast_slots_pickle
@dataclass(frozen=True, slots=True)
class AnnotatedArticle:
    """An article with its body rendered and every annotation placed.

    The two renderings are kept compressed: a build holds every article's (and the cache
    stores them), and each is read only a few times, when its pages are rendered. They
    are compressed as one text, the feed's after the page's: the feed's is mostly the
    same text, which then compresses to little. LZ4 rather than zlib: on the benchmark
    articles (13 kB of HTML each) it took 0.019 ms and 4.9 kB per article against
    0.125 ms and 3.6 kB for zlib's fastest level, and reads them back 6 times faster;
    at 10,000 articles the 14 MB more it holds is well within the memory target."""

    article: Article
    html_lz4: bytes  # the page's body HTML, then the feed's, in UTF-8, as one LZ4 block
    body_size: int  # bytes of the page's
    listing_key: str  # see `listing_key`

    @classmethod
    def of(cls, article: Article, body_html: str, feed_html: str) -> AnnotatedArticle:
        body = body_html.encode("utf-8")
        return cls(article, lz4.block.compress(body + feed_html.encode("utf-8")), len(body),
                   listing_key(article))

    @property
    def body_html(self) -> str:
        """With highlights, side notes and callouts."""
        return lz4.block.decompress(self.html_lz4)[:self.body_size].decode("utf-8")

    @property
    def feed_html(self) -> str:
        """With highlights and notes as plain footnotes."""
        return lz4.block.decompress(self.html_lz4)[self.body_size:].decode("utf-8")


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


def _note_body(note: Note, allow_html: bool) -> str:
    rating = (f' <span class="note-rating">Verdict: {escape(note.rating)}</span>'
              if note.rating else "")
    return (f'<span class="note-kind">{NOTE_LABELS.get(note.kind, note.kind)}</span> '
            f"{render_inline(note.text, allow_html)}{rating}{_sources_html(note)}")


def sidenote_html(note: Note, allow_html: bool) -> str:
    """The side note inserted after its passage: number, toggle and note (tufte-css)."""
    nid = escape(note.id)
    return (
        f'<sup class="note-ref"><a href="#{nid}" id="ref-{nid}" '
        f'aria-label="Note {note.number}">{note.number}</a></sup>'
        f'<label for="toggle-{nid}" class="note-toggle"><span class="visually-hidden">Show '
        f"note </span>{note.number}</label>"
        f'<input type="checkbox" id="toggle-{nid}" class="note-toggle-input">'
        f'<span class="sidenote note-{escape(note.kind)}" id="{nid}" role="note">'
        f'<a class="note-number" href="#ref-{nid}" aria-label="Back to the passage of note '
        f'{note.number}">{note.number}</a> {_note_body(note, allow_html)}</span>'
    )


def footnote_ref_html(note: Note) -> str:
    return f'<sup><a href="#fn-{escape(note.id)}">{note.number}</a></sup>'


def footnotes_html(notes: tuple[Note, ...], allow_html: bool) -> str:
    """Notes as a plain ordered list, for feeds and print."""
    if not notes:
        return ""
    items = "".join(f'<li id="fn-{escape(n.id)}">{_note_body(n, allow_html)}</li>'
                    for n in notes)
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
                     problems: list[Problem]) -> tuple[str, str]:
    """Place every quote and note of `article` in its rendered body: (the page's body,
    the feed's body with notes as footnotes)."""
    page_doc = anchors.AnnotatedHtml(body_html)
    feed_doc = page_doc.twin()
    seen_ids: dict[str, str] = {}
    for quote in article.quotes:
        if _duplicate_id(article, quote.id, quote.selector, seen_ids, problems):
            continue
        span = _locate(page_doc, article, quote.selector, "quote", problems)
        if span is None:
            continue
        attrs = {"data-speaker": quote.speaker}
        page_doc.add_mark(span, quote.id, "quote", attrs=attrs)
        feed_doc.add_mark(span, quote.id, "quote")
        if quote.callout:
            page_doc.add_after_block(page_doc.block_of(span.end - 1), callout_html(
                quote, people.get(quote.speaker), person_href.get(quote.speaker, "")))
    for note in article.notes:
        mark_id = f"passage-{note.id}"
        if _duplicate_id(article, note.id, note.selector, seen_ids, problems):
            continue
        span = _locate(page_doc, article, note.selector, "note anchor", problems)
        if span is None:
            continue
        css = f"annotated note-{note.kind}"
        page_doc.add_mark(span, mark_id, css, after_html=sidenote_html(note, allow_html))
        feed_doc.add_mark(span, mark_id, css, after_html=footnote_ref_html(note))
    feed_html = feed_doc.render() + footnotes_html(article.notes, allow_html)
    return page_doc.render(), feed_html


def _duplicate_id(article: Article, element_id: str, selector: Selector,
                  seen: dict[str, str], problems: list[Problem]) -> bool:
    if element_id in seen:
        problems.append(Problem(article.sidecar_rel, selector.line, selector.column,
                                f"id '{element_id}' is used twice in this sidecar",
                                "give each quote and note its own 'id:'", code="duplicate-id"))
        return True
    seen[element_id] = element_id
    return False
