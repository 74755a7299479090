"""What an edit changed for `digest serve`'s page keys (changes.py), on the demo site.

The end-to-end guarantee (rebuilds that take keys from the last build equal builds from
nothing) is tested in test_incremental.py; these pin down each rule on its own."""

from __future__ import annotations

import dataclasses
import datetime as dt

from digest.changes import Changes, KeyInputs, changes_since, editions_key
from digest.model import ChronologyEntry
from digest.pipeline import Analysis

IRAN = "iran-admits-downing-ukrainian-jet"
RELATES_TO_IRAN = "ukrainian-president-rejects-prime-ministers-resignation"


def _inputs(demo: Analysis, **changed: object) -> KeyInputs:
    site = demo.site
    inputs = KeyInputs("theme", demo.registries_key, tuple(a.slug for a in site.articles),
                       dict(demo.article_keys),
                       {slug: demo.annotated[slug].listing_key for slug in site.by_slug},
                       "the chronology's key", editions_key(site.editions), site.by_slug)
    return dataclasses.replace(inputs, **changed)


def test_a_change_to_what_pages_share_keys_everything_again(demo: Analysis) -> None:
    last = _inputs(demo)
    assert changes_since(last, _inputs(demo)) == Changes(frozenset(), frozenset())
    assert changes_since(None, _inputs(demo)) is None  # the first build
    reordered = tuple(reversed(last.order))
    editions = demo.site.editions
    retitled = editions_key((editions[0]._replace(title="Another title"), *editions[1:]))
    for changed in ({"fingerprint": "another theme"}, {"registries_key": "other"},
                    {"order": reordered}, {"chronology_key": "another chronology"},
                    {"chronology_key": ""},  # (not known)
                    {"editions_key": retitled}):
        assert changes_since(last, _inputs(demo, **changed)) is None, changed


def test_articles_listings_and_titles_that_changed(demo: Analysis) -> None:
    last = _inputs(demo)
    article_keys = {**last.article_keys, IRAN: "edited", RELATES_TO_IRAN: "edited too"}
    listing_keys = {**last.listing_keys, IRAN: "a quote edited",
                    RELATES_TO_IRAN: "retitled"}
    retitled = demo.site.by_slug[RELATES_TO_IRAN]._replace(title="New title")
    changes = changes_since(last, _inputs(
        demo, article_keys=article_keys, listing_keys=listing_keys,
        articles={**demo.site.by_slug, RELATES_TO_IRAN: retitled}))
    assert changes == Changes(frozenset({IRAN, RELATES_TO_IRAN}),
                              frozenset({IRAN, RELATES_TO_IRAN}), frozenset({RELATES_TO_IRAN}))


def test_article_pages_showing_a_changed_card_or_title(demo: Analysis) -> None:
    site = demo.site
    events_of: dict[str, list[ChronologyEntry]] = {}
    for entry in site.chronology:
        for slug in entry.articles:
            events_of.setdefault(slug, []).append(entry)
    # A summary: its own page only.
    russia = "russia-rejects-foreign-troops-as-security-guarantees"
    changed = frozenset({russia})
    assert Changes(changed).article_pages(site, events_of) == {russia}
    # A quote (its listing): its page and the pages relating to it (showing its card).
    relating = {a.slug for a in site.articles if russia in a.related}
    assert relating == {"germany-says-navalny-poisoned-with-novichok",
                        "us-house-impeaches-president-trump"}
    assert Changes(changed, changed).article_pages(site, events_of) == {russia} | relating
    # Its title: the pages sharing an event with it too, whose entry shows the title.
    sharing = {slug for entry in events_of[russia] for slug in entry.articles}
    assert sharing - relating - {russia} == {
        "us-house-subpoenas-secretary-of-state-as-ukraine-envoy-resigns"}
    assert Changes(changed, changed, changed).article_pages(site, events_of) == (
        {russia} | relating | sharing)


def test_listings_of_a_changed_article_now_and_in_the_last_build(demo: Analysis) -> None:
    site = demo.site
    iran = site.by_slug[IRAN]
    assert iran.topics == ("iran", "civil-aviation")
    assert {q.speaker for q in iran.quotes} == {"hassan-rouhani", "volodymyr-zelensky"}
    quote = iran.quotes[0]._replace(speaker="someone-else")
    before = iran._replace(date=dt.date(2020, 1, 12), topics=("elsewhere",), quotes=(quote,))
    last = {**site.by_slug, IRAN: before}
    changed = frozenset({IRAN})
    listed = Changes(changed, changed).listed(site, last, {})
    assert listed.days == {dt.date(2020, 1, 13), dt.date(2020, 1, 12)}
    assert listed.topics == {"iran", "civil-aviation", "elsewhere"}
    assert listed.people == {"hassan-rouhani", "volodymyr-zelensky", "someone-else"}
    assert not listed.events
    # With its events: their topics too; the chronology only for a new title.
    entry = site.chronology[0]._replace(topics=("from-an-event",))
    listed = Changes(changed, changed).listed(site, last, {IRAN: [entry]})
    assert "from-an-event" in listed.topics and not listed.events
    assert Changes(changed, changed, changed).listed(site, last, {IRAN: [entry]}).events
    # An article whose listing did not change is listed nowhere.
    listed = Changes(changed).listed(site, last, {IRAN: [entry]})
    assert (listed.days, listed.topics, listed.people, listed.events) == (
        set(), set(), set(), False)
