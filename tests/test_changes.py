"""What an edit changed for `digest serve`'s page keys (changes.py), on the demo site.

The end-to-end guarantee (rebuilds that take keys from the last build equal builds from
nothing) is tested in test_incremental.py; these pin down each rule on its own."""

from __future__ import annotations

import dataclasses
import datetime as dt

from digest.changes import Changes, KeyInputs, changes_since
from digest.model import ChronologyEntry
from digest.pipeline import Analysis

IRAN = "iran-admits-downing-ukrainian-jet"
RELATES_TO_IRAN = "ukrainian-president-rejects-prime-ministers-resignation"


def _inputs(demo: Analysis, **changed: object) -> KeyInputs:
    site = demo.site
    inputs = KeyInputs("theme", demo.registries_key, tuple(a.slug for a in site.articles),
                       dict(demo.article_keys),
                       {slug: demo.annotated[slug].listing_key for slug in site.by_slug},
                       site.chronology, site.editions, site.by_slug)
    return dataclasses.replace(inputs, **changed)


def test_a_change_to_what_pages_share_keys_everything_again(demo: Analysis) -> None:
    last = _inputs(demo)
    assert changes_since(last, _inputs(demo)) == Changes(frozenset(), frozenset())
    assert changes_since(None, _inputs(demo)) is None  # the first build
    reordered = tuple(reversed(last.order))
    edition = dataclasses.replace(last.editions[0], title="Another title")
    # (An equal chronology that is another object: see changes_since.)
    for changed in ({"fingerprint": "another theme"}, {"registries_key": "other"},
                    {"order": reordered}, {"chronology": tuple(list(last.chronology))},
                    {"editions": (edition, *last.editions[1:])}):
        assert changes_since(last, _inputs(demo, **changed)) is None, changed


def test_articles_and_listings_that_changed(demo: Analysis) -> None:
    last = _inputs(demo)
    article_keys = {**last.article_keys, IRAN: "edited", RELATES_TO_IRAN: "edited too"}
    listing_keys = {**last.listing_keys, IRAN: "a quote edited"}
    changes = changes_since(last, _inputs(demo, article_keys=article_keys,
                                          listing_keys=listing_keys))
    assert changes == Changes(frozenset({IRAN, RELATES_TO_IRAN}), frozenset({IRAN}))


def test_article_pages_showing_a_changed_card_or_title(demo: Analysis) -> None:
    site = demo.site
    events_of: dict[str, list[ChronologyEntry]] = {}
    for entry in site.chronology:
        for slug in entry.articles:
            events_of.setdefault(slug, []).append(entry)
    # A summary: its own page only.
    assert Changes(frozenset({IRAN}), frozenset()).article_pages(site, events_of) == {IRAN}
    # Its card and title: the pages relating to it and those sharing an event with it.
    sharing = {slug for entry in events_of[IRAN] for slug in entry.articles}
    assert IRAN in site.by_slug[RELATES_TO_IRAN].related
    assert Changes(frozenset({IRAN}), frozenset({IRAN})).article_pages(site, events_of) == (
        {IRAN, RELATES_TO_IRAN} | sharing)
    # Without events, only the relating page.
    assert Changes(frozenset({IRAN}), frozenset({IRAN})).article_pages(site, {}) == {
        IRAN, RELATES_TO_IRAN}


def test_listings_of_a_changed_article_now_and_in_the_last_build(demo: Analysis) -> None:
    site = demo.site
    iran = site.by_slug[IRAN]
    assert iran.topics == ("iran", "civil-aviation")
    assert {q.speaker for q in iran.quotes} == {"hassan-rouhani", "volodymyr-zelensky"}
    quote = dataclasses.replace(iran.quotes[0], speaker="someone-else")
    before = dataclasses.replace(iran, date=dt.date(2020, 1, 12), topics=("elsewhere",),
                                 quotes=(quote,))
    last = {**site.by_slug, IRAN: before}
    listed = Changes(frozenset({IRAN}), frozenset({IRAN})).listed(site, last, {})
    assert listed.days == {dt.date(2020, 1, 13), dt.date(2020, 1, 12)}
    assert listed.topics == {"iran", "civil-aviation", "elsewhere"}
    assert listed.people == {"hassan-rouhani", "volodymyr-zelensky", "someone-else"}
    assert not listed.events
    # With its events: their topics too, and the chronology shows its title.
    entry = dataclasses.replace(site.chronology[0], topics=("from-an-event",))
    listed = Changes(frozenset({IRAN}), frozenset({IRAN})).listed(site, last,
                                                                   {IRAN: [entry]})
    assert "from-an-event" in listed.topics and listed.events
    # An article whose listing did not change is listed nowhere.
    listed = Changes(frozenset({IRAN}), frozenset()).listed(site, last, {IRAN: [entry]})
    assert (listed.days, listed.topics, listed.people, listed.events) == (
        set(), set(), set(), False)
