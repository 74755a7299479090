"""The `once` template global: each macro output rendered once per build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from digest import pipeline
from digest.fragments import FragmentMemo

from .conftest import ServedDemo

REPO = Path(__file__).resolve().parent.parent


class _View:
    def __init__(self, title: str) -> None:
        self.title = title


def _env(memo: FragmentMemo, calls: list[str]) -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True)
    env.globals.update(once=memo, note=calls.append)
    return env


def test_same_arguments_render_once_and_give_the_same_html() -> None:
    memo, calls = FragmentMemo(), []
    template = _env(memo, calls).from_string(
        "{% macro card(a, level=3) %}{{ note(a.title) or '' }}<h{{ level }}>{{ a.title }}"
        "</h{{ level }}>{% endmacro %}"
        "{% for a in items %}{{ once(card, a, level) }}|{% endfor %}")
    first, second = _View("A & B"), _View("C")
    html = template.render(items=[first, second, first, first], level=2)
    assert html == ("<h2>A &amp; B</h2>|<h2>C</h2>|<h2>A &amp; B</h2>|<h2>A &amp; B</h2>|")
    assert calls == ["A & B", "C"]
    assert len(memo) == 2


def test_other_arguments_or_an_equal_but_other_object_render_again() -> None:
    memo, calls = FragmentMemo(), []
    template = _env(memo, calls).from_string(
        "{% macro item(q, show=true) %}{{ note(q.title) or '' }}{{ q.title }}"
        "{% if show %}!{% endif %}{% endmacro %}"
        "{{ once(item, a) }} {{ once(item, a, false) }} {{ once(item, a, show=false) }} "
        "{{ once(item, b) }} {{ once(item, a, false) }}")
    a, b = _View("x"), _View("x")  # equal content, two objects
    assert template.render(a=a, b=b) == "x! x x x! x"
    # a; a with show=false (positional); a with show=false (keyword); b. The repeat of
    # (a, false) is remembered.
    assert calls == ["x", "x", "x", "x"]


def test_once_each_is_once_for_each_item_sharing_the_same_entries() -> None:
    memo, calls = FragmentMemo(), []
    env = _env(memo, calls)
    env.globals["once_each"] = memo.each
    template = env.from_string(
        "{% macro card(a, level=3) %}{{ note(a.title) or '' }}<h{{ level }}>{{ a.title }}"
        "</h{{ level }}>{% endmacro %}"
        "{{ once(card, first, 2) }}|{{ once_each(card, items, 2) }}|"
        "{{ once_each(card, items, 3) }}|{{ once_each(card, [], 2) }}|")
    first, second = _View("A & B"), _View("C")
    html = template.render(first=first, items=[first, second, first])
    # Escaped once by the macro, never again; the same arguments render once, whether
    # asked for one at a time or as a list.
    assert html == ("<h2>A &amp; B</h2>|<h2>A &amp; B</h2><h2>C</h2><h2>A &amp; B</h2>|"
                    "<h3>A &amp; B</h3><h3>C</h3><h3>A &amp; B</h3>||")
    assert calls == ["A & B", "C", "A & B", "C"]
    assert len(memo) == 4
    # A kept memo finds them again in the next build without rendering them.
    kept, rendered = FragmentMemo(kept=True), []

    def tag(value: str, number: int) -> str:
        rendered.append(value)
        return f"<{value}{number}>"
    assert kept.each(tag, ["a", "b"], 1) == "<a1><b1>"
    kept.next_build()
    assert kept.each(tag, ["b", "a", "c"], 1) == "<b1><a1><c1>"
    assert rendered == ["a", "b", "c"]
    assert len(kept) == 3


def test_clear_frees_what_was_kept() -> None:
    memo = FragmentMemo()
    assert memo(lambda v: f"<{v}>", "a") == "<a>"
    assert len(memo) == 1
    memo.clear()
    assert len(memo) == 0


class _Recording(FragmentMemo):
    made: list[_Recording] = []

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.peak = 0
        _Recording.made.append(self)

    def __call__(self, macro, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        html = super().__call__(macro, *args, **kwargs)
        self.peak = max(self.peak, len(self))
        return html

    def each(self, macro, items, *args):  # type: ignore[no-untyped-def]
        items = list(items)
        self.calls += len(items)
        html = super().each(macro, items, *args)
        self.peak = max(self.peak, len(self))
        return html


class _PassThrough(FragmentMemo):
    def __call__(self, macro, *args, **kwargs):  # type: ignore[no-untyped-def]
        return macro(*args, **kwargs)

    def each(self, macro, items, *args):  # type: ignore[no-untyped-def]
        return markupsafe.Markup("".join(macro(item, *args) for item in items))


def _demo_files(monkeypatch, memo_class: type[FragmentMemo]) -> dict[str, bytes]:
    monkeypatch.setattr(pipeline, "FragmentMemo", memo_class)
    analysis = pipeline.analyse(REPO, use_cache=False, jobs=1)
    writer = pipeline.render_files(analysis, 1)
    return {dest: output.content for dest, output in writer.files.items()}


def test_the_demo_builds_the_same_with_and_without_the_memo_which_is_freed(
        monkeypatch) -> None:
    _Recording.made.clear()
    remembered = _demo_files(monkeypatch, _Recording)
    (memo,) = _Recording.made
    # Cards, quotes and events repeat across the demo's pages, and the memo is emptied
    # once the pages that share them are made.
    assert memo.calls > memo.peak > 0
    assert len(memo) == 0
    assert _demo_files(monkeypatch, _PassThrough) == remembered


def test_render_bytes_is_the_rendering_encoded_across_batches() -> None:
    from digest.templates import render_bytes  # noqa: PLC0415

    env = jinja2.Environment(autoescape=True)
    # Far more than one batch of pieces, with text outside Latin-1 in some of them.
    template = env.from_string("{% for i in items %}<li>{{ i }} “é” 😀</li>{% endfor %}")
    items = [f"{n} & <{n}>" for n in range(10_000)]
    assert render_bytes(template, items=items) == template.render(items=items).encode()
    assert render_bytes(env.from_string(""), items=[]) == b""


def test_a_kept_memo_outlives_clear_and_drops_what_a_build_did_not_ask_for() -> None:
    memo, calls = FragmentMemo(kept=True), []

    def item(view: _View) -> str:
        calls.append(view.title)
        return f"<{view.title}>"

    a, b = _View("a"), _View("b")
    memo.next_build()
    assert (memo(item, a), memo(item, b)) == ("<a>", "<b>")
    memo.clear()  # between pages: a kept memo stays whole
    memo.next_build()
    assert memo(item, a) == "<a>"  # found again, not rendered again
    assert calls == ["a", "b"]
    memo.next_build()  # b was not asked for in the last build: dropped now
    assert (memo(item, a), memo(item, b)) == ("<a>", "<b>")
    assert calls == ["a", "b", "b"]


class _Counting(FragmentMemo):
    """Records the arguments of every fragment actually rendered (not found)."""

    rendered: list[tuple[object, ...]] = []

    @staticmethod
    def _render(macro, args, kwargs):  # type: ignore[no-untyped-def]
        _Counting.rendered.append(args)
        return FragmentMemo._render(macro, args, kwargs)


_EDITED = "content/articles/iran-admits-downing-ukrainian-jet.yaml"


def _edit_a_quote_context(served: ServedDemo) -> Any:
    """A quote's context: it shows on the quotes page, its speaker's and its topics'."""
    sidecar = served.root / _EDITED
    text = sidecar.read_text(encoding="utf-8")
    old = "context: Ukraine's demands after Iran's admission."
    assert old in text
    sidecar.write_text(text.replace(old, "context: What Ukraine asked of Iran."),
                       encoding="utf-8")
    _Counting.rendered.clear()
    state = served.rebuild()
    assert b"What Ukraine asked of Iran." in state.files["quotes/index.html"]
    return state


def _only_the_edited_article_rendered_again() -> None:
    assert _Counting.rendered
    assert all("iran-admits-downing-ukrainian-jet" in repr(args[0])
               for args in _Counting.rendered), _Counting.rendered


def test_serve_renders_again_only_the_fragments_of_what_an_edit_changed(
        monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pipeline, "FragmentMemo", _Counting)
    served = ServedDemo(tmp_path)
    views = served.views
    _Counting.rendered.clear()
    served.rebuild()
    assert len(_Counting.rendered) > 50
    assert views.templates is not None
    environment = views.templates[0]
    _edit_a_quote_context(served)
    assert views.templates[0] is environment  # same theme and settings: kept
    # Only the edited article's quotes, card and events are rendered again.
    _only_the_edited_article_rendered_again()


def test_edits_shown_on_their_own_page_only_keep_the_fragments_of_the_rest(
        monkeypatch, tmp_path: Path) -> None:
    """Summary edits render no listing page: the views and fragments of the listings
    stay for the next edit that needs them, however many such edits come first."""
    monkeypatch.setattr(pipeline, "FragmentMemo", _Counting)
    served = ServedDemo(tmp_path)
    served.rebuild()
    page = "articles/russias-navalny-airlifted-to-germany/index.html"
    sidecar = served.root / "content/articles/russias-navalny-airlifted-to-germany.yaml"
    text = sidecar.read_text(encoding="utf-8")
    assert "Russian opposition leader" in text
    for number in range(3):
        sidecar.write_text(text.replace("Russian opposition leader",
                                        f"Russian opposition leader ({number})"),
                           encoding="utf-8")
        assert f"({number})".encode() in served.rebuild().files[page]
    # A plain page shows no listing either.
    about = served.root / "content/pages/about.md"
    about.write_text(about.read_text(encoding="utf-8").replace(
        "is the demonstration site", "is the demo site"), encoding="utf-8")
    assert b"is the demo site" in served.rebuild().files["about/index.html"]
    _edit_a_quote_context(served)
    _only_the_edited_article_rendered_again()


def test_a_theme_change_under_serve_empties_the_memo_it_drops(tmp_path: Path) -> None:
    """The environment and its memo hold each other: dropped whole, they would wait for
    a full collection, which `digest serve` defers."""
    served = ServedDemo(tmp_path)
    served.rebuild()
    assert served.views.templates is not None
    old = served.views.templates[1]
    assert len(old) > 0
    templates = served.root / "themes" / "default" / "templates"
    templates.mkdir(parents=True)
    (templates / "404.html").write_text("a 404 of our own", encoding="utf-8")
    assert served.rebuild().files["404.html"] == b"a 404 of our own"
    assert served.views.templates[1] is not old
    assert len(old) == 0 and not old._before
