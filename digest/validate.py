"""Whole-site checks and the Site model, from registries and per-article results.

Collects every problem of every file; never stops at the first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from digest.articles import ArticleResult, Position
from digest.cache import texts_hash
from digest.config import SiteConfig
from digest.errors import Problem, did_you_mean
from digest.fields import Validation, load_checked, load_front_matter, text_of
from digest.located import Mark
from digest.markdown import unsafe_links
from digest.model import (
    Article,
    ChronologyEntry,
    Edition,
    Event,
    Page,
    Person,
    Site,
    Topic,
)
from digest.schema import EDITION, PAGE_FRONT_MATTER, PEOPLE, TOPICS
from digest.slugs import RESERVED_SLUGS, slug_problem
from digest.sources import SourceSet, SourceText, stem_of

# Page slugs that would shadow a section of the site.
RESERVED_PAGE_SLUGS = frozenset({
    "articles", "topics", "people", "quotes", "chronology", "digests", "search", "page",
    "static", "pagefind", "feed.xml", "feed.json", "404",
})


def _registry(source: SourceText | None, schema: dict[str, Any], name_key: str,
              report: Validation) -> list[tuple[str, dict[str, Any], Mark]]:
    """(slug, entry, mark of its key) for each usable entry of topics.yaml or people.yaml."""
    if source is None:
        return []
    loaded = load_checked(source, schema, report)
    if loaded is None:
        return []
    found = []
    for slug, entry in loaded.data.items():
        if slug in RESERVED_SLUGS:
            report.add([loaded.problem((slug,), f"'{slug}' is a reserved name",
                                       "choose another slug", key=True, code="slug")])
        elif isinstance(entry, dict) and isinstance(entry.get(name_key), str):
            found.append((slug, entry, loaded.mark((slug,), key=True)))
    return found


def load_topics(source: SourceText | None, report: Validation) -> dict[str, Topic]:
    return {slug: Topic(slug, entry["title"], str(entry.get("description", "")),
                        tuple(map(str, entry.get("aliases") or ())), mark.line, mark.column)
            for slug, entry, mark in _registry(source, TOPICS, "title", report)}


def load_people(source: SourceText | None, report: Validation) -> dict[str, Person]:
    return {slug: Person(slug, entry["name"], str(entry.get("role", "")),
                         tuple(map(str, entry.get("aliases") or ())),
                         tuple(map(str, entry.get("same_as") or ())), mark.line, mark.column)
            for slug, entry, mark in _registry(source, PEOPLE, "name", report)}


def load_pages(sources: Iterable[SourceText], report: Validation) -> tuple[Page, ...]:
    pages = []
    seen: dict[str, str] = {}
    for source in sources:
        front, body, body_line = load_front_matter(source, report, PAGE_FRONT_MATTER)
        for link in unsafe_links(body):
            report.add([Problem(source.src_rel, body_line + link.line, link.column,
                                f"link to a forbidden URL scheme: {link.url[:60]}",
                                "use an http(s) or relative URL", code="unsafe-url")])
        if front is None or not isinstance(front.data.get("title"), str):
            continue
        slug = text_of(front.data, "slug") or PurePosixPath(source.src_rel).stem
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
                          text_of(front.data, "description")))
    return tuple(pages)


def load_editions(sources: Iterable[SourceText], articles: tuple[Article, ...],
                  report: Validation) -> tuple[Edition, ...]:
    intros: dict[dt.date, tuple[str, str]] = {}
    by_day: dict[dt.date, list[str]] = {}
    for article in articles:
        by_day.setdefault(article.date, []).append(article.slug)
    for source in sources:
        stem = PurePosixPath(source.src_rel).stem
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", stem):
                raise ValueError(stem)
            day = dt.date.fromisoformat(stem)
        except ValueError:
            report.add([Problem(source.src_rel, 1, 1, f"'{stem}' is not a date",
                                "name edition files YYYY-MM-DD.yaml", code="edition-name")])
            continue
        loaded = load_checked(source, EDITION, report)
        if loaded is None:
            continue
        if day not in by_day:
            report.add([loaded.problem((), f"no article is published on {day.isoformat()}",
                                       "rename the file to an article's date, or remove it",
                                       severity="warning", code="empty-edition")])
        for link in unsafe_links(text_of(loaded.data, "intro")):
            report.add([loaded.problem(("intro",), f"link to a forbidden URL scheme: "
                                       f"{link.url[:60]}", "use an http(s) or relative URL",
                                       code="unsafe-url")])
        intros[day] = (text_of(loaded.data, "title"), text_of(loaded.data, "intro"))
    editions = []
    for day in sorted(by_day, reverse=True):
        title, intro = intros.get(day, ("", ""))
        editions.append(Edition(day, title, intro, tuple(by_day[day])))
    return tuple(editions)


# The last merge and what it was made from, kept by `digest serve` between rebuilds and
# by `digest build` between builds (keystate.py).
MergeMemo = dict[str, tuple[object, tuple[ChronologyEntry, ...]]]


def chronology_made_from(articles: Iterable[Article], keys: Mapping[str, str]) -> str:
    """What the merged chronology of `articles` is made from: a hash of each one's slug
    and `annotate.chronology_key` (`keys`, by slug)."""
    return texts_hash([part for a in articles for part in (a.slug, keys[a.slug])])


def merge_chronology(articles: tuple[Article, ...],
                     event_marks: dict[str, tuple[Position, ...]],
                     report: Validation, memo: MergeMemo | None = None,
                     made_from: str | None = None) -> tuple[ChronologyEntry, ...]:
    """One entry per event; events sharing an id across sidecars become one entry.

    `event_marks`: where each event of each article (by slug) is written. With `memo`,
    the last merge is returned while what it read is unchanged: `digest serve` merges
    again after every save, and `digest build` after every edit, mostly with every
    article's events unchanged. What it read is known by `made_from`
    (`chronology_made_from`) when given, else by the events themselves."""
    ordered = sorted(articles, key=lambda a: (a.date, a.slug))
    inputs: object = (made_from if made_from is not None
                      else tuple([(a.slug, a.events, a.topics) for a in ordered]))
    last = memo.get("chronology") if memo is not None else None
    if last is not None and last[0] == inputs:
        return last[1]
    conflicts_before = len(report.problems)
    # key -> [first event, its sidecar, articles, topics]. Articles and topics are
    # ordered sets (dicts: an id shared by hundreds of sidecars made list membership
    # quadratic); the articles' set is made only for an event in several sidecars.
    merged: dict[str, list[Any]] = {}
    for article in ordered:
        for index, event in enumerate(article.events):
            key = event.id or f"{article.slug}--{index + 1}"
            entry = merged.get(key)
            if entry is None:
                merged[key] = [event, article.sidecar_rel, (article.slug,),
                               dict.fromkeys(article.topics)]
                continue
            first: Event = entry[0]
            if (first.date, first.end) != (event.date, event.end):
                line, column = event_marks[article.slug][index]
                report.add([Problem(article.sidecar_rel, line, column,
                                    f"event '{key}' is dated {event.date.iso} here but "
                                    f"{first.date.iso} in {entry[1]}",
                                    "events that share an id must share their dates",
                                    code="event-conflict")])
            if type(entry[2]) is tuple:
                entry[2] = dict.fromkeys(entry[2])
            entry[2].setdefault(article.slug)
            for topic in article.topics:
                entry[3].setdefault(topic)
    entries = [
        ChronologyEntry(key, event.date, event.title, event.end, event.approx, event.text,
                        tuple(slugs), tuple(topics))
        for key, (event, _, slugs, topics) in merged.items()
    ]

    # Dates as plain tuples: comparing FuzzyDate objects runs Python code per comparison.
    def order(e: ChronologyEntry) -> tuple[object, ...]:
        end = e.end or e.date
        return ((e.date.year, e.date.month, e.date.day), (end.year, end.month, end.day),
                e.title, e.key)

    chronology = tuple(sorted(entries, key=order))
    if memo is not None:
        memo.clear()
        if len(report.problems) == conflicts_before:  # a conflict's place may move
            memo["chronology"] = (inputs, chronology)
    return chronology


_REGISTRIES: dict[tuple[object, ...], tuple[dict[str, Topic], dict[str, Person],
                                             list[Problem]]] = {}


def load_registries(sources: SourceSet, problems: list[Problem]
                    ) -> tuple[dict[str, Topic], dict[str, Person]]:
    """topics.yaml and people.yaml; the last ones read are remembered by their content,
    since `digest serve` asks again after every save of any file."""
    key = tuple((s.src_rel, s.data) if s else None for s in (sources.topics, sources.people))
    known = _REGISTRIES.get(key)
    if known is None:
        found: list[Problem] = []
        report = Validation(found)
        known = (load_topics(sources.topics, report), load_people(sources.people, report),
                 found)
        _REGISTRIES.clear()
        _REGISTRIES[key] = known
    problems.extend(known[2])
    return dict(known[0]), dict(known[1])


def _check_references(results: list[ArticleResult], topics: dict[str, Topic],
                      people: dict[str, Person], slugs: set[str], report: Validation) -> None:
    known = {"topic": (topics, "content/topics.yaml"), "person": (people, "content/people.yaml"),
             "article": (slugs, "content/articles/")}
    for result in results:
        for ref in result.references:
            names, registry = known[ref.kind]
            if ref.value not in names and result.article is not None:
                hint = did_you_mean(ref.value, names) or f"add '{ref.value}' to {registry}"
                report.add([Problem(result.article.sidecar_rel, ref.line, ref.column,
                                    f"unknown {ref.kind} '{ref.value}'", hint,
                                    code=f"unknown-{ref.kind}")])


def validate_site(config: SiteConfig, sources: SourceSet, results: list[ArticleResult],
                  topics: dict[str, Topic], people: dict[str, Person], drafts: bool,
                  problems: list[Problem], merge_memo: MergeMemo | None = None) -> Site:
    """Build the Site model from per-article results, appending every problem found
    (`merge_memo`: see merge_chronology)."""
    report = Validation(problems)
    kept: list[ArticleResult] = []
    seen_slugs: dict[str, str] = {}
    for result in results:
        report.add(result.problems)
        stem = stem_of(result.src_rel)
        if stem not in sources.sidecars:
            report.add([Problem(result.src_rel, 1, 1, "article has no sidecar",
                                f"create content/articles/{stem}.yaml to annotate it",
                                severity="warning", code="no-sidecar")])
        article = result.article
        if article is None:
            continue
        if article.slug in seen_slugs:
            report.add([Problem(result.src_rel, 1, 1, f"slug '{article.slug}' is also used by "
                                f"{seen_slugs[article.slug]}", "set a different 'slug:'",
                                code="slug-collision")])
            continue
        seen_slugs[article.slug] = result.src_rel
        if article.draft and not drafts:
            continue
        kept.append(result)
    article_stems = {stem_of(s.src_rel) for s in sources.articles}
    for stem, sidecar in sorted(sources.sidecars.items()):
        if stem not in article_stems:
            report.add([Problem(sidecar.src_rel, 1, 1, f"sidecar has no article "
                                f"(content/articles/{stem}.md is missing)",
                                did_you_mean(stem, article_stems) or
                                "rename it to match its article, or remove it",
                                code="orphan-sidecar")])
    _check_references(kept, topics, people, set(seen_slugs), report)
    event_marks = {r.article.slug: r.event_marks for r in kept if r.article}
    articles = tuple(sorted((r.article for r in kept if r.article),
                            key=lambda a: (a.published, a.slug), reverse=True))
    _warn_unused(topics, people, articles, sources, report)
    made_from = (chronology_made_from(articles, {
        r.article.slug: r.annotated.chronology_key for r in kept if r.article and r.annotated})
        if all(r.annotated for r in kept) else None)
    return Site(
        config=config,
        articles=articles,
        topics=topics,
        people=people,
        pages=load_pages(sources.pages, report),
        editions=load_editions(sources.editions, articles, report),
        chronology=merge_chronology(articles, event_marks, report, merge_memo, made_from),
        by_slug={a.slug: a for a in articles},
        chronology_key=made_from or "",
    )


def _warn_unused(topics: dict[str, Topic], people: dict[str, Person],
                 articles: tuple[Article, ...], sources: SourceSet, report: Validation) -> None:
    used_topics = {t for a in articles for t in a.topics}
    quoted = {q.speaker for a in articles for q in a.quotes}
    for slug in sorted(set(topics) - used_topics):
        topic = topics[slug]
        report.add([Problem(sources.topics.src_rel if sources.topics else "", topic.line,
                            topic.column, f"topic '{slug}' has no article",
                            "use it in a sidecar or remove it", "warning", "unused-topic")])
    for slug in sorted(set(people) - quoted):
        person = people[slug]
        report.add([Problem(sources.people.src_rel if sources.people else "", person.line,
                            person.column, f"person '{slug}' is never quoted",
                            "use it in a sidecar or remove it", "warning", "unused-person")])
