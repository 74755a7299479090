"""The records the build cache holds: named tuples that pickle back as themselves."""

from __future__ import annotations

import copyreg
import os
import pickle
import subprocess
import sys

import pytest

from digest.annotate import AnnotatedArticle
from digest.articles import ArticleResult, Reference
from digest.dates import FuzzyDate
from digest.errors import Problem
from digest.feeds import PackedEntry
from digest.pipeline import Analysis
from digest.writer import Written


def test_cached_records_round_trip_and_stay_unchangeable(demo: Analysis) -> None:
    # The records the build cache keeps are named tuples (see model.py): they come
    # back as the same classes, not as plain tuples, and cannot be changed.
    annotated = next(iter(demo.annotated.values()))
    articles = demo.site.articles
    quote = next(q for a in articles for q in a.quotes)
    note = next(n for a in articles for n in a.notes if n.sources)
    event = next(e for a in articles for e in a.events)
    problem = Problem("content/a.yaml", 3, 7, "message", "hint", "warning", "code")
    records = [problem, FuzzyDate(2019, 5), FuzzyDate(2020, 1, 13), annotated,
               annotated.article, quote, quote.selector, note, note.sources[0], event,
               demo.site.editions[0], demo.site.chronology[0]]
    for value in records:
        again = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(again) is type(value) and again == value
        with pytest.raises(AttributeError, match="can't set attribute"):
            setattr(again, again._fields[0], None)
    assert isinstance(annotated, AnnotatedArticle)
    assert pickle.loads(pickle.dumps(annotated)).body_html == annotated.body_html
    assert FuzzyDate(2019) < FuzzyDate(2019, 1) < FuzzyDate(2019, 1, 1) < FuzzyDate(2020)
    assert problem.as_json() == {"path": "content/a.yaml", "line": 3, "column": 7,
                                 "severity": "warning", "code": "code",
                                 "message": "message", "hint": "hint"}


def _named_tuple_types(value: object, found: set[type]) -> set[type]:
    if isinstance(value, tuple | list):
        if hasattr(value, "_fields"):
            found.add(type(value))
        for item in value:
            _named_tuple_types(item, found)
    return found


def test_records_sent_by_the_thousand_unpickle_without_their_classes_new(
        demo: Analysis, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the articles' cache keeps and worker processes send back is pickled as each
    # record's type and fields (tuplepickle.py), and rebuilt by tuple.__new__ in C: the
    # classes' own __new__ (a Python function) is not called, so here it may refuse.
    annotated = max(demo.annotated.values(), key=lambda a: len(a.article.notes))
    result = ArticleResult(annotated.article.src_rel, annotated.article, annotated, (),
                           (Reference("topic", "elections", 6, 3),), ((34, 3),))
    records = [result, PackedEntry.pack("<p>body</p>", b"<entry/>"),
               Written("a/index.html", "content/a.md", "key", "digest", True)]
    types = _named_tuple_types(records, set())
    assert {t.__name__ for t in types} >= {
        "ArticleResult", "Article", "AnnotatedArticle", "Quote", "Note", "Event",
        "Selector", "Source", "FuzzyDate", "Reference", "PackedEntry", "Written"}
    data = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
    for kind in types:
        assert kind in copyreg.dispatch_table, kind  # a new record must be registered too

        def refuse(cls: type, *args: object) -> None:
            raise AssertionError(f"{cls.__name__}.__new__ called")
        monkeypatch.setattr(kind, "__new__", refuse)
    again = pickle.loads(data)
    assert again == records
    assert _named_tuple_types(again, set()) == types
    assert again[1].body() == "<p>body</p>" and again[1].entry() == b"<entry/>"


def test_an_annotated_article_gives_back_both_texts_and_the_places(demo: Analysis) -> None:
    article = next(iter(demo.annotated.values())).article
    body = '<p>Zürich — “quoted” <mark id="q1">😀</mark></p>' * 40
    markdown = '<p>Zürich — “quoted” 😀</p>' * 40
    places = tuple((i, i + 2) if i % 2 else None for i in range(len(article.quotes)))
    notes = (None,) * len(article.notes)
    annotated = AnnotatedArticle.of(article, body, markdown, places, notes, False)
    again = pickle.loads(pickle.dumps(annotated, protocol=pickle.HIGHEST_PROTOCOL))
    assert (again.body_html, again.markdown_html) == (body, markdown)
    assert (again.quote_places, again.note_places) == (places, notes)
    assert again.note_html == annotated.note_html and len(again.note_html) == len(notes)
    # Compressed together, the Markdown's near-copy costs little beyond the page's.
    alone = AnnotatedArticle.of(article, body, "", places, notes, False)
    assert len(annotated.html_lz4) < len(alone.html_lz4) + 60
    assert AnnotatedArticle.of(article, "", "", places, notes, False).body_html == ""


def test_problems_at_one_place_with_one_message_sort_the_same_in_every_process() -> None:
    # Two problems differing only after the message: their order used to follow a
    # set's, which follows PYTHONHASHSEED.
    code = ("from digest.errors import Problem, sort_problems; "
            "ps = [Problem('a.md', 1, 1, 'm', hint) for hint in 'zyxwvutsrq']; "
            "print(' '.join(p.hint for p in sort_problems(ps + ps)))")
    orders = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}
                             ).stdout.strip() for seed in range(6)}
    assert orders == {"q r s t u v w x y z"}


def test_chronology_entries_kept_between_builds_read_back_the_same(demo: Analysis) -> None:
    # keystate.py keeps the merged chronology as plain tuples (faster to pickle).
    from digest.keystate import _entry, _plain_entry

    chronology = demo.site.chronology
    assert any(e.end is not None for e in chronology)  # both kinds of entry are here
    plain = pickle.loads(pickle.dumps(tuple(_plain_entry(e) for e in chronology)))
    assert tuple(_entry(e) for e in plain) == chronology
