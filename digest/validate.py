"""Raw sources -> model. Collects every problem of every file; never stops at the first."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from digest.config import SiteConfig
from digest.dates import parse_fuzzy_date, parse_published
from digest.errors import Problem, did_you_mean
from digest.markdown import is_safe_url
from digest.model import (
    Article,
    ChronologyEntry,
    Edition,
    Event,
    Note,
    Page,
    Person,
    Quote,
    Selector,
    Site,
    Source,
    Topic,
)
from digest.schema import EDITION, FRONT_MATTER, PAGE_FRONT_MATTER, PEOPLE, SIDECAR, TOPICS
from digest.slugs import slug_problem, slugify
from digest.sources import SourceSet, SourceText, split_front_matter
from digest.structure import check
from digest.yamlload import Loaded, YamlError, parse_yaml

# Page slugs that would shadow a section of the site.
RESERVED_PAGE_SLUGS = frozenset({
    "articles", "topics", "people", "quotes", "chronology", "digests", "search", "page",
    "static", "pagefind", "feed.xml", "feed.json", "404",
})


@dataclass(slots=True)
class Validation:
    """Problems found so far; every loader appends here."""

    problems: list[Problem]

    def add(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)


def _load_yaml(source: SourceText, schema: dict[str, Any], report: Validation,
               text: str | None = None, line_offset: int = 0) -> Loaded | None:
    try:
        loaded = parse_yaml(source.text if text is None else text, source.src_rel, line_offset)
    except YamlError as exc:
        report.add([exc.problem])
        return None
    if loaded.data is not None and not isinstance(loaded.data, dict):
        report.add([loaded.problem((), "expected keys and values at the top level",
                                   "write 'key: value' lines", code="type")])
        return None
    if loaded.data is None:
        loaded.data = {}
    report.add(check(loaded, schema))
    return loaded


def _bad_paths(report: Validation, start: int, src_rel: str) -> bool:
    return any(p.path == src_rel and p.severity == "error" for p in report.problems[start:])


def load_topics(source: SourceText | None, report: Validation) -> dict[str, Topic]:
    if source is None:
        return {}
    loaded = _load_yaml(source, TOPICS, report)
    topics: dict[str, Topic] = {}
    for slug, entry in (loaded.data if loaded else {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("title"), str):
            topics[slug] = Topic(slug, entry["title"], str(entry.get("description", "")),
                                 tuple(map(str, entry.get("aliases") or ())))
    return topics


def load_people(source: SourceText | None, report: Validation) -> dict[str, Person]:
    if source is None:
        return {}
    loaded = _load_yaml(source, PEOPLE, report)
    people: dict[str, Person] = {}
    for slug, entry in (loaded.data if loaded else {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            people[slug] = Person(slug, entry["name"], str(entry.get("role", "")),
                                  tuple(map(str, entry.get("aliases") or ())),
                                  tuple(map(str, entry.get("same_as") or ())))
    return people


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _slug_list(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _selector(loaded: Loaded, path: tuple[str | int, ...], entry: dict[str, Any],
              exact_key: str) -> Selector:
    mark = loaded.mark((*path, exact_key))
    return Selector(str(entry[exact_key]), _text(entry, "prefix"), _text(entry, "suffix"),
                    mark.line, mark.column)


def _quotes(loaded: Loaded, report: Validation) -> tuple[Quote, ...]:
    quotes = []
    seen: dict[str, int] = {}
    for index, entry in _entries(loaded.data, "quotes"):
        if not isinstance(entry.get("text"), str) or not entry["text"].strip():
            continue
        path = ("quotes", index)
        quote_id = entry.get("id") if isinstance(entry.get("id"), str) else ""
        if not quote_id:
            quote_id = "q-" + slugify(entry["text"], max_length=48)
        if quote_id in seen:
            report.add([loaded.problem((*path, "id") if "id" in entry else path,
                                       f"duplicate quote id '{quote_id}' (also item "
                                       f"{seen[quote_id] + 1} of 'quotes')",
                                       "give one of them a different 'id:'", code="duplicate-id")])
            continue
        seen[quote_id] = index
        quotes.append(Quote(quote_id, entry["text"], _text(entry, "speaker"),
                            _selector(loaded, path, entry, "text"), _text(entry, "context"),
                            entry.get("callout") is True))
    return tuple(quotes)


def _sources(loaded: Loaded, path: tuple[str | int, ...], entry: dict[str, Any],
             report: Validation) -> tuple[Source, ...]:
    sources = []
    for index, item in _entries(entry, "sources"):
        url = _text(item, "url")
        if url:
            sources.append(Source(_text(item, "title") or url, url))
    return tuple(sources)


def _notes(loaded: Loaded, report: Validation) -> tuple[Note, ...]:
    notes = []
    for index, entry in _entries(loaded.data, "notes"):
        key = "anchor" if isinstance(entry.get("anchor"), str) else "exact"
        if not isinstance(entry.get(key), str) or not isinstance(entry.get("text"), str):
            continue
        path = ("notes", index)
        number = len(notes) + 1
        note_id = entry["id"] if isinstance(entry.get("id"), str) else f"note-{index + 1}"
        notes.append(Note(note_id, number, _text(entry, "kind") or "context", entry["text"],
                          _selector(loaded, path, entry, key),
                          _sources(loaded, path, entry, report), _text(entry, "rating")))
    return tuple(notes)


def _events(loaded: Loaded, report: Validation) -> tuple[Event, ...]:
    events = []
    for index, entry in _entries(loaded.data, "events"):
        path = ("events", index)
        if "date" not in entry or not isinstance(entry.get("title"), str):
            continue
        try:
            start = parse_fuzzy_date(entry["date"])
        except ValueError as exc:
            report.add([loaded.problem((*path, "date"), str(exc),
                                       "write YYYY, YYYY-MM or YYYY-MM-DD", code="date")])
            continue
        end = None
        if "end" in entry:
            try:
                end = parse_fuzzy_date(entry["end"])
            except ValueError as exc:
                report.add([loaded.problem((*path, "end"), str(exc),
                                           "write YYYY, YYYY-MM or YYYY-MM-DD", code="date")])
                continue
            if end.last_day() < start.first_day() or end == start:
                report.add([loaded.problem((*path, "end"), f"the range ends ({end.iso}) "
                                           f"before it starts ({start.iso})" if end != start
                                           else f"the range ends on the day it starts "
                                           f"({start.iso})",
                                           "swap 'date' and 'end', or remove 'end'",
                                           code="date-range")])
                continue
        events.append(Event(start, entry["title"], end, entry.get("approx") is True,
                            _text(entry, "text"), _text(entry, "id")))
    return tuple(events)


def _front_matter(source: SourceText, report: Validation, schema: dict[str, Any]
                  ) -> tuple[Loaded | None, str, int]:
    front, body, body_line = split_front_matter(source.text)
    if front is None:
        report.add([Problem(source.src_rel, 1, 1, "missing front matter",
                            "start the file with '---', then 'title:' and 'date:' lines, "
                            "then '---'", code="front-matter")])
        return None, body, body_line
    return _load_yaml(source, schema, report, text=front, line_offset=1), body, body_line


def load_article(source: SourceText, sidecar: SourceText | None, config: SiteConfig,
                 report: Validation) -> Article | None:
    """One article and its sidecar; None when either is too broken to use."""
    tz = zoneinfo.ZoneInfo(config.timezone)
    start = len(report.problems)
    front, body, body_line = _front_matter(source, report, FRONT_MATTER)
    side = _load_yaml(sidecar, SIDECAR, report) if sidecar else None
    if front is None or _bad_paths(report, start, source.src_rel):
        return None
    data = front.data
    try:
        day, published = parse_published(data["date"], tz)
    except ValueError as exc:
        report.add([front.problem(("date",), str(exc), "write the date as YYYY-MM-DD",
                                  code="date")])
        return None
    updated = published
    if "updated" in data:
        try:
            updated = parse_published(data["updated"], tz)[1]
        except ValueError as exc:
            report.add([front.problem(("updated",), str(exc), "write the date as YYYY-MM-DD",
                                      code="date")])
    stem = PurePosixPath(source.src_rel).stem
    slug = _text(data, "slug") or stem
    if problem := slug_problem(slug):
        key_path = ("slug",) if "slug" in data else ()
        report.add([front.problem(key_path, f"article slug {problem}",
                                  f"rename the file or set 'slug: {slugify(stem)}'",
                                  code="slug")])
        return None
    for key in ("source_url", "license_url"):
        if key in data and not is_safe_url(str(data[key])):
            report.add([front.problem((key,), f"'{key}' uses a forbidden URL scheme",
                                      "use an http(s) URL", code="unsafe-url")])
    sidecar_data = side.data if side else {}
    return Article(
        slug=slug, src_rel=source.src_rel, sidecar_rel=sidecar.src_rel if sidecar else "",
        title=data["title"], date=day, published=published, updated=updated,
        body=body, body_line=body_line,
        source=_text(data, "source"), source_url=_text(data, "source_url"),
        section=_text(data, "section"), byline=_text(data, "byline"),
        standfirst=_text(data, "standfirst"), image_caption=_text(data, "image_caption"),
        draft=data.get("draft") is True, license=_text(data, "license"),
        license_url=_text(data, "license_url"),
        summary=_text(sidecar_data, "summary"),
        topics=_slug_list(sidecar_data, "topics"),
        quotes=_quotes(side, report) if side else (),
        notes=_notes(side, report) if side else (),
        events=_events(side, report) if side else (),
        related=_slug_list(sidecar_data, "related"),
    ), side


def _check_references(article: Article, side: Loaded | None, topics: dict[str, Topic],
                      people: dict[str, Person], slugs: set[str], report: Validation) -> None:
    if side is None:
        return
    data = side.data

    def unknown(path: tuple[str | int, ...], kind: str, value: str, known: Iterable[str],
                registry: str) -> None:
        hint = did_you_mean(value, known) or f"add '{value}' to {registry}"
        report.add([side.problem(path, f"unknown {kind} '{value}'", hint,
                                 code=f"unknown-{kind}")])

    for index, value in enumerate(_slug_list(data, "topics")):
        if value not in topics:
            unknown(("topics", index), "topic", value, topics, "content/topics.yaml")
    for index, entry in _entries(data, "quotes"):
        speaker = entry.get("speaker")
        if isinstance(speaker, str) and speaker not in people:
            unknown(("quotes", index, "speaker"), "person", speaker, people,
                    "content/people.yaml")
    for index, value in enumerate(_slug_list(data, "related")):
        if value == article.slug:
            report.add([side.problem(("related", index), "an article cannot be related to "
                                     "itself", "remove it from 'related'", code="related")])
        elif value not in slugs:
            unknown(("related", index), "article", value, slugs, "content/articles/")
    for index, entry in _entries(data, "notes"):
        for s_index, source in _entries(entry, "sources"):
            url = source.get("url")
            if isinstance(url, str) and not is_safe_url(url):
                report.add([side.problem(("notes", index, "sources", s_index, "url"),
                                         "source URL uses a forbidden scheme",
                                         "use an http(s) URL", code="unsafe-url")])


def load_pages(sources: Iterable[SourceText], report: Validation) -> tuple[Page, ...]:
    pages = []
    seen: dict[str, str] = {}
    for source in sources:
        front, body, _line = _front_matter(source, report, PAGE_FRONT_MATTER)
        if front is None or not isinstance(front.data.get("title"), str):
            continue
        slug = _text(front.data, "slug") or PurePosixPath(source.src_rel).stem
        if problem := slug_problem(slug):
            report.add([front.problem((), f"page slug {problem}", "rename the file",
                                      code="slug")])
            continue
        if slug in RESERVED_PAGE_SLUGS:
            report.add([front.problem((), f"page slug '{slug}' collides with the site's "
                                      f"/{slug}/ section", "rename the page or set another "
                                      "'slug:'", code="slug-collision")])
            continue
        if slug in seen:
            report.add([front.problem((), f"page slug '{slug}' is also used by {seen[slug]}",
                                      "give one of them another 'slug:'",
                                      code="slug-collision")])
            continue
        seen[slug] = source.src_rel
        pages.append(Page(slug, source.src_rel, front.data["title"], body,
                          _text(front.data, "description")))
    return tuple(pages)


def load_editions(sources: Iterable[SourceText], articles: tuple[Article, ...],
                  report: Validation) -> tuple[Edition, ...]:
    intros: dict[dt.date, tuple[str, str]] = {}
    for source in sources:
        stem = PurePosixPath(source.src_rel).stem
        try:
            day = dt.date.fromisoformat(stem)
        except ValueError:
            report.add([Problem(source.src_rel, 1, 1, f"'{stem}' is not a date",
                                "name edition files YYYY-MM-DD.yaml", code="edition-name")])
            continue
        loaded = _load_yaml(source, EDITION, report)
        if loaded is None:
            continue
        if not any(a.date == day for a in articles):
            report.add([loaded.problem((), f"no article is published on {day.isoformat()}",
                                       "rename the file to an article's date, or remove it",
                                       severity="warning", code="empty-edition")])
        intros[day] = (_text(loaded.data, "title"), _text(loaded.data, "intro"))
    days = sorted({a.date for a in articles}, reverse=True)
    editions = []
    for day in days:
        title, intro = intros.get(day, ("", ""))
        slugs = tuple(a.slug for a in articles if a.date == day)
        editions.append(Edition(day, title, intro, slugs))
    return tuple(editions)


def merge_chronology(articles: tuple[Article, ...], event_marks: dict[tuple[str, int], Problem],
                     report: Validation) -> tuple[ChronologyEntry, ...]:
    """One entry per event; events sharing an id across sidecars become one entry."""
    merged: dict[str, dict[str, Any]] = {}
    for article in sorted(articles, key=lambda a: (a.date, a.slug)):
        for index, event in enumerate(article.events):
            key = event.id or f"{article.slug}--{index + 1}"
            entry = merged.get(key)
            if entry is None:
                merged[key] = {"event": event, "articles": [article.slug],
                               "topics": list(article.topics), "from": article.sidecar_rel}
                continue
            first: Event = entry["event"]
            if (first.date, first.end) != (event.date, event.end):
                where = event_marks[(article.slug, index)]
                report.add([Problem(where.path, where.line, where.column,
                                    f"event '{key}' is dated {event.date.iso} here but "
                                    f"{first.date.iso} in {entry['from']}",
                                    "events that share an id must share their dates",
                                    code="event-conflict")])
            if article.slug not in entry["articles"]:
                entry["articles"].append(article.slug)
            entry["topics"].extend(t for t in article.topics if t not in entry["topics"])
    entries = [
        ChronologyEntry(key, e["event"].date, e["event"].title, e["event"].end,
                        e["event"].approx, e["event"].text, tuple(e["articles"]),
                        tuple(e["topics"]))
        for key, e in merged.items()
    ]
    return tuple(sorted(entries, key=lambda e: (e.date, e.end or e.date, e.title, e.key)))


def validate_site(config: SiteConfig, sources: SourceSet, drafts: bool,
                  problems: list[Problem]) -> Site:
    """Build the Site model from sources, appending every problem found to `problems`."""
    report = Validation(problems)
    topics = load_topics(sources.topics, report)
    people = load_people(sources.people, report)
    loaded: list[tuple[Article, Loaded | None]] = []
    article_stems = set()
    seen_slugs: dict[str, str] = {}
    for source in sources.articles:
        stem = PurePosixPath(source.src_rel).stem
        article_stems.add(stem)
        sidecar = sources.sidecars.get(stem)
        if sidecar is None:
            report.add([Problem(source.src_rel, 1, 1, "article has no sidecar",
                                f"create content/articles/{stem}.yaml to annotate it",
                                severity="warning", code="no-sidecar")])
        result = load_article(source, sidecar, config, report)
        if result is None:
            continue
        article, side = result
        if article.slug in seen_slugs:
            report.add([Problem(source.src_rel, 1, 1, f"slug '{article.slug}' is also used by "
                                f"{seen_slugs[article.slug]}", "set a different 'slug:'",
                                code="slug-collision")])
            continue
        seen_slugs[article.slug] = source.src_rel
        if article.draft and not drafts:
            continue
        loaded.append((article, side))
    for stem, sidecar in sorted(sources.sidecars.items()):
        if stem not in article_stems:
            report.add([Problem(sidecar.src_rel, 1, 1, f"sidecar has no article "
                                f"(content/articles/{stem}.md is missing)",
                                did_you_mean(stem, article_stems) or
                                "rename it to match its article, or remove it",
                                code="orphan-sidecar")])
    slugs = {a.slug for a, _ in loaded}
    event_marks: dict[tuple[str, int], Problem] = {}
    for article, side in loaded:
        _check_references(article, side, topics, people, slugs | set(seen_slugs), report)
        if side is not None:
            kept = [i for i, e in _entries(side.data, "events")]
            for index, _event in enumerate(article.events):
                source_index = kept[index] if index < len(kept) else 0
                event_marks[(article.slug, index)] = side.problem(("events", source_index),
                                                                  "")
    articles = tuple(sorted((a for a, _ in loaded), key=lambda a: (a.published, a.slug),
                            reverse=True))
    _warn_unused(topics, people, articles, sources, report)
    return Site(
        config=config,
        articles=articles,
        topics=topics,
        people=people,
        pages=load_pages(sources.pages, report),
        editions=load_editions(sources.editions, articles, report),
        chronology=merge_chronology(articles, event_marks, report),
        by_slug={a.slug: a for a in articles},
    )


def _warn_unused(topics: dict[str, Topic], people: dict[str, Person],
                 articles: tuple[Article, ...], sources: SourceSet, report: Validation) -> None:
    used_topics = {t for a in articles for t in a.topics}
    quoted = {q.speaker for a in articles for q in a.quotes}
    for registry, unused, what in ((sources.topics, set(topics) - used_topics, "topic"),
                                   (sources.people, set(people) - quoted, "person")):
        if registry is None:
            continue
        try:
            loaded = parse_yaml(registry.text, registry.src_rel)
        except YamlError:
            continue
        for slug in sorted(unused):
            message = (f"topic '{slug}' has no article" if what == "topic"
                       else f"person '{slug}' is never quoted")
            report.add([loaded.problem((slug,), message, "use it in a sidecar or remove it",
                                       key=True, severity="warning", code=f"unused-{what}")])
