"""One article, start to finish on its own: load, check, render, annotate.

`process_article` depends only on its two files, the people registry and the config,
so its result can be cached by their content and computed in parallel processes.
Checks that need the whole site (unknown topics, speakers, related slugs) travel as
`Reference`s and are resolved later by `validate`.
"""

from __future__ import annotations

import zoneinfo
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from digest import urls
from digest.annotate import AnnotatedArticle, annotate_article
from digest.config import SiteConfig
from digest.dates import parse_fuzzy_date, parse_published
from digest.errors import Problem
from digest.fields import Validation, entries, load_checked, load_front_matter, slug_list, text_of
from digest.located import Loaded
from digest.markdown import is_safe_url, render_markdown, unsafe_links
from digest.model import Article, Event, Note, Person, Quote, Selector, Source
from digest.schema import FRONT_MATTER, SIDECAR
from digest.slugs import slug_problem, slugify
from digest.sources import SourceText
from digest.tuplepickle import pickled_as_tuple

# Where a value is written in the article's sidecar: (line, column).
Position = tuple[int, int]


@pickled_as_tuple
class Reference(NamedTuple):
    """A slug this article names, checked against the whole site later; reported, if
    unknown, at `line`:`column` of the article's sidecar.

    A named tuple rather than a dataclass holding a Problem: the build cache holds six or
    so per article, and at 10,000 articles unpickling them as dataclasses and Problems
    took 0.4 s of every build that loads the cache."""

    kind: str  # 'topic' | 'person' | 'article'
    value: str
    line: int
    column: int


@pickled_as_tuple
class ArticleResult(NamedTuple):
    """Everything one article contributes: the model, its page body and its problems.

    A named tuple, as the model's records (see model.py): it is what the build cache
    keeps of each article."""

    src_rel: str
    article: Article | None
    annotated: AnnotatedArticle | None
    problems: tuple[Problem, ...]
    references: tuple[Reference, ...]
    event_marks: tuple[Position, ...]  # where each of article.events is written


def _selector(loaded: Loaded, path: tuple[str | int, ...], entry: dict[str, Any],
              exact_key: str) -> Selector:
    mark = loaded.mark((*path, exact_key))
    return Selector(str(entry[exact_key]), text_of(entry, "prefix"), text_of(entry, "suffix"),
                    mark.line, mark.column)


def _quotes(loaded: Loaded, report: Validation) -> tuple[Quote, ...]:
    quotes = []
    seen: dict[str, int] = {}
    for index, entry in entries(loaded.data, "quotes"):
        if not isinstance(entry.get("text"), str) or not entry["text"].strip():
            continue
        path = ("quotes", index)
        quote_id = text_of(entry, "id") or "q-" + slugify(entry["text"], max_length=48)
        if quote_id in seen:
            report.add([loaded.problem((*path, "id") if "id" in entry else path,
                                       f"duplicate quote id '{quote_id}' (also item "
                                       f"{seen[quote_id] + 1} of 'quotes')",
                                       "give one of them a different 'id:'", code="duplicate-id")])
            continue
        seen[quote_id] = index
        quotes.append(Quote(quote_id, entry["text"], text_of(entry, "speaker"),
                            _selector(loaded, path, entry, "text"), text_of(entry, "context"),
                            entry.get("callout") is True))
    return tuple(quotes)


def _notes(loaded: Loaded, report: Validation) -> tuple[Note, ...]:
    notes = []
    for index, entry in entries(loaded.data, "notes"):
        key = "anchor" if isinstance(entry.get("anchor"), str) else "exact"
        if not isinstance(entry.get(key), str) or not isinstance(entry.get("text"), str):
            continue
        path = ("notes", index)
        sources = []
        for s_index, item in entries(entry, "sources"):
            url = text_of(item, "url")
            if url and not is_safe_url(url):
                report.add([loaded.problem((*path, "sources", s_index, "url"),
                                           "source URL uses a forbidden scheme",
                                           "use an http(s) URL", code="unsafe-url")])
            elif url:
                sources.append(Source(text_of(item, "title") or url, url))
        note_id = text_of(entry, "id") or f"note-{index + 1}"
        notes.append(Note(note_id, len(notes) + 1, text_of(entry, "kind") or "context",
                          entry["text"], _selector(loaded, path, entry, key), tuple(sources),
                          text_of(entry, "rating")))
    return tuple(notes)


def _events(loaded: Loaded, report: Validation) -> tuple[tuple[Event, Position], ...]:
    events = []
    for index, entry in entries(loaded.data, "events"):
        path = ("events", index)
        if "date" not in entry or not isinstance(entry.get("title"), str):
            continue
        try:
            start = parse_fuzzy_date(entry["date"])
            end = parse_fuzzy_date(entry["end"]) if "end" in entry else None
        except ValueError as exc:
            field = "date" if str(entry["date"]) in str(exc) else "end"
            report.add([loaded.problem((*path, field), str(exc),
                                       "write YYYY, YYYY-MM or YYYY-MM-DD", code="date")])
            continue
        if end is not None and (end.last_day() < start.first_day() or end == start):
            message = (f"the range ends ({end.iso}) before it starts ({start.iso})"
                       if end != start else f"the range ends on the day it starts ({start.iso})")
            report.add([loaded.problem((*path, "end"), message,
                                       "swap 'date' and 'end', or remove 'end'",
                                       code="date-range")])
            continue
        event = Event(start, entry["title"], end, entry.get("approx") is True,
                      text_of(entry, "text"), text_of(entry, "id"))
        events.append((event, _position(loaded, path)))
    return tuple(events)


def _markdown_links(side: Loaded, report: Validation) -> None:
    """Unsafe link targets in the sidecar's Markdown fields, reported at the field."""
    data = side.data
    fields: list[tuple[tuple[str | int, ...], object]] = [(("summary",), data.get("summary"))]
    for key, field in (("quotes", "context"), ("notes", "text"), ("events", "text")):
        fields += [((key, i, field), entry.get(field)) for i, entry in entries(data, key)]
    for path, text in fields:
        for link in unsafe_links(text) if isinstance(text, str) else ():
            report.add([side.problem(path, f"link to a forbidden URL scheme: {link.url[:60]}",
                                     "use an http(s) or relative URL", code="unsafe-url")])


def _position(loaded: Loaded, path: tuple[str | int, ...]) -> Position:
    mark = loaded.mark(path)
    return mark.line, mark.column


def _references(side: Loaded, slug: str, report: Validation) -> list[Reference]:
    data = side.data
    refs = [Reference("topic", value, *_position(side, ("topics", i)))
            for i, value in slug_list(data, "topics")]
    for index, entry in entries(data, "quotes"):
        if isinstance(entry.get("speaker"), str):
            refs.append(Reference("person", entry["speaker"],
                                  *_position(side, ("quotes", index, "speaker"))))
    for index, value in slug_list(data, "related"):
        if value == slug:
            report.add([side.problem(("related", index), "an article cannot be related to "
                                     "itself", "remove it from 'related'", code="related")])
        else:
            refs.append(Reference("article", value, *_position(side, ("related", index))))
    return refs


def _load(source: SourceText, sidecar: SourceText | None, config: SiteConfig,
          report: Validation) -> tuple[Article, list[Reference], list[Position]] | None:
    """The Article model from its two files; None when the article file is unusable."""
    start = len(report.problems)
    front, body, body_line = load_front_matter(source, report, FRONT_MATTER)
    side = load_checked(sidecar, SIDECAR, report) if sidecar else None
    if side is not None:
        _markdown_links(side, report)
    if front is None or report.has_errors_in(source.src_rel, start):
        return None
    data = front.data
    tz = zoneinfo.ZoneInfo(config.timezone)
    try:
        day, published = parse_published(data["date"], tz)
        updated = parse_published(data["updated"], tz)[1] if "updated" in data else published
    except ValueError as exc:
        key = "date" if str(data["date"]) in str(exc) else "updated"
        report.add([front.problem((key,), str(exc), "write the date as YYYY-MM-DD",
                                  code="date")])
        return None
    stem = PurePosixPath(source.src_rel).stem
    slug = text_of(data, "slug") or stem
    if problem := slug_problem(slug):
        report.add([front.problem(("slug",) if "slug" in data else (), f"article slug {problem}",
                                  f"rename the file or set 'slug: {slugify(stem)}'",
                                  code="slug")])
        return None
    for key in ("source_url", "license_url"):
        if key in data and not is_safe_url(str(data[key])):
            report.add([front.problem((key,), f"'{key}' uses a forbidden URL scheme",
                                      "use an http(s) URL", code="unsafe-url")])
    side_data = side.data if side else {}
    events = _events(side, report) if side else ()
    article = Article(
        slug=slug, src_rel=source.src_rel, sidecar_rel=sidecar.src_rel if sidecar else "",
        title=data["title"], date=day, published=published, updated=updated,
        body=body, body_line=body_line,
        source=text_of(data, "source"), source_url=text_of(data, "source_url"),
        section=text_of(data, "section"), byline=text_of(data, "byline"),
        standfirst=text_of(data, "standfirst"), image_caption=text_of(data, "image_caption"),
        draft=data.get("draft") is True, license=text_of(data, "license"),
        license_url=text_of(data, "license_url"),
        summary=text_of(side_data, "summary"),
        topics=tuple(v for _, v in slug_list(side_data, "topics")),
        quotes=_quotes(side, report) if side else (),
        notes=_notes(side, report) if side else (),
        events=tuple(e for e, _ in events),
        related=tuple(v for _, v in slug_list(side_data, "related")),
    )
    references = _references(side, slug, report) if side else []
    return article, references, [mark for _, mark in events]


def process_article(source: SourceText, sidecar: SourceText | None, config: SiteConfig,
                    people: dict[str, Person]) -> ArticleResult:
    """Load, check, render and annotate one article: a pure function of its inputs."""
    report = Validation([])
    loaded = _load(source, sidecar, config, report)
    if loaded is None:
        return ArticleResult(source.src_rel, None, None, tuple(report.problems), (), ())
    article, references, event_marks = loaded
    rendered = render_markdown(article.body, config.allow_html)
    for link in rendered.links:
        if not is_safe_url(link.url):
            report.add([Problem(article.src_rel, article.body_line + link.line, link.column,
                                f"link to a forbidden URL scheme: {link.url[:60]}",
                                "use an http(s) or relative URL", code="unsafe-url")])
    links = urls.Urls(config.base_url)
    person_href = {q.speaker: links.href(urls.person_rel(q.speaker)) for q in article.quotes}
    body_html, quote_places, note_places = annotate_article(
        article, rendered.html, people, person_href, config.allow_html, report.problems)
    # The Markdown source is not needed past this point; dropping it keeps the
    # cache and the worker results small.
    article = article._replace(body="")
    annotated = AnnotatedArticle.of(article, body_html, rendered.html, quote_places,
                                    note_places, config.allow_html)
    return ArticleResult(source.src_rel, article, annotated, tuple(report.problems),
                         tuple(references), tuple(event_marks))
