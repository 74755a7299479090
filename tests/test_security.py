"""Hostile content: XSS payloads in every text field, dangerous URL schemes, escaping.

The XSS corpus test builds a site whose every text field holds a payload from
tests/fixtures/xss/payloads.txt, and the same site with harmless text. Parsed with
html.parser, the hostile build may contain no script element, event handler,
dangerous element or javascript:/vbscript:/data: URL that the harmless build does not
have: the theme's own scripts (search, JSON-LD) are allowed, nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import pytest

from digest.build import build
from digest.config import load_config
from digest.errors import ContentError, Problem
from digest.markdown import is_safe_url, render_markdown, unsafe_links, url_scheme
from digest.pipeline import analyse
from digest.targets import table_name
from digest.templates import make_environment, output_escape
from digest.themefiles import BUILTIN_THEMES, resolve_theme

from .conftest import MINIMAL_SITE, write_files

FIXTURES = Path(__file__).parent / "fixtures" / "xss"
PAYLOADS = [line for line in (FIXTURES / "payloads.txt").read_text(encoding="utf-8")
            .splitlines() if line and not line.startswith("#")]

# --------------------------------------------------------------------------- the corpus site


def _y(text: str) -> str:
    """A YAML double-quoted scalar (JSON is a subset of YAML's double-quoted style)."""
    return json.dumps(text, ensure_ascii=False)


def _toml(text: str) -> str:
    # JSON's string escapes (\", \\, \n, \uXXXX) are all TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


def corpus_site(texts: list[str], allow_html: bool) -> dict[str, str]:
    """A site with `texts[i]` in every text field of article i, its sidecar, its topic,
    its speaker, its page and its edition; site.toml's fields hold a third each.

    The raw text closes each article body: with allow_html, malformed markup may take
    what follows it down in the sanitiser (safe, but the anchors would be lost)."""
    files = {
        "site.toml": f"""\
[site]
title = {_toml(" ".join(texts[0::3]))}
description = {_toml(" ".join(texts[1::3]))}
author = {_toml(" ".join(texts[2::3]))}
base_url = "https://example.org/news/"

[markdown]
allow_html = {"true" if allow_html else "false"}
""",
    }
    topics, people = [], []
    for i, text in enumerate(texts):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=i)
        files[f"content/articles/a-{i}.md"] = f"""\
---
title: {_y(text)}
date: {day}
section: {_y(text)}
standfirst: {_y(text)}
source: {_y(text)}
source_url: https://example.com/a-{i}
byline: {_y(text)}
image_caption: {_y(text)}
license: {_y(text)}
license_url: https://example.com/license
---

The anchor phrase number {i} is here.

~~~~~~~~~~
QUOTE {text}
~~~~~~~~~~

{text}
"""
        files[f"content/articles/a-{i}.yaml"] = f"""\
summary: {_y(text)}
topics: [t-{i}]
quotes:
  - id: quote-{i}
    text: {_y(text)}
    prefix: "QUOTE "
    speaker: p-{i}
    context: {_y(text)}
    callout: true
notes:
  - id: note-{i}
    anchor: anchor phrase number {i}
    kind: context
    text: {_y(text)}
    sources: [{{title: {_y(text)}, url: "https://example.com/source-{i}"}}]
  - id: check-{i}
    anchor: is here
    kind: fact-check
    rating: {_y(text)}
    text: {_y(text)}
events:
  - date: "20{10 + i % 15}-0{1 + i % 9}-1{i % 10}"
    title: {_y(text)}
    text: {_y(text)}
    id: ev-{i}
"""
        topics.append(f"t-{i}:\n  title: {_y(text)}\n  description: {_y(text)}\n"
                      f"  aliases: [{_y(text)}]\n")
        people.append(f"p-{i}:\n  name: {_y(text)}\n  role: {_y(text)}\n"
                      f"  aliases: [{_y(text)}]\n  same_as: [https://example.com/p-{i}]\n")
        files[f"content/pages/page-{i}.md"] = (f"---\ntitle: {_y(text)}\n"
                                               f"description: {_y(text)}\n---\n\n{text}\n")
        files[f"content/digests/{day}.yaml"] = f"title: {_y(text)}\nintro: {_y(text)}\n"
    files["content/topics.yaml"] = "".join(topics)
    files["content/people.yaml"] = "".join(people)
    return files


# --------------------------------------------------------------------------- what counts as danger

# Attributes whose value a browser loads or navigates to.
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "data", "poster", "background", "cite",
    "codebase", "dynsrc", "lowsrc", "ping", "manifest", "icon", "longdesc", "usemap",
    "xlink:href", "srcset", "archive", "classid", "profile",
}
# Elements that run code, load documents or change how the page is read.
DANGEROUS_ELEMENTS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "input", "button", "textarea", "select", "style", "link", "meta", "svg", "math",
    "template", "noscript", "body", "html", "head", "video", "audio", "source", "portal",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def dangerous_scheme(value: str) -> str:
    """The bad scheme `value` starts with, as a browser reads it, else ''."""
    # Browsers drop leading C0 controls and spaces, and tabs and newlines anywhere.
    compact = re.sub(r"[\x00-\x20]", "", value).lower()
    return next((s for s in BAD_SCHEMES if compact.startswith(s)), "")


class DangerCollector(HTMLParser):
    """Counts every script, handler, dangerous element and URL in a document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: Counter[tuple[str, ...]] = Counter()
        self.json_scripts: list[str] = []
        self._script: dict[str, str] | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in DANGEROUS_ELEMENTS:
            self.found[("element", tag)] += 1
        if tag == "script":
            self.found[("script", values.get("type", ""), values.get("src", ""))] += 1
            self._script = values
            self._script_text = []
        for name, value in values.items():
            if name.startswith("on"):
                self.found[("handler", tag, name)] += 1
            elif name == "srcdoc":
                self.found[("srcdoc", tag)] += 1
            elif name == "style":
                self.found[("style attribute", tag)] += 1
            elif name in URL_ATTRIBUTES and (scheme := dangerous_scheme(value)):
                self.found[("url", tag, name, scheme)] += 1
        if (tag == "meta" and values.get("http-equiv", "").lower() == "refresh"
                and "url=" in values.get("content", "").lower()):
            target = values["content"].lower().split("url=", 1)[1]
            if scheme := dangerous_scheme(target):
                self.found[("url", tag, "content", scheme)] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            if self._script.get("type") == "application/ld+json":
                self.json_scripts.append("".join(self._script_text))
            self._script = None


def scan_html(html: str) -> DangerCollector:
    collector = DangerCollector()
    collector.feed(html)
    collector.close()
    return collector


def scan_site(folder: Path) -> dict[str, Counter[tuple[str, ...]]]:
    """Dangers per page, and per HTML-carrying field of feeds and the timeline."""
    found: dict[str, Counter[tuple[str, ...]]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith("pagefind/") or not path.is_file():
            continue
        if path.suffix == ".html":
            scanned = scan_html(path.read_text(encoding="utf-8"))
            found[rel] = scanned.found
            for text in scanned.json_scripts:
                # A `</script>` in content would have cut the element short: not JSON.
                json.loads(text)
                assert "<" not in text and ">" not in text, f"{rel}: unescaped JSON-LD"
        elif path.name == "timeline.json":
            raw = path.read_text(encoding="utf-8")
            assert not re.search("[<>&]", raw), "timeline.json must escape <, > and &"
            data = json.loads(raw)
            for index, event in enumerate([data.get("title", {}), *data.get("events", [])]):
                for key, value in event.get("text", {}).items():
                    found[f"{rel}#{index}.{key}"] = scan_html(value).found
        elif path.name == "feed.json":
            for item in json.loads(path.read_text(encoding="utf-8")).get("items", []):
                found[f"{rel}#{item.get('id')}"] = scan_html(item.get("content_html", "")).found
        elif path.suffix == ".xml":
            document = ET.parse(path).getroot()  # well-formed, whatever the content
            for element in document.iter():
                if element.tag.endswith(("content", "summary")) and element.text:
                    key = f"{rel}#{element.tag}#{len(found)}"
                    found[key] = scan_html(element.text).found
    return found


def introduced(hostile: dict[str, Counter], harmless: dict[str, Counter]) -> list[str]:
    """Dangers of the hostile build that the harmless build of the same site lacks."""
    problems = []
    harmless_by_file = {key.split("#")[0]: Counter() for key in harmless}
    for key, counts in harmless.items():
        harmless_by_file[key.split("#")[0]] += counts
    hostile_by_file: dict[str, Counter] = {}
    for key, counts in hostile.items():
        hostile_by_file.setdefault(key.split("#")[0], Counter()).update(counts)
    for rel, counts in sorted(hostile_by_file.items()):
        extra = counts - harmless_by_file.get(rel, Counter())
        problems += [f"{rel}: {' '.join(sig)} x{n}" for sig, n in sorted(extra.items())]
    return problems


@pytest.fixture(scope="module")
def corpus_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[bool, bool], Path]:
    """(allow_html, hostile) -> the built site."""
    built = {}
    harmless = [f"harmless text {i}" for i in range(len(PAYLOADS))]
    for allow_html in (False, True):
        for hostile, texts in ((True, PAYLOADS), (False, harmless)):
            base = tmp_path_factory.mktemp(f"xss-{allow_html}-{hostile}")
            root = write_files(base / "site", corpus_site(texts, allow_html))
            build(root, output=base / "out", jobs=1, use_cache=False)
            built[(allow_html, hostile)] = base / "out"
    return built


def test_payload_corpus_is_representative() -> None:
    assert len(PAYLOADS) >= 40
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.parametrize("allow_html", [False, True], ids=["escaped", "allow_html"])
def test_payloads_introduce_no_script_handler_or_dangerous_url(
        corpus_builds: dict[tuple[bool, bool], Path], allow_html: bool) -> None:
    hostile = scan_site(corpus_builds[(allow_html, True)])
    harmless = scan_site(corpus_builds[(allow_html, False)])
    assert introduced(hostile, harmless) == []
    # The comparison is only worth something if the pages were built at all.
    assert len([k for k in hostile if k.endswith(".html")]) > 4 * len(PAYLOADS)


def test_payloads_reach_the_pages_as_text(corpus_builds: dict[tuple[bool, bool], Path]) -> None:
    """Escaped, not dropped: the reader sees what the editor wrote."""
    html = (corpus_builds[(False, True)] / "articles/a-0/index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Content is never a template: Jinja syntax in it comes out as written.
    index = next(i for i, p in enumerate(PAYLOADS) if p.startswith("{{ 7*7 }}"))
    page = corpus_builds[(False, True)] / f"articles/a-{index}/index.html"
    assert "{{ 7*7 }}{% raw %}${7*7}" in page.read_text()


def test_allow_html_keeps_safe_markup_and_drops_the_rest() -> None:
    body = ('<b>bold</b> <a href="https://example.com/" onclick="alert(1)">link</a> '
            '<img src="https://example.com/i.png" onerror="alert(1)"> '
            '<script>alert(1)</script><iframe src="https://evil.example/"></iframe>')
    html = render_markdown(body, allow_html=True).html
    assert "<b>bold</b>" in html and 'href="https://example.com/"' in html
    assert 'src="https://example.com/i.png"' in html
    assert sorted(scan_html(html).found) == []
    # Elements that read raw text would swallow what follows: shown as text instead.
    after = render_markdown("<style>p {}\n\nThe rest of the article.", allow_html=True).html
    assert "The rest of the article." in after and "<style" not in after
    escaped = render_markdown(body, allow_html=False).html
    assert "<b>" not in escaped and "&lt;b&gt;bold&lt;/b&gt;" in escaped


def test_templates_mark_only_sanitised_values_safe() -> None:
    """`|safe` only on values digest rendered and sanitised itself (named *_html) and on
    JSON-LD, which jsonld.script_element escapes."""
    allowed = re.compile(r"^[\w.]*_html$|^page\.jsonld$")
    unsafe = []
    for template in sorted((BUILTIN_THEMES / "default" / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r"\{\{-?\s*([^{}]*?)\s*\|\s*safe\b", text):
            if not allowed.match(match.group(1)):
                unsafe.append(f"{template.name}: {match.group(0)}")
        assert "autoescape false" not in text, template.name
    assert unsafe == []


def test_jinja_autoescapes_every_template() -> None:
    env = make_environment(resolve_theme(Path("/nonexistent"), "default"), {}, {})
    for name in ("page.html", "feed.xml", "anything.txt"):
        assert env.autoescape is True or env.autoescape(name), name


class _Proxy(str):
    """A str subclass with its own __html__ (as a lazy-translation proxy might have)."""

    def __html__(self) -> str:
        return "<b>trusted</b>"


@pytest.mark.parametrize("value", [
    "plain", "", "<script>alert('x') & \"y\"</script>", "é ü → 😀 <>", 42, 3.5, None,
    markupsafe.Markup("<em>already safe</em> &amp;"), _Proxy("ignored"),
])
def test_output_escape_writes_what_markupsafe_writes(value: object) -> None:
    assert output_escape(value) == str(markupsafe.escape(value))


def test_the_faster_escape_is_the_one_templates_use_for_output() -> None:
    env = make_environment(resolve_theme(Path("/nonexistent"), "default"), {}, {})
    template = env.from_string(
        "{{ a }}|{{ b }}|{% macro m(x) %}<i>{{ x }}</i>{% endmacro %}{{ m(a) }}|"
        "{% set block %}{{ a }}{% endset %}{{ block }}|{% filter upper %}{{ a }}{% endfilter %}")
    assert template.root_render_func.__globals__["escape"] is output_escape
    rendered = template.render(a="<a href='x'>&</a>", b=markupsafe.Markup("<br>"))
    once = "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
    # Macro output, a set block and a filter block are each escaped once, not twice.
    assert rendered == f"{once}|<br>|<i>{once}</i>|{once}|{once.upper()}"


def test_base_url_cannot_break_out_of_attributes(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": MINIMAL_SITE["site.toml"].replace(
        'base_url = "https://example.org/"',
        'base_url = "https://example.org/x\\"onmouseover=\\"alert(1)/"')})
    out = tmp_path / "out"
    build(root, output=out)
    for page in out.rglob("*.html"):
        scanned = scan_html(page.read_text(encoding="utf-8"))
        assert not [s for s in scanned.found if s[0] == "handler"], page


def test_script_close_in_content_stays_inside_json_ld(make_site, tmp_path: Path) -> None:
    article = MINIMAL_SITE["content/articles/talks.md"].replace(
        "title: Kremlin rejects foreign troops",
        'title: "</script><script>alert(1)</script> & <!-- -->"')
    root = make_site({"content/articles/talks.md": article})
    out = tmp_path / "out"
    build(root, output=out)
    scanned = scan_html((out / "articles/talks/index.html").read_text(encoding="utf-8"))
    graphs = [json.loads(text) for text in scanned.json_scripts]
    assert graphs, "the article page carries JSON-LD"
    headline = graphs[0]["@graph"][0]["headline"]
    assert headline == "</script><script>alert(1)</script> & <!-- -->"
    timeline = (out / "timeline.json").read_bytes()
    assert b"<" not in timeline and b">" not in timeline


# --------------------------------------------------------------------------- URL schemes


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.com/", True), ("http://example.com/", True), ("/relative", True),
    ("relative/path", True), ("#fragment", True), ("//example.com/x", True),
    ("mailto:desk@example.com", True), ("tel:+4912345", True), ("?q=1", True),
    ("javascript:alert(1)", False), ("JavaScript:alert(1)", False),
    (" javascript:alert(1)", False), ("\x00javascript:alert(1)", False),
    ("java\tscript:alert(1)", False), ("java\nscript:alert(1)", False),
    ("\x01\x02javascript:alert(1)", False), ("vbscript:msgbox(1)", False),
    ("VBSCRIPT:x", False), ("data:text/html,<script>alert(1)</script>", False),
    ("data:image/png;base64,AAAA", False), ("file:///etc/passwd", False),
])
def test_url_schemes(url: str, safe: bool) -> None:
    assert is_safe_url(url) is safe, (url, url_scheme(url))


def test_unsafe_links_are_located_in_their_text() -> None:
    text = ("Intro line.\nSee [x](javascript:alert(1)) and ![i](data:image/png;base64,AA)\n\n"
            "> [ref link][r]\n\n[r]: vbscript:msgbox(1)\n\n- an <JavaScript:alert(2)>\n")
    found = [(link.url, link.line, link.column) for link in unsafe_links(text)]
    assert found == [("javascript:alert(1)", 1, 9), ("data:image/png;base64,AA", 1, 39),
                     ("vbscript:msgbox(1)", 5, 6), ("JavaScript:alert(2)", 7, 7)]
    assert unsafe_links("[ok](https://example.com/) [rel](../x)") == ()
    html = render_markdown(text).html
    assert "javascript" not in html.lower().replace(">javascript:alert(2)<", "")
    assert 'href="#"' in html and 'src="#"' in html


@pytest.mark.parametrize("text", [
    "[x](javascript&colon;alert(1))", "[x](javascript&#58;alert(1))", "<javascript:alert(1)>",
    "![i][r]\n\n[r]: data:image/png;base64,AA", "[x](JAVASCRIPT:alert(1))",
])
def test_links_are_found_in_every_form_the_shortcut_lets_through(text: str) -> None:
    assert len(unsafe_links(text)) == 1


def test_text_that_cannot_hold_a_scheme_is_not_rendered_to_look(monkeypatch) -> None:
    import digest.markdown

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered")

    monkeypatch.setattr(digest.markdown, "render_markdown", refuse)
    for text in ("plain words: no links", "[a link](../relative)", "<b>no colon</b>", ""):
        assert unsafe_links(text) == ()


def _where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of `needle` in `text`."""
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _problems(root: Path) -> list[Problem]:
    try:
        return analyse(root, use_cache=False).errors
    except ContentError as exc:  # site.toml problems stop before the content is read
        return exc.problems


ARTICLE = MINIMAL_SITE["content/articles/talks.md"]
SIDECAR = MINIMAL_SITE["content/articles/talks.yaml"]
PEOPLE = MINIMAL_SITE["content/people.yaml"]
SITE_TOML = MINIMAL_SITE["site.toml"]

# (case id, file, its new text, what to find in it): the error must point there.
SCHEME_CASES = [
    ("body-link", "content/articles/talks.md",
     ARTICLE + "\nRead [the cable](javascript:alert(1)) today.\n", "javascript:"),
    ("body-image", "content/articles/talks.md",
     ARTICLE + "\nA picture:\n![map](data:image/svg+xml;base64,PHN2Zz4=)\n", "data:"),
    ("body-reference", "content/articles/talks.md",
     ARTICLE + "\nSee [the report][r].\n\n[r]: vbscript:msgbox(1)\n", "vbscript:"),
    ("body-autolink", "content/articles/talks.md",
     ARTICLE + "\nOpen <javascript:alert(1)> now.\n", "javascript:"),
    ("body-second-line", "content/articles/talks.md",
     ARTICLE + "\nA paragraph that goes on\nand on [here](JAVASCRIPT:alert(1)).\n",
     "JAVASCRIPT:"),
    ("source_url", "content/articles/talks.md",
     ARTICLE.replace("source_url: https://example.com/talks", "source_url: javascript:alert(1)"),
     "javascript:"),
    ("license_url", "content/articles/talks.md",
     ARTICLE.replace("source_url:", "license_url: data:text/html,x\nsource_url:"), "data:"),
    ("note-source-url", "content/articles/talks.yaml",
     SIDECAR.replace('url: "https://example.com/pledge"', "url: javascript:alert(1)"),
     "javascript:"),
    ("person-same_as", "content/people.yaml",
     PEOPLE + "  same_as: [vbscript:msgbox(1)]\n", "vbscript:"),
    ("site-base_url", "site.toml",
     SITE_TOML.replace('"https://example.org/"', '"javascript:alert(1)//"'), "javascript:"),
]
# Markdown fields outside article bodies: today their unsafe links silently become '#'.
MARKDOWN_FIELD_CASES = [
    ("sidecar-summary", "content/articles/talks.yaml",
     SIDECAR.replace("summary: The Kremlin", "summary: See [x](javascript:alert(1)). The Kremlin"),
     "javascript:"),
    ("note-text", "content/articles/talks.yaml",
     SIDECAR.replace("text: Twenty-six", "text: See [x](javascript:alert(1)). Twenty-six"),
     "javascript:"),
    ("event-text", "content/articles/talks.yaml",
     SIDECAR.replace("title: Istanbul talks\n",
                     "title: Istanbul talks\n    text: '[x](vbscript:msgbox(1))'\n"),
     "[x](vbscript:"),
    ("page-body", "content/pages/about.md",
     "---\ntitle: About\n---\n\nWrite to [us](javascript:alert(1)).\n", "javascript:"),
    ("edition-intro", "content/digests/2025-09-05.yaml",
     "intro: '[x](data:text/html,hi)'\n", "[x](data:"),
]


@pytest.mark.parametrize(("case", "rel", "text", "needle"), SCHEME_CASES,
                         ids=[c[0] for c in SCHEME_CASES])
def test_dangerous_schemes_are_refused_at_their_line(make_site, case: str, rel: str,
                                                     text: str, needle: str) -> None:
    root = make_site({rel: text})
    line, column = _where(text, needle)
    errors = _problems(root)
    at_line = [p for p in errors if (p.path, p.line) == (rel, line)]
    assert at_line, f"no error at {rel}:{line}; got {[p.format_text() for p in errors]}"
    if not rel.endswith(".md") or case in ("source_url", "license_url"):
        # Structured fields: the error points at the value itself.
        assert any(p.column in (column, column - 1) for p in at_line), at_line


def test_body_link_errors_give_the_column(make_site) -> None:
    text = ARTICLE + "\nRead [the cable](javascript:alert(1)) today.\n"
    root = make_site({"content/articles/talks.md": text})
    line, column = _where(text, "javascript:")
    assert [(p.line, p.column) for p in _problems(root) if p.code == "unsafe-url"] == [
        (line, column)]


@pytest.mark.parametrize(("case", "rel", "text", "needle"), MARKDOWN_FIELD_CASES,
                         ids=[c[0] for c in MARKDOWN_FIELD_CASES])
def test_dangerous_schemes_in_markdown_fields_are_refused(make_site, case: str, rel: str,
                                                          text: str, needle: str) -> None:
    root = make_site({rel: text})
    line, _column = _where(text, needle)
    errors = _problems(root)
    assert [p for p in errors if (p.path, p.line) == (rel, line) and p.code == "unsafe-url"]


def test_unsafe_links_never_reach_the_page_even_unreported(make_site, tmp_path: Path) -> None:
    """Whatever the validation reports, the rendering drops unsafe targets."""
    case = {c[0]: c for c in MARKDOWN_FIELD_CASES}["sidecar-summary"]
    root = make_site({case[1]: case[2]})
    out = tmp_path / "out"
    try:
        build(root, output=out)
    except ContentError:
        return  # refused: even better
    html = (out / "articles/talks/index.html").read_text(encoding="utf-8")
    assert not [s for s in scan_html(html).found if s[0] == "url"]


# --------------------------------------------------------------------------- the build cache


class _Trap:
    """Unpickling this creates a file: proof that loading ran code from the project."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_planted_cache_file_cannot_run_code(make_site, tmp_path: Path) -> None:
    root = make_site()
    marker = tmp_path / "code-ran"
    cache = root / ".digest-cache"
    cache.mkdir()
    (cache / "articles.pickle").write_bytes(pickle.dumps(_Trap(marker)))
    analyse(root)
    assert not marker.exists()
    # Nor can planted tables of a build: its state, its compiled templates, a journal.
    # Each shaped as digest writes it, with a signature that is not the user's.
    trap = pickle.dumps(_Trap(marker))
    output_state = table_name("output", load_config(root).output_dir)
    for name in (f"{output_state}.pickle", "templates.pickle"):
        (cache / name).write_bytes(bytes(32) + trap)
    (cache / "articles.journal").write_bytes(bytes(32) + len(trap).to_bytes(8, "little")
                                             + trap)
    build(root)
    assert not marker.exists()
