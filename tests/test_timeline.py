"""timeline.json: TimelineJS's JSON format, dates only as precise as the events."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from digest import urls
from digest.dates import FuzzyDate
from digest.model import ChronologyEntry
from digest.pipeline import Analysis
from digest.timeline import timeline_date, timeline_file

REPO_ROOT = Path(__file__).resolve().parent.parent
DATE_KEYS = {"year", "month", "day", "hour", "minute", "second", "millisecond", "display_date"}
SLIDE_KEYS = {
    "start_date",
    "end_date",
    "text",
    "media",
    "group",
    "display_date",
    "background",
    "autolink",
    "unique_id",
}


@pytest.fixture(scope="module")
def timeline(demo: Analysis, links: urls.Urls) -> dict[str, Any]:
    output = timeline_file(demo.site, links)
    assert output.dest_rel == "timeline.json"
    text = output.content.decode("utf-8")
    assert not set("<>&") & set(text), "must be safe to inline in a <script> element"
    data: dict[str, Any] = json.loads(text)
    return data


def _check_date(date: dict[str, str]) -> None:
    assert set(date) <= DATE_KEYS and "year" in date
    for key, value in date.items():
        if key != "display_date":
            assert isinstance(value, str) and re.fullmatch(r"-?\d+", value), (key, value)
    assert "day" not in date or "month" in date


def test_timeline_follows_the_timelinejs_format(timeline: dict[str, Any], demo: Analysis) -> None:
    assert set(timeline) <= {"events", "title", "eras", "scale"}
    assert timeline["title"] == {
        "text": {"headline": "Security Brief", "text": f"<p>{demo.config.description}</p>"}
    }
    events = timeline["events"]
    assert len(events) == len(demo.site.chronology)
    for event in events:
        assert set(event) <= SLIDE_KEYS
        _check_date(event["start_date"])
        if "end_date" in event:
            _check_date(event["end_date"])
        assert event["text"]["headline"]
    ids = [e["unique_id"] for e in events]
    assert ids == [e.key for e in demo.site.chronology] and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (FuzzyDate(1868), {"year": "1868"}),
        (FuzzyDate(2024, 10), {"year": "2024", "month": "10"}),
        (FuzzyDate(2019, 9, 24), {"year": "2019", "month": "9", "day": "24"}),
    ],
)
def test_dates_are_as_precise_as_the_event(date: FuzzyDate, expected: dict[str, str]) -> None:
    assert timeline_date(date) == expected


def _event(timeline: dict[str, Any], key: str) -> dict[str, Any]:
    return next(e for e in timeline["events"] if e["unique_id"] == key)


def test_demo_events(timeline: dict[str, Any], links: urls.Urls) -> None:
    johnson = _event(timeline, "andrew-johnson-impeached-1868")
    assert johnson["start_date"] == {"year": "1868"}
    assert johnson["group"] == "Trump impeachment"
    assert "display_date" not in johnson
    article = links.absolute("articles/us-house-impeaches-president-trump/")
    assert johnson["text"]["text"] == (
        '<p>The Senate acquits him.</p><p>Article: <a href="' + article + '">US House of '
        "Representatives impeaches President Trump</a></p>"
    )
    trial = _event(timeline, "trump-senate-trial-2020")
    assert trial["start_date"] == {"year": "2020", "month": "1", "day": "16"}
    assert trial["end_date"] == {"year": "2020", "month": "2", "day": "5"}
    troops = _event(timeline, "north-korean-troops-sent-to-russia")
    assert troops["start_date"] == {"year": "2024", "month": "10"}
    assert troops["display_date"] == "c. October 2024"


def test_every_link_is_absolute_and_under_the_site(
    timeline: dict[str, Any], links: urls.Urls
) -> None:
    for event in timeline["events"]:
        for href in re.findall(r'href="([^"]*)"', event["text"]["text"]):
            assert href.startswith("https://"), href
            if "example.github.io" in href:
                assert href.startswith(links.absolute("articles/")), href


def test_hostile_event_text_stays_escaped(demo: Analysis, links: urls.Urls) -> None:
    entry = ChronologyEntry(
        "x",
        FuzzyDate(2020),
        "</script><b>bold</b>",
        None,
        False,
        "Read [this](/digest/about/) & that",
        (),
        (),
    )
    site = dataclasses.replace(demo.site, chronology=(entry,))
    text = timeline_file(site, links).content.decode()
    assert "</script" not in text and "<b>" not in text
    event = json.loads(text)["events"][0]
    assert event["text"]["headline"] == "&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
    assert event["text"]["text"] == (
        '<p>Read <a href="https://example.github.io/digest/about/">this</a> &amp; that</p>'
    )
    assert "group" not in event
