"""`digest import` back-end: format detection, golden output, quote proposals, writing."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from digest.anchors import normalize
from digest.importer import (
    ImportConflict,
    ImportedArticle,
    ImportFormatError,
    article_text,
    detect_format,
    parse_import,
    sidecar_text,
    write_import,
)
from digest.slugs import slug_problem

from .conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "import"
GOLDEN = REPO_ROOT / "tests" / "golden" / "import"
SEED = FIXTURES / "seed" / "000_9617dbfece6596ca.txt"
# The whole corpus is copied into the repository (with its notice), so this never skips.
CORPUS = REPO_ROOT / "tests" / "fixtures" / "corpus" / "wikinews"
FIXTURE_FILES = sorted([SEED, *(FIXTURES / "wikinews").glob("2*.txt")])
UNKNOWN = (
    "seeds/x.txt:1:1: unknown import format: expected the seed format (line 1 ' date YYYY-MM-DD "
    "SECTION') or the Wikinews extract format (title, YYYY-MM-DD date, source URL, blank line, "
    "paragraphs)"
)
WIKINEWS_HEAD = "A title\n2020-01-02\nhttps://en.wikinews.org/wiki/A_title\n\n"
_MD = MarkdownIt("commonmark")
_BLOCK = re.compile(r"<(p|h2)>(.*?)</\1>\n", re.DOTALL)


def _import(path: Path, people: dict[str, dict[str, object]] | None = None) -> ImportedArticle:
    return parse_import(path.read_text(encoding="utf-8"), path.name, people or {})


def _quotes(imported: ImportedArticle) -> list[dict[str, str]]:
    quotes = imported.sidecar["quotes"]
    assert isinstance(quotes, list)
    return quotes


def _text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _rendered_blocks(body: str) -> list[str]:
    """The plain text of each rendered block; fails if anything but <p>/<h2> was rendered."""
    rendered = _MD.render(body)
    assert _BLOCK.sub("", rendered) == "", f"unexpected Markdown structure: {rendered[:200]}"
    return [_text_of(inner) for _kind, inner in _BLOCK.findall(rendered)]


def _source_blocks(path: Path) -> list[str]:
    """The body paragraphs as the source file has them, lines stripped, image credits dropped."""
    lines = path.read_text(encoding="utf-8").split("\n")
    body = "\n".join(lines[6:] if lines[0].startswith(" date") else lines[4:])
    paragraphs = ["\n".join(ln.strip() for ln in p.strip().split("\n")) for p in body.split("\n\n")]
    return [p for p in paragraphs if p and not p.startswith("Image: ")]


def _matches(plain: str, quote: dict[str, object]) -> int:
    """Occurrences of a quote in normalised plain text, as the build's anchoring counts them."""
    text = normalize(plain)
    exact = normalize(str(quote["text"])).strip()
    prefix = normalize(str(quote.get("prefix", ""))).rstrip(" ")
    count, position = 0, text.find(exact)
    while position >= 0:
        before = position - 1 if position and text[position - 1] == " " else position
        count += text.endswith(prefix, 0, before)
        position = text.find(exact, position + 1)
    return count


def _assert_buildable(imported: ImportedArticle, people: dict[str, object]) -> None:
    """Quotes anchor once, ids are unique slugs, and every speaker will be in people.yaml."""
    plain = "\n\n".join(_rendered_blocks(imported.body))
    quotes = _quotes(imported)
    ids = [quote["id"] for quote in quotes]
    assert len(ids) == len(set(ids))
    for quote in quotes:
        assert _matches(plain, quote) == 1, quote
        assert len(str(quote["text"]).split()) >= 2
        assert slug_problem(quote["id"]) is None
        assert slug_problem(quote["speaker"]) is None
        assert quote["speaker"] in people or quote["speaker"] in imported.new_people
    assert slug_problem(imported.slug) is None


# --------------------------------------------------------------------------- detection


def test_detect_format_seed() -> None:
    assert detect_format(SEED.read_text(encoding="utf-8"), "seeds/x.txt") == "seed"


def test_detect_format_wikinews() -> None:
    assert detect_format(WIKINEWS_HEAD + "Body.\n", "x.txt") == "wikinews"


@pytest.mark.parametrize(
    "text",
    [
        "Just some text\nwithout a header\n",
        "A title\n2020-01-02\nhttps://example.com/not-wikinews\n\nBody.\n",
        "date 2020-01-02\n",
    ],
)
def test_detect_format_unknown(text: str) -> None:
    with pytest.raises(ImportFormatError) as info:
        detect_format(text, "seeds/x.txt")
    assert str(info.value) == UNKNOWN


def test_empty_file_is_rejected() -> None:
    with pytest.raises(ImportFormatError) as info:
        parse_import(" \n\n", "seeds/empty.txt", {})
    assert (
        str(info.value) == "seeds/empty.txt:1:1: the file is empty, so there is nothing to import"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            " date 2019-13-45 WORLD\nH\nS\nC\nD\n\nBody.\n",
            "seeds/x.txt:1:7: invalid date '2019-13-45': month must be in 1..12; "
            "write a real date as YYYY-MM-DD",
        ),
        (
            " date 5/9/2025 WORLD\nH\nS\nC\nD\n\nBody.\n",
            "seeds/x.txt:1:7: invalid date '5/9/2025': write it as YYYY-MM-DD",
        ),
        (
            WIKINEWS_HEAD.replace("2020-01-02", "2019-13-45") + "Body.\n",
            "seeds/x.txt:2:1: invalid date '2019-13-45': month must be in 1..12; "
            "write a real date as YYYY-MM-DD",
        ),
        (
            " date 2025-09-05 WORLD\nHeadline\n\n",
            "seeds/x.txt:3:1: missing the standfirst on line 3; see the seed format",
        ),
        (
            " date 2025-09-05 WORLD\nH\nS\nC\nD\nBody straight after the dateline.\n",
            "seeds/x.txt:6:1: expected a blank line after the dateline",
        ),
        (
            WIKINEWS_HEAD + "Image: Someone.\n",
            "seeds/x.txt:1:1: the article has no body paragraphs to import",
        ),
    ],
)
def test_malformed_input_names_file_line_col(text: str, message: str) -> None:
    with pytest.raises(ImportFormatError) as info:
        parse_import(text, "seeds/x.txt", {})
    assert str(info.value) == message


# --------------------------------------------------------------------------- golden output


@pytest.mark.parametrize("src", FIXTURE_FILES, ids=lambda path: path.stem[:40])
def test_golden(src: Path, update_golden: bool) -> None:
    imported = _import(src)
    expected = {".md": article_text(imported), ".yaml": sidecar_text(imported)}
    for suffix, text in expected.items():
        golden = GOLDEN / f"{src.stem}{suffix}"
        if update_golden:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text, encoding="utf-8", newline="\n")
        assert golden.exists(), f"{golden} is missing; run pytest --update-golden"
        assert golden.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("src", FIXTURE_FILES, ids=lambda path: path.stem[:40])
def test_imports_build_as_they_are(src: Path) -> None:
    imported = _import(src)
    _assert_buildable(imported, {})
    assert _rendered_blocks(imported.body) == _source_blocks(src)


def test_golden_files_have_fixtures() -> None:
    stems = {path.stem for path in FIXTURE_FILES}
    assert {path.stem for path in GOLDEN.iterdir()} == stems
    assert len(stems) >= 11
    assert (FIXTURES / "wikinews" / "NOTICE.txt").exists()
    assert (FIXTURES / "wikinews" / "LICENSE.txt").exists()


# --------------------------------------------------------------------------- the seed


def test_seed_front_matter_and_body() -> None:
    imported = _import(SEED)
    assert imported.slug == "russia-rejects-foreign-troops-as-security-guarantees-for-ukraine"
    assert imported.front_matter == {
        "title": "Russia rejects foreign troops as security guarantees for Ukraine",
        "date": dt.date(2025, 9, 5),
        "section": "World",
        "standfirst": "Moscow points to the 2022 Istanbul framework as the basis for peace talks "
        "while downplaying prospects of high-level meetings with Kiev.",
        "image_caption": "Peskov says all security assurances for Ukraine are already contained "
        "in the framework of peace talks held in Istanbul in 2022. (Photo: Reuters) / Reuters",
    }
    lines = imported.body.split("\n")
    assert "## Security measures to end the war" in lines
    assert "## North Korean fighters" in lines
    trimmed = "He added that Moscow is content with the current level of representation in talks "
    assert trimmed + "with Kiev." in lines  # the seed has a trailing space there
    assert "date: 2025-09-05\n" in article_text(imported)
    assert article_text(imported).startswith("---\ntitle: Russia rejects")


def test_seed_quotes() -> None:
    imported = _import(SEED)
    quotes = [(q["speaker"], q["text"]) for q in _quotes(imported)]
    assert quotes == [
        (
            "dmitry-peskov",
            "Can Ukraine’s security guarantees be ensured and provided by foreign, especially "
            "European and American, military contingents? Definitely not",
        ),
        (
            "dmitry-peskov",
            "This cannot serve as a security guarantee for Ukraine that would be acceptable to "
            "our country",
        ),
        (
            "dmitry-peskov",
            "Before meeting at a high or top level, a huge amount of work needs to be carried out "
            "to resolve minor issues, small technical matters, which together make up the entire "
            "settlement process",
        ),
        (
            "vladimir-putin",
            "At your initiative, as is well known, your special forces participated in the "
            "liberation of the Kursk region",
        ),
        ("vladimir-putin", "Your soldiers fought courageously and heroically."),
    ]
    assert imported.new_people == {
        "dmitry-peskov": {"name": "Dmitry Peskov", "role": "", "aliases": []},
        "vladimir-putin": {"name": "Vladimir Putin", "role": "", "aliases": []},
    }
    first = _quotes(imported)[0]
    assert first == {
        "id": "peskov-can-ukraines-security-guarantees",
        "text": quotes[0][1],
        "speaker": "dmitry-peskov",
        "context": "",
    }
    assert list(imported.sidecar) == ["summary", "topics", "quotes", "notes", "events", "related"]


def test_seed_speakers_resolve_to_the_registry() -> None:
    people: dict[str, dict[str, object]] = {
        "peskov": {"name": "Dmitri Peskov", "role": "Kremlin spokesman", "aliases": []},
        "putin": {"name": "Putin", "aliases": ["Vladimir Vladimirovich Putin"]},
    }
    imported = _import(SEED, people)
    speakers = [q["speaker"] for q in _quotes(imported)]
    assert speakers == ["peskov", "peskov", "peskov", "putin", "putin"]
    assert imported.new_people == {}
    assert _quotes(imported)[0]["id"] == "peskov-can-ukraines-security-guarantees"


# --------------------------------------------------------------------------- attribution


def _speakers(body: str) -> list[tuple[str, str, str]]:
    imported = parse_import(WIKINEWS_HEAD + body, "x.txt", {})
    return [
        (str(q["speaker"]), str(q["text"]), str(q.get("prefix", ""))) for q in _quotes(imported)
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'Interior Minister Jane Roe said on Monday: "We will rebuild the bridge."\n',
            [("jane-roe", "We will rebuild the bridge.", "")],
        ),
        (
            '"We will rebuild it," said Deputy Mayor Jane Roe. "It will take a year."\n',
            [("jane-roe", "We will rebuild it", ""), ("jane-roe", "It will take a year.", "")],
        ),
        (
            'Jane Roe spoke first.\n\n"Nothing is decided yet," Roe told reporters.\n',
            [("jane-roe", "Nothing is decided yet", "")],
        ),
        (
            'According to Jane Roe, "the bridge is safe".\n',
            [("jane-roe", "the bridge is safe", "")],
        ),
        # "he" needs the previous quote's speaker, and nobody else named in between.
        (
            '"It is over," Jane Roe said.\n\nJohn Doe disagreed.\n\n"It is not," he said.\n',
            [("jane-roe", "It is over", "")],
        ),
        ('"It is not over," he said.\n', []),
        # Not people: organisations, places, lone common words, one-word quotes.
        ('"We regret the delay," the Foreign Ministry said.\n', []),
        ('"We regret the delay," Moscow said.\n', []),
        ('"We regret the delay," officials said.\n', []),
        ('Jane Roe called it "unacceptable".\n', []),
        # Repeated words get the shortest prefix that makes them unique.
        (
            'Jane Roe said we will see.\n\nRoe said: "we will see".\n',
            [("jane-roe", "we will see", '"')],
        ),
    ],
)
def test_attribution(body: str, expected: list[tuple[str, str, str]]) -> None:
    assert _speakers(body) == expected


def test_quote_ids_are_unique() -> None:
    body = 'Jane Roe said: "Yes we can do it."\n\nLater Roe said: "Yes we can do it again."\n'
    imported = parse_import(WIKINEWS_HEAD + body, "x.txt", {})
    ids = [q["id"] for q in _quotes(imported)]
    assert ids == ["roe-yes-we-can-do", "roe-yes-we-can-do-2"]


# --------------------------------------------------------------------------- escaping

_MARKDOWNISH = st.sampled_from(
    [*"ab c1 2.)#>-+*_=`~[]()!<>&;/\\:\"'|{}", "&amp;", "&#65;", "<b>", "<http://x.y>", "1. ", "\t"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_MARKDOWNISH, min_size=1, max_size=12), min_size=1, max_size=3))
def test_escaping_round_trips(lines: list[list[str]]) -> None:
    paragraph = "\n".join(line for line in ("".join(ch).strip() for ch in lines) if line)
    if not paragraph:
        return
    imported = parse_import(WIKINEWS_HEAD + paragraph + "\n", "x.txt", {})
    assert _rendered_blocks(imported.body) == [paragraph]


def test_seed_subheadings_escape_too() -> None:
    text = " date 2025-09-05 WORLD\nH\nS\nC\nD\n\n# not a heading *really*\n\nBody.\n"
    imported = parse_import(text, "x.txt", {})
    assert imported.body == "## # not a heading \\*really\\*\n\nBody.\n"
    assert _rendered_blocks(imported.body) == ["# not a heading *really*", "Body."]


# --------------------------------------------------------------------------- writing


@pytest.fixture
def content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    (content / "articles").mkdir(parents=True)
    (content / "people.yaml").write_text(
        "# People quoted on the site.\nzelda-zed:\n  name: Zelda Zed\n  role: ''\n  aliases: []\n",
        encoding="utf-8",
    )
    return content


def test_write_import_writes_article_sidecar_and_people(content: Path) -> None:
    imported = _import(SEED)
    written = write_import(imported, content, schema_comment="# yaml-language-server: $schema=x")
    article = content / "articles" / f"{imported.slug}.md"
    sidecar = content / "articles" / f"{imported.slug}.yaml"
    people_path = content / "people.yaml"
    assert written == [article, sidecar, people_path]
    assert article.read_text(encoding="utf-8") == article_text(imported)
    assert sidecar.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=x\n")
    assert people_path.read_text(encoding="utf-8").startswith("# People quoted on the site.\n")
    people = yaml.safe_load(people_path.read_text(encoding="utf-8"))
    assert list(people) == ["zelda-zed", "dmitry-peskov", "vladimir-putin"]
    assert people["dmitry-peskov"] == {"name": "Dmitry Peskov", "role": "", "aliases": []}


def test_write_import_creates_people_yaml(tmp_path: Path) -> None:
    imported = _import(SEED)
    write_import(imported, tmp_path / "content")
    people = yaml.safe_load((tmp_path / "content" / "people.yaml").read_text(encoding="utf-8"))
    assert list(people) == ["dmitry-peskov", "vladimir-putin"]


def test_write_import_replaces_an_empty_flow_mapping(tmp_path: Path) -> None:
    people_path = tmp_path / "content" / "people.yaml"
    people_path.parent.mkdir()
    people_path.write_text("# Nobody yet.\n{}\n", encoding="utf-8")
    write_import(_import(SEED), tmp_path / "content")
    text = people_path.read_text(encoding="utf-8")
    assert text.startswith("# Nobody yet.\ndmitry-peskov:\n")
    assert list(yaml.safe_load(text)) == ["dmitry-peskov", "vladimir-putin"]


def test_reimport_writes_nothing_when_identical(content: Path) -> None:
    imported = _import(SEED)
    write_import(imported, content)
    before = {path: path.stat().st_mtime_ns for path in content.rglob("*") if path.is_file()}
    assert write_import(imported, content) == []
    after = {path: path.stat().st_mtime_ns for path in content.rglob("*") if path.is_file()}
    assert after == before


def test_reimport_refuses_to_overwrite_edits_unless_forced(content: Path) -> None:
    imported = _import(SEED)
    write_import(imported, content)
    sidecar = content / "articles" / f"{imported.slug}.yaml"
    edited = sidecar.read_text(encoding="utf-8").replace("summary: ''", "summary: Edited.")
    sidecar.write_text(edited, encoding="utf-8")
    with pytest.raises(ImportConflict) as info:
        write_import(imported, content)
    assert str(info.value) == (
        f"content/articles/{imported.slug}.yaml exists and differs from the import; "
        "edit it by hand or pass --force to overwrite"
    )
    assert sidecar.read_text(encoding="utf-8") == edited
    assert write_import(imported, content, force=True) == [sidecar]
    assert sidecar.read_text(encoding="utf-8") == sidecar_text(imported)


# --------------------------------------------------------------------------- the whole corpus


def test_whole_wikinews_corpus_imports() -> None:
    sources = sorted(CORPUS.glob("2*.txt"))
    assert len(sources) == 291
    for src in sources:
        _assert_buildable(_import(src), {})
