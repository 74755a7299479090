"""Dates at mixed precision and the merged chronology."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digest.build import build
from digest.dates import FuzzyDate, display_range, parse_fuzzy_date
from digest.errors import OutputError
from digest.pipeline import analyse
from digest.writer import OutputFile, SiteWriter

from .conftest import MINIMAL_SITE


@pytest.mark.parametrize(("value", "shown", "precision"), [
    (1868, "1868", "year"),
    ("1868", "1868", "year"),
    ("2020-01", "January 2020", "month"),
    ("2019-09-24", "24 September 2019", "day"),
])
def test_dates_read_as_precise_as_written(value: object, shown: str, precision: str) -> None:
    date = parse_fuzzy_date(value)
    assert (date.display(), date.precision) == (shown, precision)


@pytest.mark.parametrize(("value", "message"), [
    ("2019-13-45", "invalid date '2019-13-45': there is no month 13"),
    ("2019-02-29", "invalid date '2019-02-29': February 2019 has days 01 to 28"),
    ("24.09.2019", "invalid date '24.09.2019': use YYYY, YYYY-MM or YYYY-MM-DD"),
])
def test_invalid_dates_say_why(value: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_fuzzy_date(value)
    assert str(caught.value) == message


def test_ranges_and_approximate_dates_read_as_such() -> None:
    assert display_range(FuzzyDate(2024, 8, 6), FuzzyDate(2025, 4, 26), False) == \
        "6 August 2024 – 26 April 2025"
    assert display_range(FuzzyDate(2024, 10), None, True) == "c. October 2024"


SECOND_ARTICLE = {
    "content/articles/later.md": "---\ntitle: Later\ndate: 2025-09-06\n---\n\nMore text.\n",
    "content/articles/later.yaml": """\
topics: [war]
events:
  - date: 2022-03-29
    title: Istanbul talks (second report)
    id: istanbul-2022
  - date: "2022-03"
    title: A month-only event
  - date: 2021
    title: An earlier year
  - date: 2022-03-01
    end: 2022-04-15
    approx: true
    title: A range
""",
}


def test_chronology_merges_shared_ids_and_sorts_mixed_precision(make_site) -> None:
    site = analyse(make_site(SECOND_ARTICLE), use_cache=False).site
    entries = [(e.date.iso, e.title, e.articles) for e in site.chronology]
    assert entries == [
        ("2021", "An earlier year", ("later",)),
        ("2022", "A year-only event", ("talks",)),
        ("2022-03", "A month-only event", ("later",)),
        ("2022-03-01", "A range", ("later",)),
        ("2022-03-29", "Istanbul talks", ("talks", "later")),
    ]


def test_shared_event_ids_must_share_dates(make_site) -> None:
    changes = dict(SECOND_ARTICLE)
    changes["content/articles/later.yaml"] = changes["content/articles/later.yaml"].replace(
        "date: 2022-03-29", "date: 2022-03-30")
    problems = analyse(make_site(changes), use_cache=False).errors
    assert [p.format_text() for p in problems] == [
        "content/articles/later.yaml:3:5: error: event 'istanbul-2022' is dated 2022-03-30 "
        "here but 2022-03-29 in content/articles/talks.yaml\n"
        "    hint: events that share an id must share their dates"]


def test_the_writer_refuses_two_sources_for_one_path() -> None:
    writer = SiteWriter()
    writer.add(OutputFile("about/index.html", b"a", "content/pages/about.md"))
    with pytest.raises(OutputError) as caught:
        writer.add(OutputFile("about/index.html", b"b", "content/pages/about-us.md"))
    assert caught.value.message == (
        "content/pages/about-us.md and content/pages/about.md both write about/index.html; "
        "rename one of them (slugs must be unique across the site)")


def test_minimal_site_has_no_problems(make_site) -> None:
    assert analyse(make_site(), use_cache=False).problems == []
    assert "war" in MINIMAL_SITE["content/topics.yaml"]


def _reports(page: str) -> list[tuple[str, str]]:
    """The links under the Istanbul talks' 'Reported in:', as (href, text)."""
    found = re.search(r'id="event-istanbul-2022">.*?<p class="event-articles">Reported in: '
                      r'(.*?)</p>', page, re.DOTALL)
    assert found is not None
    return re.findall(r'<a href="([^"]*)">([^<]*)</a>', found.group(1))


def test_an_event_many_articles_report_lists_five_then_links_the_chronology(
        make_site, tmp_path: Path) -> None:
    changes: dict[str, str | None] = {}
    for n in range(1, 7):  # six more articles report the Istanbul talks: seven in all
        changes[f"content/articles/report-{n}.md"] = (
            f"---\ntitle: Report {n}\ndate: 2025-09-0{n}\n---\n\nThe talks, again.\n")
        changes[f"content/articles/report-{n}.yaml"] = (
            "topics: [war]\nevents:\n  - date: 2022-03-29\n    title: Istanbul talks\n"
            "    id: istanbul-2022\n")
    out = tmp_path / "out"
    build(make_site(changes), output=out)
    more = ("/chronology/#event-istanbul-2022", "and 2 more")
    for rel in ("articles/talks/index.html", "topics/war/index.html"):
        listed = _reports((out / rel).read_text(encoding="utf-8"))
        assert len(listed) == 6 and listed[-1] == more, rel
    everything = _reports((out / "chronology/index.html").read_text(encoding="utf-8"))
    assert len(everything) == 7 and more not in everything
    assert '<li class="event" id="event-istanbul-2022">' in (
        out / "chronology/index.html").read_text(encoding="utf-8")


def test_a_merge_is_reused_only_while_what_it_reads_is_unchanged(make_site) -> None:
    """`digest serve` merges again after every save; given its memo, the last merge is
    reused while every article's slug, date order, events and topics are unchanged, and
    made anew (equal to a merge with no memo) after any change to them."""

    from digest import validate
    from digest.fields import Validation

    site = analyse(make_site(SECOND_ARTICLE), use_cache=False).site
    articles = site.articles
    marks = {a.slug: ((1, 1),) * len(a.events) for a in articles}
    memo: validate.MergeMemo = {}
    first = validate.merge_chronology(articles, marks, Validation([]), memo)
    assert validate.merge_chronology(tuple(reversed(articles)), marks, Validation([]),
                                     memo) is first
    later = next(a for a in articles if a.slug == "later")
    own = next(i for i, e in enumerate(later.events) if not e.id)  # not shared

    def edited(**fields: object) -> dict[str, object]:
        events = list(later.events)
        events[own] = events[own]._replace(**fields)
        return {"events": tuple(events)}

    changes = {
        "event text": edited(text="New text"),
        "event title": edited(title="Renamed"),
        "topics": {"topics": (*later.topics, "peace")},
        "date order": {"date": min(a.date for a in articles).replace(year=2000)},
        "slug": {"slug": "later-moved"},
    }
    for what, change in changes.items():
        assert validate.merge_chronology(articles, marks, Validation([]), memo) == first
        changed = tuple(a._replace(**change) if a is later else a
                        for a in articles)
        changed_marks = {a.slug: ((1, 1),) * len(a.events) for a in changed}
        merged = validate.merge_chronology(changed, changed_marks, Validation([]), memo)
        assert merged == validate.merge_chronology(changed, changed_marks, Validation([]))
        assert merged != first, what


def test_a_conflict_between_events_is_reported_by_every_merge(make_site) -> None:
    from digest import validate
    from digest.fields import Validation

    changes = dict(SECOND_ARTICLE)
    changes["content/articles/later.yaml"] = changes["content/articles/later.yaml"].replace(
        "date: 2022-03-29", "date: 2022-03-30")
    site = analyse(make_site(changes), use_cache=False).site
    marks = {a.slug: ((1, 1),) * len(a.events) for a in site.articles}
    memo: validate.MergeMemo = {}
    for _ in range(2):
        report = Validation([])
        validate.merge_chronology(site.articles, marks, report, memo)
        assert [p.code for p in report.problems] == ["event-conflict"]
