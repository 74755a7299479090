"""timeline.json: the merged chronology in TimelineJS's JSON format. Pure: model -> file.

Dates are as precise as the event: a year-only event has only a year, so TimelineJS
neither invents a 1 January nor shows one. Date parts are strings, as in TimelineJS's
own examples; it parses strings and numbers alike. The JSON is escaped like JSON-LD
(`<` as \\u003c, ...) so a theme may inline it in a `<script>` element.
"""

from __future__ import annotations

from html import escape
from typing import Any

from digest import urls
from digest.annotate import render_inline
from digest.dates import FuzzyDate, display_range
from digest.feeds import absolutize_html
from digest.jsonld import script_safe_json
from digest.model import ChronologyEntry, Site
from digest.writer import OutputFile


def timeline_date(date: FuzzyDate) -> dict[str, str]:
    """{'year': '2019'}, plus 'month' and 'day' only when they are known."""
    parts = {"year": str(date.year)}
    if date.month:
        parts["month"] = str(date.month)
        if date.day:
            parts["day"] = str(date.day)
    return parts


def timeline_event(site: Site, entry: ChronologyEntry, links: urls.Urls) -> dict[str, Any]:
    """One TimelineJS slide: dates, headline, text with links to its articles, group."""
    body = render_inline(entry.text, site.config.allow_html) if entry.text else ""
    # Relative links written in event text must work wherever the timeline is shown.
    body = absolutize_html(body, links.absolute("chronology/")) if body else ""
    articles = [
        f'<a href="{escape(links.absolute(urls.article_rel(slug)))}">'
        f"{escape(site.by_slug[slug].title)}</a>"
        for slug in entry.articles
        if slug in site.by_slug
    ]
    text = f"<p>{body}</p>" if body else ""
    if articles:
        label = "Article" if len(articles) == 1 else "Articles"
        text += f"<p>{label}: {', '.join(articles)}</p>"
    event: dict[str, Any] = {"unique_id": entry.key, "start_date": timeline_date(entry.date)}
    if entry.end is not None:
        event["end_date"] = timeline_date(entry.end)
    event["text"] = {"headline": escape(entry.title), "text": text}
    topic = next((site.topics[t] for t in entry.topics if t in site.topics), None)
    if topic is not None:
        event["group"] = topic.title
    if entry.approx:
        # TimelineJS would print the bare date; the reader must see that it is a guess.
        event["display_date"] = display_range(entry.date, entry.end, entry.approx)
    return event


def timeline_data(site: Site, links: urls.Urls) -> dict[str, Any]:
    """The whole timeline as data: title slide and one event per chronology entry."""
    config = site.config
    return {
        "title": {
            "text": {
                "headline": escape(config.title),
                "text": f"<p>{escape(config.description)}</p>" if config.description else "",
            }
        },
        "events": [timeline_event(site, entry, links) for entry in site.chronology],
    }


def timeline_file(site: Site, links: urls.Urls) -> OutputFile:
    """timeline.json for the whole chronology."""
    text = script_safe_json(timeline_data(site, links)) + "\n"
    return OutputFile("timeline.json", text.encode("utf-8"), "chronology timeline")
