"""The fast Markdown engine (markdown-it-pyrs) gives exactly the reference engine's
(markdown-it-py) HTML, or hands the text to the reference engine."""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pytest

from digest import markdown
from digest.build import build
from digest.importer import parse_import
from digest.markdown import render_markdown

from .conftest import REPO_ROOT

CORPUS = Path(__file__).parent / "fixtures" / "corpus" / "wikinews"
ARTICLES = sorted(p for p in CORPUS.glob("20*.txt"))

# CommonMark constructs beyond what news text uses, and the cases the fast engine must
# hand over: refused schemes, entities, escapes and international domain names.
CONSTRUCTS = [
    "a  \nb\n\n---\n\n![x](y.png \"t\")\n\n    code\n\n> q\n> > nested\n\n1. a\n2. b\n",
    "* a\n\n  * b\n- c\n\n+ d\n\n10) ten\n",
    "[l](http://x.org/a%20b) <http://a.b/c?d=1&e=2> a&amp;b &copy; `c` **b** _e_ ***x***",
    "# H1 #\n\nSetext\n======\n\n## H2\n\n```python\nx = '<a>'\n```\n\n~~~\ntilde\n~~~\n",
    "[ref][R] and [R] and [collapsed][]\n\n[R]: https://example.org/r 'Title'\n"
    "[collapsed]: </a b>\n",
    "<div>raw html</div>\n\n<span onclick=x>inline</span> <!-- c -->\n",
    "[x](ftp://a) and [y](JAVASCRIPT:alert(1)) and ![d](data:image/png;base64,xx)",
    "[x](java&#115;cript:a) [y](javascript&colon;a) [z](javascript\\:a) [w](file:///etc)",
    "[Ünï](http://例え.jp/ä?q=ö) <https://bücher.example/ü>",
    "Tabs\tand\u00a0spaces, “quotes” — dashes… and emoji 🙂 in *em*phasis_",
    "***\n- [ ] task?\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "line with trailing backslash\\\nnext\n\nhttps://autolinks.are/not-on",
]


# Where markdown-it-pyrs 0.4 parts from the reference (found by the fuzzing below, each
# checked to differ when rendered by it directly): each must reach the reference engine.
DIVERGENT = [
    "See [`the docs",  # it panics: index out of bounds while scanning the link label
    "x ``    `` y",  # a code span of spaces loses one at each end
    "A paragraph\u00a0", "\u2003A paragraph", "b- \x0b\x0c",  # trimmed by the reference
    "- \u3000a", "[x](b\u2003)",  # ... at the start of a list item and in a link's target
    "_\u2028_",  # a line separator is white space to the reference's emphasis only
    ">", "a\n\n>\n",  # an empty block quote
    "```\ncode",  # a code block open at the end of text without a final line break
    ">a\\\n2) b",  # a list marker after a block quote
    "- a\n\t```\n", " + a\n    ```\n",  # a code block in a list item
    "[x]: /u\\", "[x]: /u  \n'':", "[x]: /u\na*[x](", "[x]: /u\\\n[x][]",  # definitions
    ">(``2)   \n--- 2) `\\\n `", "[x](\\\n)",  # a backslash ending a line
    "<mailto:q@r.s\u201d>",  # a mailto domain the reference writes in punycode
    "<mailto:q@r.s===tel:1>",  # ... or reads a port in
    "a*\u20acb*", "**Cost:**\u20ac5", "_a_\u2192", "a*\x00b*",  # a symbol beside emphasis
    "![\\[](u)", "![a  \nb](u)",  # a backslash or a hard break in an image's alt text
    "[a](< u>)",  # white space inside a destination in angle brackets
    "<http://xn--mnchen-3ya.de>", "<http://a.b/%C3%BC>",  # an autolink's text decoded
    "[a](//h\u00f4st/p)", "[a](http://@a.b/)", "[a](http://a:b:80/)",  # hosts rewritten
    "[a](Https:@\\))", "[a](tel:@)", "[a](80http:[http:1))", "[a](http://" + "a" * 64 + ")",
    "> " * 20 + "a", "- " * 10 + "a", "[" * 20 + "a" + "](u)" * 20,  # nested too deep
    ">a\r- ", "[a](b\x00c)",  # a lone carriage return, a NUL in a link
    "> > > > > \ta",  # a tab after block quote markers
    '[a](u "")', "![a](u ())",  # an empty title
    "> `a\n  b`",  # a code span going on in a block quote's lazy, indented line
]


def _both(text: str, monkeypatch: pytest.MonkeyPatch, inline: bool = False
          ) -> tuple[str, str]:
    fast = render_markdown(text, inline=inline).html
    with monkeypatch.context() as patch:
        patch.setenv("DIGEST_MARKDOWN", "reference")
        assert markdown.engine_name() == "markdown-it-py"
        reference = render_markdown(text, inline=inline).html
    return fast, reference


def test_fast_engine_is_in_use() -> None:
    assert markdown.engine_name() == "markdown-it-pyrs"


@pytest.mark.parametrize("text", CONSTRUCTS)
def test_engines_agree_on_constructs(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, reference = _both(text, monkeypatch)
    assert fast == reference


@pytest.mark.parametrize("text", DIVERGENT)
def test_what_the_fast_engine_gets_wrong_goes_to_the_reference(
        text: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    assert markdown._render_fast(text) is None
    for inline in (False, True):
        fast, reference = _both(text, monkeypatch, inline)
        assert fast == reference
    # Turned away before the fast engine ran: a panic would have printed its message.
    assert capfd.readouterr().err == ""


def test_an_article_that_made_the_fast_engine_panic_builds(tmp_path: Path) -> None:
    # "[`" in an article stopped the build with a Rust traceback (PanicException is no
    # Exception, so nothing caught it).
    root = tmp_path / "demo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "site.toml", root)
    shutil.copytree(REPO_ROOT / "content", root / "content")
    article = root / "content/articles/germany-says-navalny-poisoned-with-novichok.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nSee [`the docs.\n",
                       encoding="utf-8")
    build(root, output=tmp_path / "out", use_cache=False)
    page = tmp_path / "out/articles/germany-says-navalny-poisoned-with-novichok/index.html"
    assert "<p>See [`the docs.</p>" in page.read_text(encoding="utf-8")


def test_a_panic_of_the_fast_engine_hands_the_text_to_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Any panic the checks above do not foresee: pyo3 raises PanicException, derived
    # from BaseException.
    class Panicking:
        def render(self, text: str) -> str:
            raise PanicException("index out of bounds")

    class PanicException(BaseException):
        pass

    monkeypatch.setattr(markdown, "_fast_engine", lambda: Panicking())
    assert markdown._render_fast("plain *text*") is None
    assert render_markdown("plain *text*").html == "<p>plain <em>text</em></p>\n"


def test_white_space_beyond_ascii_goes_to_the_reference_where_the_engines_differ() -> None:
    # Every character Python's str.strip takes beyond space, tab and line endings, and
    # the byte order mark, is one of the two kinds the checks know.
    others = {chr(c) for c in range(sys.maxunicode + 1)
              if chr(c).isspace() and chr(c) not in " \t\n\r"} | {"\ufeff"}
    odd, wide = set(markdown._ODD_SPACES), set(markdown._WIDE_SPACES)
    assert odd | wide == others and not odd & wide
    for space in odd:
        assert markdown._render_fast(f"a{space}b") is None
    for space in wide:  # inside a line, as in "10 km" written with a no-break space
        assert markdown._render_fast(f"a{space}b") == f"<p>a{space}b</p>\n"
        for text in (f"{space}a", f"a{space}", f"a{space}\nb", f"- {space}a", f"# a{space}#"):
            assert markdown._render_fast(text) is None, text


_FUZZ_PIECES = [
    "a", "word", " ", "  ", "    ", "\n", "\n\n", "\r\n", "\t", "*", "**", "_", "__", "`",
    "``", "```", "~~~", "[", "]", "(", ")", "<", ">", "!", "#", "# ", "- ", "+ ", "1. ",
    "2) ", "=", "===", "---", "***", "\\", "\\\n", "  \n", "&", "&amp;", ":", "/", ".",
    "|", '"', "'", "http://x.y/z", "mailto:q@r.s", "tel:1", "[l](http://u.v/w)",
    "![i](p.png)", "<http://x.y>", "[x]: /u", "[x]", "[x][]", "\u00e9", "\u201d", "\u2026",
    "\u00a0", "\u2003", "\x0c", "\x1c", "\ufeff", "a\u2009b", "*a*\x85b", "_\u2028_", "- \u3000",
    "](\u2003", "\u2003)", "\u20ac", "\u00a9", "\u2192", "\U0001f642", "\x00", "\r", "![",
    "](<", "xn--", "%C3%BC", "@", "//", "h\u00f4st", "[::1]", ":80", "%5B", "> > > > > ",
    "- - - - ", "\u00ab", "\u00bb", "^", "http://", "https:", "tel:", "\\*", "  \r\n",
]


def test_engines_agree_on_random_markdown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Text made of Markdown's syntax at random, as blocks and inline: the way the
    # divergences above were found (2.4 million such texts agreed after the last fix).
    rng = random.Random(20261130)
    fast_paths = 0
    for _ in range(8000):
        text = "".join(rng.choice(_FUZZ_PIECES) for _ in range(rng.randrange(1, 16)))
        for inline in (False, True):
            fast, reference = _both(text, monkeypatch, inline)
            assert fast == reference, (text, inline)
        fast_paths += markdown._render_fast(text) is not None
    assert fast_paths > 2400  # about a third take the fast path


def test_inline_text_takes_the_fast_engine_when_it_is_one_paragraph(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Side notes, event texts and captions are rendered inline, each paragraph alone.
    paragraphs = [p for path in ARTICLES
                  for p in parse_import(path.read_text(encoding="utf-8"), path.name, {})
                  .body.split("\n\n") if p.strip()]
    fast_paths = 0
    for text in paragraphs:
        fast, reference = _both(text, monkeypatch, inline=True)
        assert fast == reference, text
        html = markdown._render_fast(text)
        fast_paths += html is not None and markdown._paragraph_content(text, html) is not None
    assert len(paragraphs) > 3000
    assert fast_paths > 0.8 * len(paragraphs)
    assert render_markdown("*Two*\nlines", inline=True).html == "<em>Two</em>\nlines"
    assert render_markdown("# Not a heading", inline=True).html == "# Not a heading"


def test_engines_agree_on_the_wikinews_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(ARTICLES) == 291
    fast_paths = 0
    for path in ARTICLES:
        text = path.read_text(encoding="utf-8")
        body = parse_import(text, path.name, {}).body
        # The raw text too: read as Markdown, its '*', '_', '<' and '&' become syntax.
        for source in (body, text):
            fast, reference = _both(source, monkeypatch)
            assert fast == reference, path.name
            fast_paths += markdown._render_fast(source) is not None
    # Most of it took the fast path, so the comparison above proves something.
    assert fast_paths > 0.9 * 2 * len(ARTICLES)


def test_demo_builds_byte_identical_with_either_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "demo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "site.toml", root)
    shutil.copytree(REPO_ROOT / "content", root / "content")
    build(root, output=tmp_path / "fast", use_cache=False)
    monkeypatch.setenv("DIGEST_MARKDOWN", "reference")
    build(root, output=tmp_path / "reference", use_cache=False)

    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    fast, reference = tree(tmp_path / "fast"), tree(tmp_path / "reference")
    assert len(fast) > 50
    assert fast == reference
