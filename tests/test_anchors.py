"""Tests for digest.anchors: normalisation, TextQuoteSelector matching and <mark> rendering."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from digest.anchors import (
    AnchorAmbiguous,
    AnchorError,
    AnchorNotFound,
    AnnotatedHtml,
    Selector,
    Span,
    normalize,
    plain_text,
)

MD = MarkdownIt("commonmark")
PESKOV = (
    "“Can Ukraine’s security guarantees include Western military contingents? "
    "Definitely not,” Kremlin spokesman Dmitry Peskov said.\n\n"
    "Peskov spoke in Vladivostok. Kremlin spokesman Dmitry Peskov added that Peskov "
    "would not comment further.\n"
)
VOID = {"br", "hr", "img", "input", "wbr", "meta", "link", "source", "col", "area"}


def doc(markdown: str) -> AnnotatedHtml:
    return AnnotatedHtml(MD.render(markdown))


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack.pop() == tag, f"</{tag}> closes the wrong element"


def assert_well_formed(rendered: str, source: str) -> None:
    """Every tag closes in order, and removing the marks gives back the source."""
    checker = _TagChecker()
    checker.feed(rendered)
    checker.close()
    assert checker.stack == []
    assert re.sub(r"</?mark[^>]*>", "", rendered) == source


def mark(markdown: str, *selectors: str) -> str:
    """Render `markdown` with one mark per exact text (ids m0, m1, ...), checked well-formed."""
    source = MD.render(markdown)
    article = AnnotatedHtml(source)
    for index, exact in enumerate(selectors):
        article.add_mark(article.locate(Selector(exact)), f"m{index}", "hl")
    rendered = article.render()
    assert_well_formed(rendered, source)
    return rendered


def body(rendered: str) -> str:
    """The rendered HTML without the newlines markdown-it puts between blocks."""
    return rendered.replace(">\n<", "><").strip()


# --- normalize -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("“quoted” „low‟ «guillemets» 5″", '"quoted" "low" "guillemets" 5"'),
        ("‘single’ ‚low‛ 5′ `tick`", "'single' 'low' 5' 'tick'"),
        ("Ukraine’s", "Ukraine's"),
        ("a‐b‑c‒d–e—f―g−h", "a-b-c-d-e-f-g-h"),
        ("wait…", "wait..."),
        ("a\u00a0b\u2009c\u202fd \t\n e", "a b c d e"),
        ("Cafe\u0301", "Café"),
        ("two -- hyphens", "two -- hyphens"),
        ("  edges  ", " edges "),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


# --- the text model ------------------------------------------------------------------


def test_plain_text_separates_blocks_and_nested_blocks() -> None:
    markdown = "# Title\n\nPara *one*.\n\n- a\n- b\n\n> q1\n>\n> q2\n\n---\n\n- loose\n\n- list\n"
    assert plain_text(MD.render(markdown)) == (
        "Title\n\nPara one.\n\na\nb\n\nq1\nq2\n\nloose\nlist"
    )


def test_plain_text_decodes_entities_and_keeps_code() -> None:
    markdown = "AT&T & 1 < 2 &copy;\n\n    x <y> & z\n"
    assert plain_text(MD.render(markdown)) == "AT&T & 1 < 2 ©\n\nx <y> & z\n"


def test_unclosed_raw_inline_tag_does_not_swallow_blocks() -> None:
    article = doc("a <b> bold\n\nnext")
    assert article.text == "a  bold\n\nnext"
    assert article.block_of(article.text.index("next")) == 1


def test_block_of() -> None:
    article = doc("First.\n\n- one\n- two\n\n---\n\n## Head\n")
    text = article.text
    assert [article.block_of(text.index(word)) for word in ("First", "one", "two", "Head")] == [
        0,
        1,
        1,
        3,
    ]
    assert article.block_of(text.index("\n\n")) == 0
    with pytest.raises(IndexError):
        article.block_of(len(text) + 1)


# --- locate --------------------------------------------------------------------------


def test_locate_with_prefix_returns_original_characters() -> None:
    article = doc(PESKOV)
    span = article.locate(Selector("Definitely not", prefix="contingents? "))
    assert article.text[span.start : span.end] == "Definitely not"


@pytest.mark.parametrize("prefix", ["contingents?", "contingents? ", "military contingents?\n"])
def test_prefix_junction_whitespace_is_insensitive(prefix: str) -> None:
    article = doc(PESKOV)
    span = article.locate(Selector("Definitely not", prefix=prefix))
    assert article.text[span.start : span.end] == "Definitely not"


def test_locate_unifies_quotes_and_dashes_but_not_double_hyphens() -> None:
    article = doc("Ukraine’s “security” — a guarantee\n")
    span = article.locate(Selector(' Ukraine\'s "security" - a '))
    assert article.text[span.start : span.end] == "Ukraine’s “security” — a"
    with pytest.raises(AnchorNotFound):
        article.locate(Selector("security” -- a"))


def test_locate_nfd_article_with_nfc_selector() -> None:
    article = doc("The Cafe\u0301 de\u00a0Flore opened.")
    span = article.locate(Selector("Café de Flore"))
    assert article.text[span.start : span.end] == "Cafe\u0301 de\u00a0Flore"
    with pytest.raises(AnchorNotFound):
        article.locate(Selector("Cafe de"))


def test_locate_is_case_sensitive() -> None:
    with pytest.raises(AnchorNotFound):
        doc(PESKOV).locate(Selector("definitely not"))


def test_suffix_disambiguates() -> None:
    article = doc(PESKOV)
    span = article.locate(Selector("Peskov", suffix=" would"))
    assert article.text[span.end : span.end + 6] == " would"


def test_ambiguous_suggests_shortest_prefix() -> None:
    with pytest.raises(AnchorAmbiguous) as caught:
        doc(PESKOV).locate(Selector("Peskov"))
    error = caught.value
    assert error.count == 4
    # "Kremlin spokesman Dmitry Peskov" occurs twice, so the prefix grows to four words,
    # quoted in the article's own characters.
    assert error.suggestion == 'add prefix: "not,” Kremlin spokesman Dmitry "'
    assert str(error) == (
        '"Peskov" occurs 4 times in the article; '
        'add prefix: "not,” Kremlin spokesman Dmitry " to pick the first occurrence'
    )


def test_ambiguous_prefix_grows_word_by_word() -> None:
    markdown = "He said Dmitry Peskov. Then Kremlin spokesman Dmitry Peskov. Dmitry Peskov."
    with pytest.raises(AnchorAmbiguous) as caught:
        doc(markdown).locate(Selector("Peskov", prefix="Dmitry"))
    error = caught.value
    assert error.count == 3
    assert error.message == '"Peskov" occurs 3 times in the article after "Dmitry"'
    assert error.suggestion == 'use prefix: "said Dmitry "'


def test_ambiguous_falls_back_to_suffix() -> None:
    with pytest.raises(AnchorAmbiguous) as caught:
        doc("Peace talks. Peace now.").locate(Selector("Peace"))
    assert caught.value.suggestion == 'add suffix: " talks."'
    assert caught.value.hint == 'add suffix: " talks." to pick the first occurrence'


def test_not_found_shows_closest_passage() -> None:
    with pytest.raises(AnchorNotFound) as caught:
        doc(PESKOV).locate(Selector("Definitely nott"))
    error = caught.value
    assert error.closest == "Definitely not,”"
    assert error.message == 'not found in the article: "Definitely nott"'
    assert error.hint == 'closest passage in the article: "Definitely not,”"'
    assert isinstance(error, AnchorError)


def test_not_found_closest_for_longer_paraphrase() -> None:
    with pytest.raises(AnchorNotFound) as caught:
        doc(PESKOV).locate(Selector("Kremlin spokesman Dmitri Peskov adds that"))
    assert caught.value.closest == "Kremlin spokesman Dmitry Peskov added that"


def test_not_found_with_wrong_prefix_shows_real_context() -> None:
    with pytest.raises(AnchorNotFound) as caught:
        doc(PESKOV).locate(Selector("Definitely not", prefix="contingent!"))
    error = caught.value
    assert error.message == '"Definitely not" occurs in the article, but not after "contingent!"'
    assert error.closest == "contingents? Definitely not,”"


def test_empty_exact_is_an_error() -> None:
    with pytest.raises(AnchorNotFound) as caught:
        doc(PESKOV).locate(Selector(" \u00a0 "))
    assert caught.value.message == "empty anchor text"


def test_not_found_in_empty_article() -> None:
    with pytest.raises(AnchorNotFound) as caught:
        doc("").locate(Selector("x"))
    assert caught.value.closest == ""


# --- marks ---------------------------------------------------------------------------


def test_no_marks_renders_input_unchanged() -> None:
    source = MD.render(PESKOV + "\n- a *b*\n\n    AT&T <x>\n")
    article = AnnotatedHtml(source)
    assert article.render() is source
    assert article.text  # building the text model must not change rendering either
    assert article.render() == source


def test_no_annotations_never_builds_the_text_model() -> None:
    article = doc(PESKOV)
    article.render()
    assert "_model" not in vars(article)


def test_mark_with_attrs_and_escaping() -> None:
    article = doc("Say hello.")
    span = article.locate(Selector("hello"))
    article.add_mark(span, 'q"1', "quote <x>", attrs={"data-speaker": "O'Neil & co"})
    assert body(article.render()) == (
        '<p>Say <mark id="q&quot;1" class="quote &lt;x&gt;" '
        'data-speaker="O&#x27;Neil &amp; co">hello</mark>.</p>'
    )


def test_mark_spanning_emphasis_and_link() -> None:
    rendered = mark("Read *the [full](u) report* now.", "Read the full report now")
    assert body(rendered) == (
        '<p><mark id="m0" class="hl">Read </mark><em><mark class="hl">the </mark>'
        '<a href="u"><mark class="hl">full</mark></a><mark class="hl"> report</mark></em>'
        '<mark class="hl"> now</mark>.</p>'
    )


def test_mark_starting_inside_emphasis_and_ending_inside_link() -> None:
    rendered = mark("A *bold claim* by [the minister](u) today.", "claim by the")
    assert body(rendered) == (
        '<p>A <em>bold <mark id="m0" class="hl">claim</mark></em><mark class="hl"> by </mark>'
        '<a href="u"><mark class="hl">the</mark> minister</a> today.</p>'
    )


def test_mark_inside_code() -> None:
    rendered = mark("Run `make all` now.", "make")
    assert body(rendered) == '<p>Run <code><mark id="m0" class="hl">make</mark> all</code> now.</p>'


def test_mark_crossing_two_paragraphs() -> None:
    article = doc("End of one.\n\nStart of two.")
    span = article.locate(Selector("one. Start"))
    assert (article.block_of(span.start), article.block_of(span.end - 1)) == (0, 1)
    rendered = mark("End of one.\n\nStart of two.", "one. Start")
    assert body(rendered) == (
        '<p>End of <mark id="m0" class="hl">one.</mark></p>'
        '<p><mark class="hl">Start</mark> of two.</p>'
    )


def test_mark_across_list_items() -> None:
    rendered = mark("- alpha beta\n- gamma delta\n", "beta gamma")
    assert body(rendered) == (
        '<ul><li>alpha <mark id="m0" class="hl">beta</mark></li>'
        '<li><mark class="hl">gamma</mark> delta</li></ul>'
    )


def test_nested_marks() -> None:
    rendered = mark("Kremlin said: definitely not, today.", "definitely not", "said: definitely")
    assert body(rendered) == (
        '<p>Kremlin <mark id="m1" class="hl">said: <mark id="m0" class="hl">definitely'
        '</mark></mark><mark class="hl"> not</mark>, today.</p>'
    )


def test_outer_mark_added_after_inner() -> None:
    rendered = mark("one two three four", "two three", "one two three four")
    assert body(rendered) == (
        '<p><mark id="m1" class="hl">one <mark id="m0" class="hl">two three</mark> four</mark></p>'
    )


def test_equal_start_longer_mark_is_outer() -> None:
    rendered = mark("one two three", "one", "one two")
    assert body(rendered) == (
        '<p><mark id="m1" class="hl"><mark id="m0" class="hl">one</mark> two</mark> three</p>'
    )


def test_after_html_follows_last_piece() -> None:
    article = doc("See *the big* picture here.")
    span = article.locate(Selector("big picture"))
    article.add_mark(span, "n1", "note", after_html="<sup>1</sup>")
    inner = article.locate(Selector("picture"))
    article.add_mark(inner, "q1", "quote", after_html="<sup>2</sup>")
    rendered = article.render()
    assert body(rendered) == (
        '<p>See <em>the <mark id="n1" class="note">big</mark></em><mark class="note"> '
        '<mark id="q1" class="quote">picture</mark></mark><sup>2</sup><sup>1</sup> here.</p>'
    )


def test_after_html_inside_outer_mark_that_continues() -> None:
    article = doc("one two three")
    article.add_mark(article.locate(Selector("one two three")), "a", "x")
    article.add_mark(article.locate(Selector("two")), "b", "y", after_html="<i>n</i>")
    assert body(article.render()) == (
        '<p><mark id="a" class="x">one <mark id="b" class="y">two</mark><i>n</i> three</mark></p>'
    )


def test_marks_with_entities_never_split_them() -> None:
    rendered = mark("AT&T said 1 < 2 and more.", "AT&T", "T said 1 <", "&")
    assert body(rendered) == (
        '<p><mark id="m0" class="hl">AT<mark id="m2" class="hl">&amp;</mark>'
        '<mark id="m1" class="hl">T</mark></mark><mark class="hl"> said 1 &lt;</mark>'
        " 2 and more.</p>"
    )


@pytest.mark.parametrize(
    ("markdown", "exact", "expected"),
    [
        ("Он сказал: «Точно нет», — Песков.", '"Точно нет" - Песков', "«Точно нет», — Песков"),
        ("قال المتحدث: لا بالتأكيد اليوم", "لا بالتأكيد", "لا بالتأكيد"),
        ("Party 🎉 time 👩‍👩‍👧 now", "🎉 time 👩‍👩‍👧", "🎉 time 👩‍👩‍👧"),
        ("Zoe\u0308 and Ame\u0301lie met", "Zoë and Amélie", "Zoe\u0308 and Ame\u0301lie"),
    ],
)
def test_non_ascii(markdown: str, exact: str, expected: str) -> None:
    article = doc(markdown)
    if expected.startswith("«"):
        exact = "«Точно нет», — Песков"
    span = article.locate(Selector(exact))
    assert article.text[span.start : span.end] == expected
    rendered = mark(markdown, exact)
    assert f'<mark id="m0" class="hl">{expected}</mark>' in rendered


def test_decomposed_hangul_maps_back_to_all_its_jamo() -> None:
    article = doc("\u1100\u1161\u11a8 \u1100\u1161 end")  # NFD of "각 가"
    span = article.locate(Selector("각 가"))
    assert article.text[span.start : span.end] == "\u1100\u1161\u11a8 \u1100\u1161"


def test_straight_quote_selector_matches_guillemets() -> None:
    article = doc("Он сказал: «Точно нет», — Песков.")
    span = article.locate(Selector('"Точно нет", - Песков'))
    assert article.text[span.start : span.end] == "«Точно нет», — Песков"


def test_many_overlapping_marks_stay_well_formed() -> None:
    markdown = "Alpha *beta [gamma](u) delta* epsilon.\n\n- zeta eta\n- theta\n\n> iota kappa\n"
    exacts = ["Alpha beta", "beta gamma delta", "gamma delta epsilon. zeta", "eta theta iota"]
    rendered = mark(markdown, *exacts, "delta", "lta eps", "kappa")
    assert rendered.count('id="m') == len(exacts) + 3


def test_marks_added_in_any_order_render_the_same() -> None:
    exacts = ["Alpha beta", "beta gamma", "gamma"]
    forward = doc("Alpha beta *gamma* delta")
    backward = doc("Alpha beta *gamma* delta")
    for exact in exacts:
        forward.add_mark(forward.locate(Selector(exact)), exact[:2], "hl")
    for exact in reversed(exacts):
        backward.add_mark(backward.locate(Selector(exact)), exact[:2], "hl")
    assert forward.render() == backward.render()


def test_add_after_block_keeps_call_order() -> None:
    source = MD.render("One.\n\n- two\n\n---\n\nThree.")
    article = AnnotatedHtml(source)
    article.add_after_block(1, "<aside>a</aside>")
    article.add_after_block(0, "<aside>0</aside>")
    article.add_after_block(1, "<aside>b</aside>")
    article.add_after_block(2, "<hr-note/>")
    assert article.render() == (
        "<p>One.</p><aside>0</aside>\n<ul>\n<li>two</li>\n</ul><aside>a</aside><aside>b</aside>\n"
        "<hr /><hr-note/>\n<p>Three.</p>\n"
    )
    with pytest.raises(IndexError):
        article.add_after_block(4, "x")


def test_add_mark_rejects_bad_input() -> None:
    article = doc("One.\n\nTwo.")
    with pytest.raises(ValueError, match="invalid span"):
        article.add_mark(Span(3, 3), "a", "x")
    with pytest.raises(ValueError, match="covers no text"):
        article.add_mark(Span(4, 6), "a", "x")
    with pytest.raises(ValueError, match="attribute name"):
        article.add_mark(Span(0, 3), "a", "x", attrs={"on click": "1"})
    article.add_mark(Span(0, 3), "a", "x")
    with pytest.raises(ValueError, match="duplicate"):
        article.add_mark(Span(6, 9), "a", "x")


def test_span_over_separator_is_clipped_to_text() -> None:
    source = MD.render("One.\n\nTwo.")
    article = AnnotatedHtml(source)
    article.add_mark(Span(0, 6), "a", "x", after_html="<i>n</i>")
    rendered = article.render()
    assert_well_formed(rendered.replace("<i>n</i>", ""), source)
    assert body(rendered) == '<p><mark id="a" class="x">One.</mark><i>n</i></p><p>Two.</p>'


def test_random_marks_stay_well_formed() -> None:
    source = MD.render(
        "# Head *line*\n\nAT&T *said [1 < 2](u) “ok”* — `x & y`.\n\n"
        "- Привет *мир*\n- 🎉 Cafe\u0301\n\n> quote **bold** end\n>\n> two\n"
    )
    rng = random.Random(7)
    for _ in range(40):
        article = AnnotatedHtml(source)
        added = []
        for index in range(rng.randint(1, 6)):
            start = rng.randrange(len(article.text) - 1)
            end = rng.randint(start + 1, min(len(article.text), start + 40))
            try:
                article.add_mark(Span(start, end), f"r{index}", "hl", after_html=f"<i>{index}</i>")
            except ValueError:
                continue  # a span inside a block separator covers no text
            added.append(index)
        rendered = article.render()
        for index in added:
            assert rendered.count(f'id="r{index}"') == rendered.count(f"<i>{index}</i>") == 1
        assert_well_formed(re.sub(r"<i>\d</i>", "", rendered), source)


def test_a_twin_shares_the_text_model_and_keeps_its_own_marks(monkeypatch) -> None:
    import digest.anchors as anchors_module

    builds = []
    real_build = anchors_module._build_model

    def counted(tokens):  # type: ignore[no-untyped-def]
        builds.append(1)
        return real_build(tokens)

    monkeypatch.setattr(anchors_module, "_build_model", counted)
    page = AnnotatedHtml("<p>The cat sat on the mat.</p>")
    feed = page.twin()
    span = page.locate(Selector("cat sat"))
    page.add_mark(span, "q1", "quote")
    feed.add_mark(feed.locate(Selector("the mat")), "n1", "note")
    assert page.render() == '<p>The <mark id="q1" class="quote">cat sat</mark> on the mat.</p>'
    assert feed.render() == '<p>The cat sat on <mark id="n1" class="note">the mat</mark>.</p>'
    assert builds == [1]


# Every whitespace character, the characters normalisation maps, and a combining mark.
_NORMALISED_PIECES = (
    [chr(c) for c in range(0x3001) if chr(c).isspace()]
    + ["a", "b", "xy", "  ", "\n\n", "\u2026", "...", "\u201c", "\u2019", "\u2014", "e\u0301"]
)


@given(st.lists(st.sampled_from(_NORMALISED_PIECES), max_size=16).map("".join))
def test_fast_normalisation_agrees_with_the_per_character_reference(text: str) -> None:
    import unicodedata

    from digest.anchors import _normalize_fast, _normalize_per_character

    text = unicodedata.normalize("NFC", text)
    fast, reference = _normalize_fast(text), _normalize_per_character(text)
    assert fast.text == reference.text
    positions = range(len(reference.text))
    assert [fast.starts[i] for i in positions] == [reference.starts[i] for i in positions]
    assert [fast.ends[i] for i in positions] == [reference.ends[i] for i in positions]


def test_the_tag_memo_stays_bounded_and_changes_nothing(monkeypatch) -> None:
    import digest.anchors as anchors_module

    monkeypatch.setattr(anchors_module, "_TAG_MEMO", {})
    monkeypatch.setattr(anchors_module, "_TAG_MEMO_LIMIT", 8)
    html = "".join(f"<p><span{i}>w{i}</span{i}> <em>x</em></p>" for i in range(40))
    first = AnnotatedHtml(html).text
    assert len(anchors_module._TAG_MEMO) <= 8
    assert AnnotatedHtml(html).text == first
    anchors_module._TAG_MEMO.clear()
    monkeypatch.setattr(anchors_module, "_TAG_MEMO_LIMIT", 4096)
    assert AnnotatedHtml(html).text == first
    assert first.startswith("w0 x\n\nw1 x")
