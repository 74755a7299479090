"""The fast Markdown engine (markdown-it-pyrs) gives exactly the reference engine's
(markdown-it-py) HTML, or hands the text to the reference engine."""

from __future__ import annotations

import shutil
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


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    fast = render_markdown(text).html
    with monkeypatch.context() as patch:
        patch.setenv("DIGEST_MARKDOWN", "reference")
        assert markdown.engine_name() == "markdown-it-py"
        reference = render_markdown(text).html
    return fast, reference


def test_fast_engine_is_in_use() -> None:
    assert markdown.engine_name() == "markdown-it-pyrs"


@pytest.mark.parametrize("text", CONSTRUCTS)
def test_engines_agree_on_constructs(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, reference = _both(text, monkeypatch)
    assert fast == reference


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
