"""Robust input: random YAML, Markdown, TOML and Unicode into every loader.

digest either accepts the input or reports it at `path:line:col` (ContentError,
DigestError or another click.ClickException); any other exception is a bug. The
examples are bounded and derandomised, so a run is fast and repeatable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import anchors, yamlload
from digest.build import build
from digest.cli import main
from digest.config import parse_config
from digest.errors import ContentError, DigestError
from digest.importer import parse_import
from digest.located import Loaded, Mark
from digest.markdown import render_markdown
from digest.pipeline import analyse
from digest.schema import SCHEMAS
from digest.sources import SourceText, read_source, split_front_matter
from digest.structure import check
from digest.yamlload import MAX_DEPTH, YamlError, parse_yaml

from .conftest import MINIMAL_SITE, write_files

# DIGEST_FUZZ_EXAMPLES=2000 DIGEST_FUZZ_SEED=random hunts for new bugs; the default is
# the same small, fixed set on every run.
EXAMPLES = int(os.environ.get("DIGEST_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=os.environ.get("DIGEST_FUZZ_SEED") != "random", database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
SLOW_FUZZ = settings(FUZZ, max_examples=max(1, EXAMPLES * 2 // 5))

# Pieces that break parsers: line ends of every kind, a BOM, NUL and other controls,
# right-to-left and bidi controls, combining marks, emoji with joiners, YAML and
# Markdown syntax, HTML, entities, and a very long line.
NASTY = st.sampled_from([
    "\x00", "\r", "\r\n", "\n", "\ufeff", "\u202e", "\u200f", "\u2066", "\u0301\u0301",
    "e\u0301", "😀", "👩🏽\u200d🚀", "שלום", "مرحبا", "\t", "\x0b", "\x0c", "\x85",
    "\u2028", "\u2029", "\x7f", "\ufffd", ":", ": ", "- ", "---", "...", "#", "&a ", "*a",
    "!!str ", "!!python/object:os.system ", "<<: ", "? ", "|", ">", "'", '"', "[", "]", "{",
    "}", ",", "%", "@", "`", "\\", "~", "<", "&amp;", "&#0;", "&#x110000;", "*x*", "_",
    "[a](b)", "[x](javascript:alert(1))", "<b>", "</p>", "<script>", "<!--", "```", "    ",
    "> ", "1. ", "* ", "x" * 500, "2024-02-30", "2024-13-01", "1e999", "0x", "yes", "~",
])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=12)), max_size=25).map("".join)
LINE = st.tuples(st.sampled_from(["", "  ", "    ", "\t"]),
                 st.sampled_from(["", "key: ", "- ", "? ", ": ", "quotes:", "text: ",
                                  "  - text: ", "&a ", "*a", "<<: *a", "!!binary ", "---",
                                  "summary: |", "notes: [", "{", "}"]),
                 TEXT).map("".join)
YAML_TEXT = st.lists(LINE, max_size=12).map("\n".join)
ANY_ERROR = (click.ClickException,)


# --------------------------------------------------------------------------- YAML


@FUZZ
@given(YAML_TEXT)
def test_parse_yaml_reads_or_reports(text: str) -> None:
    try:
        loaded = parse_yaml(text, "content/x.yaml", line_offset=3)
    except YamlError as exc:
        problem = exc.problem
        assert problem.path == "content/x.yaml" and problem.line >= 4 and problem.column >= 1
        return
    for mark in [*_marks(loaded), *_marks(loaded, key=True)]:
        assert mark[1].line >= 4 and mark[1].column >= 1


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.dates())
DATA = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=25)


@FUZZ
@given(DATA, st.sampled_from([None, False, True]))
def test_parse_yaml_agrees_with_pyyaml(data: Any, flow: bool | None) -> None:
    """Our event-driven composer builds what PyYAML builds, on anything PyYAML writes."""
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow)
    assert parse_yaml(text, "x.yaml").data == yaml.safe_load(text)


def _full_reading(monkeypatch: pytest.MonkeyPatch, text: str) -> Loaded | YamlError:
    """What parse_yaml gives without its fast path for plain documents."""
    def not_plain(*_: object) -> None:
        raise yamlload._NotPlain
    with monkeypatch.context() as patch:
        patch.setattr(yamlload, "_read_plain", not_plain)
        return _reading(text)


def _reading(text: str) -> Loaded | YamlError:
    try:
        return parse_yaml(text, "content/x.yaml", line_offset=3)
    except YamlError as exc:
        return exc


def _marks(loaded: Loaded, *, key: bool = False) -> list[tuple[Any, Mark]]:
    """Each recorded path with its mark, as Loaded.mark gives it (the fast reading keeps
    the parser's own marks and converts them when asked)."""
    return [(path, loaded.mark(path, key=key)) for path in (loaded.keys if key else loaded.values)]


def _same_reading(fast: Loaded | YamlError, full: Loaded | YamlError) -> None:
    if isinstance(full, YamlError):
        assert isinstance(fast, YamlError) and fast.problem == full.problem
        return
    assert isinstance(fast, Loaded)
    assert repr(fast.data) == repr(full.data)  # types too: 1 and True are equal
    assert _marks(fast) == _marks(full)
    assert _marks(fast, key=True) == _marks(full, key=True)


@FUZZ
@given(YAML_TEXT)
def test_fast_reading_is_the_full_reading_on_anything(text: str) -> None:
    """The fast path for plain documents gives the same data, marks and errors as the
    composer and builder, on hostile text as on sidecars."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_reading(_reading(text), _full_reading(monkeypatch, text))


@FUZZ
@given(DATA, st.sampled_from([None, False, True]))
def test_fast_reading_is_the_full_reading_on_plain_documents(data: Any,
                                                             flow: bool | None) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_reading(_reading(text), _full_reading(monkeypatch, text))
    # ...and such documents take the fast path: it does not hand them over.
    loader = yamlload._Loader(text)
    try:
        yamlload._read_plain(loader, Loaded(None, "x.yaml"), 0)
    finally:
        loader.dispose()


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # an alias
    "a: {k: 1}\nb:\n  <<: {k: 2}\n  j: 3\n",  # a merge key
    "a: !!str 5\n",  # a tag
    "a: 1\nb: [1, {c: 2, c: 3}]\n",  # a duplicate key, nested
    "a: 1\nb: 2\na: 3\nc: [\n",  # a duplicate key before a syntax error
    "a: '\\ud83d'\n",  # an escaped lone surrogate (reported by the full reading)
    "2024-02-30\n",  # a lone scalar that is no date
    "when: 2024-02-30\nn: 0x1F\nt: yes\nz: ~\nq: '5'\n",
])
def test_fast_reading_hands_over_or_agrees(monkeypatch, text: str) -> None:
    _same_reading(_reading(text), _full_reading(monkeypatch, text))


def test_merge_keys_follow_yaml_rules() -> None:
    text = textwrap.dedent("""\
        base: &base {kind: context, text: from base, sources: []}
        other: &other {kind: analysis, rating: x}
        note:
          <<: [*base, *other]
          text: own text
        """)
    assert parse_yaml(text, "x.yaml").data["note"] == {
        "text": "own text", "kind": "context", "sources": [], "rating": "x"}


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, f"nested more than {MAX_DEPTH} levels deep"),
    ("- " * 100_000 + "x\n", f"nested more than {MAX_DEPTH} levels deep"),
    ("a: &a [*a]\n", "alias '*a' has no anchor '&a' before it"),
    ("a: &a {b: *a}\n", "alias '*a' has no anchor '&a' before it"),
    ("a: 1\n---\nb: 2\n", "a second YAML document"),
    ("a: !!python/object/apply:os.system [id]\n",
     "unsupported YAML tag '!!python/object/apply:os.system'"),
    ("a: !!python/name:os.system ''\n", "unsupported YAML tag '!!python/name:os.system'"),
    ("a: !custom {b: 1}\n", "unsupported YAML tag '!custom'"),
    ("a: x\x00y\n", "character U+0000 is not allowed"),
    ("? [a, b]\n: c\n", "a list or mapping cannot be a key"),
    ("<<: 5\n", "'<<' merges mappings only"),
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first defined at line 1)"),
])
def test_hostile_yaml_is_refused_quickly(text: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(YamlError) as caught:
        parse_yaml(text, "x.yaml")
    assert message in caught.value.problem.message
    assert time.monotonic() - started < 2


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels: int = 8) -> str:
    lines = ["m0: &m0 {k0: 1, k1: 2, k2: 3}"]
    for level in range(1, levels):
        lines.append(f"m{level}: &m{level} {{<<: [{', '.join([f'*m{level - 1}'] * 9)}]}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("bomb", [_bomb(), _merge_bomb()], ids=["aliases", "merge-keys"])
def test_alias_bombs_are_refused_quickly(bomb: str) -> None:
    started = time.monotonic()
    with pytest.raises(YamlError, match="alias bomb"):
        parse_yaml(bomb, "x.yaml")
    assert time.monotonic() - started < 2


def test_a_deep_structure_in_a_sidecar_is_reported(make_site) -> None:
    root = make_site({"content/articles/talks.yaml": "summary: " + "[" * 50_000})
    errors = analyse(root, use_cache=False).errors
    assert "content/articles/talks.yaml:1:" in errors[0].format_text()
    assert "nested more than" in errors[0].message


# --------------------------------------------------------------------------- files


@FUZZ
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=400))
def test_read_source_reads_or_reports(tmp_path_factory, data: bytes, limit: int) -> None:
    root = tmp_path_factory.mktemp("read")
    path = root / "content" / "x.md"
    path.parent.mkdir()
    path.write_bytes(data)
    result = read_source(path, root, limit)
    if isinstance(result, SourceText):
        assert "\r" not in result.text and "\x00" not in result.text
        assert not result.text.startswith("\ufeff")
    else:
        assert result.path == "content/x.md" and result.line >= 1 and result.column >= 1


def test_non_utf8_names_the_file_and_byte_offset(make_site) -> None:
    root = make_site()
    (root / "content/articles/talks.yaml").write_bytes(b"summary: ok\ntopics: [w\xe4r]\n")
    problem = analyse(root, use_cache=False).errors[0]
    assert problem.format_text().startswith(
        "content/articles/talks.yaml:2:11: error: not valid UTF-8 (byte offset 22: 0xe4)")


def test_files_over_the_size_limit_are_refused_quickly(make_site) -> None:
    root = make_site({"site.toml": MINIMAL_SITE["site.toml"] + "\n[build]\nmax_file_size = 2000\n",
                      "content/pages/big.md": "---\ntitle: Big\n---\n" + "words " * 1000})
    started = time.monotonic()
    problems = analyse(root, use_cache=False).errors
    assert time.monotonic() - started < 2
    assert [p.format_text() for p in problems] == [
        "content/pages/big.md:1:1: error: file is 6019 bytes, over the limit of 2000\n"
        "    hint: split it, or raise max_file_size under [build] in site.toml"]


def test_default_size_limit_is_five_megabytes(make_site) -> None:
    root = make_site()
    with (root / "content/articles/talks.yaml").open("ab") as handle:
        handle.write(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    started = time.monotonic()
    problems = analyse(root, use_cache=False).errors
    assert time.monotonic() - started < 2
    assert "over the limit of 5242880" in problems[0].message


@SLOW_FUZZ
@given(st.text(max_size=400))
def test_split_front_matter_never_fails(text: str) -> None:
    front, body, body_line = split_front_matter(text)
    assert body_line >= 1
    if front is not None:
        assert text.startswith("---\n") and body in text


# --------------------------------------------------------------------------- site.toml and schemas


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value).replace("inf", "inf")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


TOML_SCALARS = st.one_of(
    st.booleans(), st.integers(min_value=-2**63, max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.dates(), TEXT,
    st.sampled_from(["https://example.org/", "http://x/y", "javascript:alert(1)", "", "UTC",
                     "Europe/Berlin", "../../etc/passwd", "en", "pt-BR", "_site", "/", ".."]))
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(min_size=1, max_size=6), inner,
                                                  max_size=3)), max_leaves=6)
SECTIONS = {
    "site": ["title", "description", "base_url", "language", "timezone", "author", "cname",
             "titel"],
    "build": ["output", "theme", "per_page", "jobs", "max_file_size", "outptu"],
    "markdown": ["allow_html", "html"],
    "search": ["enabled"],
    "extra": ["anything"],
    "stray": ["x"],
}


@st.composite
def site_toml(draw: st.DrawFn) -> str:
    lines = []
    for section, keys in SECTIONS.items():
        if section != "site" and not draw(st.booleans()):
            continue
        lines.append(f"[{section}]")
        for key in keys:
            if section == "site" and key in ("title", "base_url") and draw(st.booleans()):
                value = "T" if key == "title" else "https://example.org/"
                lines.append(f"{key} = {_toml_value(value)}")
            elif draw(st.integers(0, 3)) == 0:
                lines.append(f"{key} = {_toml_value(draw(TOML_VALUES))}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(site_toml())
def test_parse_config_reads_or_reports(text: str) -> None:
    try:
        config = parse_config(text, Path("/nonexistent/site"))
    except ContentError as exc:
        assert all(p.path == "site.toml" and p.line >= 1 for p in exc.problems)
        return
    assert config.base_url.endswith("/") and config.per_page >= 1


@FUZZ
@given(TEXT)
def test_parse_config_survives_any_text(text: str) -> None:
    with contextlib.suppress(ContentError):
        parse_config(text, Path("/nonexistent/site"))


def test_deep_toml_is_reported() -> None:
    with pytest.raises(ContentError):
        parse_config("[site]\nx = " + "[" * 5000 + "]" * 5000 + "\n", Path("/x"))


def test_site_toml_with_a_bom_is_read(make_site) -> None:
    root = make_site()
    (root / "site.toml").write_text("\ufeff" + MINIMAL_SITE["site.toml"], encoding="utf-8")
    assert analyse(root, use_cache=False).errors == []


RAW = st.recursive(st.one_of(SCALARS, st.sampled_from(["context", "fact-check", "war",
                                                       "2022-03-29", "x" * 300])),
                   lambda inner: st.one_of(
                       st.lists(inner, max_size=3),
                       st.dictionaries(st.sampled_from(["summary", "quotes", "notes", "events",
                                                        "text", "kind", "anchor", "exact",
                                                        "rating", "date", "end", "id",
                                                        "title", "topics", "sources", "url",
                                                        "name", "same_as", "site", "build",
                                                        "base_url", "Bad Key", "../x"]),
                                       inner, max_size=5)), max_leaves=20)


@FUZZ
@given(st.sampled_from(sorted(SCHEMAS)), RAW)
def test_structure_check_reports_never_raises(kind: str, data: Any) -> None:
    problems = check(Loaded(data, "x.yaml"), SCHEMAS[kind])
    assert all(p.line >= 1 and p.column >= 1 for p in problems)


# --------------------------------------------------------------------------- whole sites


def _q(text: str) -> str:
    """A YAML double-quoted scalar holding any text: all but printable ASCII escaped, so
    YAML's reader (which refuses raw control characters) sees only what it accepts."""
    return '"' + "".join(
        "\\" + c if c in '"\\' else c if " " <= c < "\x7f"
        else f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
        for c in text) + '"'


@st.composite
def fuzzed_site(draw: st.DrawFn) -> dict[str, str]:
    """MINIMAL_SITE with random text in every free-text field, and now and then one file
    damaged on top: sites that should build, and sites that must fail cleanly."""
    text = lambda: draw(TEXT)  # noqa: E731 - reads better than a def here
    files = {
        "content/articles/talks.md": f"""\
---
title: {_q(text() or "T")}
date: {draw(st.sampled_from(["2025-09-05", "2025-09-05T10:00:00+02:00", "2025-09-05 23:59"]))}
section: {_q(text())}
standfirst: {_q(text())}
byline: {_q(text())}
source: {_q(text())}
---

The Kremlin said that *foreign military contingents* cannot provide security.

{text()}

“Definitely not,” Kremlin spokesman Dmitry Peskov told RIA.
""",
        "content/articles/talks.yaml": f"""\
summary: {_q(text())}
topics: [war]
quotes:
  - id: peskov-definitely-not
    text: Definitely not
    speaker: dmitry-peskov
    context: {_q(text())}
    callout: {draw(st.sampled_from(["true", "false"]))}
notes:
  - anchor: foreign military contingents cannot provide
    kind: fact-check
    rating: {_q(text() or "False")}
    text: {_q(text() or "x")}
    sources: [{{title: {_q(text())}, url: "https://example.com/x"}}]
events:
  - date: {draw(st.sampled_from(["2022", "2022-03", "2022-03-29", "1000", "9999-12-31"]))}
    title: {_q(text() or "t")}
    text: {_q(text())}
""",
        "content/topics.yaml": f"war:\n  title: {_q(text() or 'W')}\n"
                               f"  description: {_q(text())}\n",
        "content/people.yaml": f"dmitry-peskov:\n  name: {_q(text() or 'P')}\n"
                               f"  role: {_q(text())}\n  aliases: [{_q(text())}]\n",
        "content/pages/about.md": f"---\ntitle: {_q(text() or 'A')}\n---\n\n{text()}\n",
        "content/digests/2025-09-05.yaml": f"title: {_q(text())}\nintro: {_q(text())}\n",
    }
    if draw(st.integers(0, 2)) == 0:
        damaged = draw(st.sampled_from(sorted(files)))
        files[damaged] = draw(st.sampled_from([
            draw(YAML_TEXT), "---\n" + draw(YAML_TEXT) + "\n---\n" + text(),
            files[damaged].replace("\n", "\r"), files[damaged].replace("\n", "\r\n"),
            "\ufeff" + files[damaged], files[damaged][: draw(st.integers(0, 200))]]))
    return files


@SLOW_FUZZ
@given(fuzzed_site())
def test_analyse_builds_or_reports(tmp_path_factory, files: dict[str, str]) -> None:
    root = write_files(tmp_path_factory.mktemp("fuzz") / "site", {**MINIMAL_SITE, **files})
    try:
        analysis = analyse(root, use_cache=False, jobs=1)
    except ANY_ERROR:
        return
    for problem in analysis.problems:
        assert problem.line >= 1 and problem.column >= 1, problem


@settings(FUZZ, max_examples=max(1, EXAMPLES // 6))
@given(fuzzed_site())
def test_build_writes_or_reports(tmp_path_factory, files: dict[str, str]) -> None:
    """Rendering too: whatever passed validation renders without a traceback."""
    base = tmp_path_factory.mktemp("fuzz-build")
    toml = MINIMAL_SITE["site.toml"] + "\n[search]\nenabled = false\n"
    root = write_files(base / "site", {**MINIMAL_SITE, **files, "site.toml": toml})
    try:
        build(root, output=base / "out", use_cache=False, jobs=1)
    except ANY_ERROR:
        assert not (base / "out").exists()
        return
    assert (base / "out" / "index.html").is_file()


@FUZZ
@given(TEXT, st.data())
def test_anchoring_marks_without_changing_the_text(markdown: str, data: st.DataObject) -> None:
    html = render_markdown(markdown).html
    doc = anchors.AnnotatedHtml(html)
    text = doc.text
    if not text.strip():
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 40)))
    prefix = data.draw(st.sampled_from(["", text[max(0, start - 5):start]]))
    try:
        span = doc.locate(anchors.Selector(text[start:end], prefix))
    except anchors.AnchorError as error:
        assert str(error)
        return
    found = anchors.normalize(text[span.start:span.end])
    assert " ".join(found.split()) == " ".join(anchors.normalize(text[start:end]).split())
    doc.add_mark(span, "m1", "quote", attrs={"data-x": "<&\">"})
    rendered = doc.render()
    # Compared with whitespace collapsed: whitespace-only text nodes are the known bug
    # of test_marking_keeps_non_ascii_whitespace.
    assert anchors.AnnotatedHtml(rendered).text.split() == text.split()
    assert rendered.count("<mark") == rendered.count("</mark>") >= 1


@pytest.mark.parametrize("tail", ["\x85", "\x1f", "\u2028"])
def test_marking_keeps_non_ascii_whitespace(tail: str) -> None:
    doc = anchors.AnnotatedHtml(f"<p>Quote{tail}</p>")
    doc.add_mark(doc.locate(anchors.Selector("Quote")), "q", "quote")
    assert anchors.AnnotatedHtml(doc.render()).text == f"Quote{tail}"


@FUZZ
@given(st.one_of(TEXT, st.builds(lambda head, body: head + body, st.sampled_from([
    " date 2025-09-05 WORLD\n", " date 2025-13-40 WORLD\n", "Title\n2025-09-05\n"
    "https://en.wikinews.org/wiki/X\n\n", " date \n", ""]), TEXT)))
def test_importer_parses_or_reports(text: str) -> None:
    try:
        imported = parse_import(text, "seeds/x.txt", {})
    except click.ClickException as exc:
        assert exc.format_message().startswith("seeds/x.txt")
        return
    assert imported.slug and "/" not in imported.slug


# --------------------------------------------------------------------------- the command line

BROKEN_SITES = {
    "yaml-syntax": {"content/articles/talks.yaml": "quotes: [\n"},
    "toml-syntax": {"site.toml": "[site\n"},
    "nul-byte": {"content/topics.yaml": "war:\n  title: W\x00r\n"},
    "alias-bomb": {"content/people.yaml": _bomb()},
    "deep-nesting": {"content/articles/talks.yaml": "[" * 20_000},
    "no-front-matter": {"content/articles/talks.md": "Just text.\n"},
    "bad-date": {"content/articles/talks.md": MINIMAL_SITE["content/articles/talks.md"]
                 .replace("2025-09-05", "2025-02-30")},
    "unknown-key": {"site.toml": MINIMAL_SITE["site.toml"] + "[biuld]\n"},
    "empty-site-toml": {"site.toml": ""},
    "lone-cr": {"content/articles/talks.yaml": "summary: x\rtopics: [war]\rbad: 1\r"},
}


@pytest.mark.parametrize("command", [["check"], ["build", "--no-cache"]])
@pytest.mark.parametrize("case", sorted(BROKEN_SITES))
def test_cli_on_broken_sites_exits_1_without_traceback(make_site, monkeypatch, case: str,
                                                       command: list[str]) -> None:
    root = make_site(BROKEN_SITES[case])
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                     SystemExit)
    assert "error" in result.output


def test_non_utf8_file_through_the_cli(make_site, monkeypatch) -> None:
    root = make_site()
    (root / "content/people.yaml").write_bytes(b"dmitry-peskov:\n  name: Dmitri\xff\n")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert ("content/people.yaml:2:15: error: not valid UTF-8 (byte offset 29: 0xff)"
            in result.output)


def test_import_survives_a_hostile_people_registry(make_site, tmp_path: Path) -> None:
    root = make_site({"content/people.yaml": "[" * 100_000})
    seed = tmp_path / "seed.txt"
    seed.write_text(" date 2025-09-05 WORLD\nHeadline\nStandfirst\nCaption\nMOSCOW\n\n"
                    "“We agree,” said Anna Example.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", "from digest.cli import main; main()",
                           "import", str(seed)], cwd=root, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "content/people.yaml:1:" in done.stderr, done


def test_errors_are_digest_errors() -> None:
    """What the loaders raise is something the CLI prints, not a traceback."""
    assert issubclass(ContentError, click.ClickException)
    assert issubclass(DigestError, click.ClickException)


@pytest.mark.parametrize("value", ["!!int ''", "!!float ''", "!!int '-'", "!!bool ''",
                                   "!!timestamp ''", "!!timestamp '2020-01-01 25:00'"])
def test_explicitly_tagged_nonsense_is_kept_as_text(value: str) -> None:
    # PyYAML's constructors raise IndexError, KeyError or AttributeError on these: the
    # text is kept for the validator to report, as for `2019-13-45`.
    loaded = parse_yaml(f"count: {value}\n", "content/x.yaml")
    assert loaded.data == {"count": value.split(" ", 1)[1].strip("'")}
    assert loaded.mark(("count",)) == Mark(1, 8)


@pytest.mark.parametrize("value", ["!!int ''", "2019-13-45"])
def test_an_alias_of_unreadable_text_is_the_same_text(value: str) -> None:
    # PyYAML still counted the failed node as being made: the alias was reported as a
    # recursive node.
    loaded = parse_yaml(f"a: &x {value}\nb: *x\n", "content/x.yaml")
    text = value.split(" ", 1)[-1].strip("'")
    assert loaded.data == {"a": text, "b": text}
