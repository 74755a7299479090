"""`digest check`: every kind of editor mistake, reported at its line with a fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import main

from .conftest import MINIMAL_SITE

TALKS_MD = MINIMAL_SITE["content/articles/talks.md"]
TALKS_YAML = MINIMAL_SITE["content/articles/talks.yaml"]

CASES: list[tuple[str, dict[str, str], list[str]]] = [
    ("unknown key", {"content/articles/talks.yaml": TALKS_YAML.replace("quotes:", "qoutes:")},
     ["content/articles/talks.yaml:3:1: error: unknown key 'qoutes'\n"
      "    hint: did you mean 'quotes'?"]),
    ("wrong type", {"content/articles/talks.yaml": "topics: war\n"},
     ["content/articles/talks.yaml:1:9: error: 'topics' must be a list, not text\n"
      "    hint: write a list: [war]"]),
    ("missing title", {"content/articles/talks.md": TALKS_MD.replace(
        "title: Kremlin rejects foreign troops\n", "")},
     ["content/articles/talks.md:2:1: error: missing required field 'title'\n"
      "    hint: add 'title:' to the file"]),
    ("invalid event date", {"content/articles/talks.yaml": "events:\n  - date: 2019-13-45\n"
                            "    title: X\n"},
     ["content/articles/talks.yaml:2:11: error: invalid date '2019-13-45': there is no "
      "month 13\n    hint: write YYYY, YYYY-MM or YYYY-MM-DD"]),
    ("invalid article date", {"content/articles/talks.md": TALKS_MD.replace(
        "date: 2025-09-05", "date: 2025-02-30")},
     ["content/articles/talks.md:3:7: error: invalid date '2025-02-30': use YYYY-MM-DD or "
      "YYYY-MM-DDTHH:MM:SS+HH:MM\n    hint: write the date as YYYY-MM-DD"]),
    ("range ends before it starts", {"content/articles/talks.yaml": "events:\n"
                                     "  - date: 2020-05-01\n    end: 2019-01\n    title: X\n"},
     ["content/articles/talks.yaml:3:10: error: the range ends (2019-01) before it starts "
      "(2020-05-01)\n    hint: swap 'date' and 'end', or remove 'end'"]),
    ("invalid URL", {"content/articles/talks.md": TALKS_MD.replace(
        "https://example.com/talks", "example.com/talks")},
     ["content/articles/talks.md:7:13: error: 'source_url' must be an http(s) URL, not "
      "'example.com/talks'\n    hint: write the full address, starting with https://"]),
    ("empty quote", {"content/articles/talks.yaml": "quotes:\n  - text: ''\n"
                      "    speaker: dmitry-peskov\n"},
     ["content/articles/talks.yaml:2:11: error: 'text' must not be empty\n"
      "    hint: write the text, or remove the key"]),
    ("unknown topic", {"content/articles/talks.yaml": "topics: [wars]\n"},
     ["content/articles/talks.yaml:1:10: error: unknown topic 'wars'\n"
      "    hint: did you mean 'war'?"]),
    ("unknown person", {"content/articles/talks.yaml": "quotes:\n  - text: Definitely not\n"
                        "    speaker: dmitri-peskov\n"},
     ["content/articles/talks.yaml:3:14: error: unknown person 'dmitri-peskov'\n"
      "    hint: did you mean 'dmitry-peskov'?"]),
    ("unknown related", {"content/articles/talks.yaml": "related: [talk]\n"},
     ["content/articles/talks.yaml:1:11: error: unknown article 'talk'\n"
      "    hint: did you mean 'talks'?"]),
    ("duplicate id", {"content/articles/talks.yaml": "quotes:\n  - id: a\n    text: Definitely "
                      "not\n    speaker: dmitry-peskov\n  - id: a\n    text: Kremlin spokesman\n"
                      "    speaker: dmitry-peskov\n"},
     ["content/articles/talks.yaml:5:9: error: duplicate quote id 'a' (also item 1 of "
      "'quotes')\n    hint: give one of them a different 'id:'"]),
    ("duplicate key", {"content/articles/talks.yaml": "summary: a\nsummary: b\n"},
     ["content/articles/talks.yaml:2:1: error: duplicate key 'summary' (first defined at "
      "line 1)\n    hint: YAML keeps only the last value of a repeated key; merge the two or "
      "remove one"]),
    ("YAML syntax", {"content/articles/talks.yaml": "topics: [war\n"},
     ["content/articles/talks.yaml:2:1: error: YAML syntax error: did not find expected ',' "
      "or ']'\n    hint: check indentation, colons and quotes on this line"]),
    ("sidecar without article", {"content/articles/talk.yaml": "summary: x\n"},
     ["content/articles/talk.yaml:1:1: error: sidecar has no article "
      "(content/articles/talk.md is missing)\n    hint: did you mean 'talks'?"]),
    ("quote not in article", {"content/articles/talks.yaml": "quotes:\n  - text: Definitely "
                              "yes\n    speaker: dmitry-peskov\n"},
     ["content/articles/talks.yaml:2:11: error: quote not found in the article: "
      "\"Definitely yes\"\n    hint: closest passage in the article: \"“Definitely not,”\""]),
    ("ambiguous anchor", {"content/articles/talks.yaml": "notes:\n  - anchor: Kremlin\n"
                          "    kind: context\n    text: x\n"},
     ["content/articles/talks.yaml:2:13: error: \"Kremlin\" occurs 2 times in the article\n"
      "    hint: add prefix: \"The \" to pick the first occurrence"]),
    ("colliding slugs", {"content/articles/other.md": "---\ntitle: Other\ndate: 2025-09-01\n"
                         "slug: talks\n---\n\nText.\n"},
     ["content/articles/talks.md:1:1: error: slug 'talks' is also used by "
      "content/articles/other.md\n    hint: set a different 'slug:'"]),
    ("site.toml unknown key", {"site.toml": MINIMAL_SITE["site.toml"] + "[biuld]\n"},
     ["site.toml:8:2: error: unknown key 'biuld'\n    hint: did you mean 'build'?"]),
    ("fact-check without rating", {"content/articles/talks.yaml": "notes:\n"
                                   "  - anchor: Definitely not\n    kind: fact-check\n"
                                   "    text: x\n"},
     ["content/articles/talks.yaml:2:5: error: missing required field 'rating'\n"
      "    hint: add 'rating:' to item 1 of 'notes'"]),
    ("unknown note kind", {"content/articles/talks.yaml": "notes:\n  - anchor: Definitely not"
                           "\n    kind: factcheck\n    text: x\n"},
     ["content/articles/talks.yaml:3:11: error: 'kind' must be one of context, fact-check, "
      "correction, analysis, not 'factcheck'\n    hint: did you mean 'fact-check'?"]),
    ("edition YAML", {"content/digests/2025-09-05.yaml": "title: Friday\nintro: [x\n"},
     ["content/digests/2025-09-05.yaml:3:1: error: YAML syntax error: did not find expected "
      "',' or ']'\n    hint: check indentation, colons and quotes on this line"]),
    ("javascript link", {"content/articles/talks.md": TALKS_MD + "\n[x](javascript:alert(1))\n"},
     ["content/articles/talks.md:15:5: error: link to a forbidden URL scheme: "
      "javascript:alert(1)\n    hint: use an http(s) or relative URL"]),
]


def run_check(root: Path, *args: str) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["check", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout


def error_texts(root: Path) -> tuple[int, list[str]]:
    code, out = run_check(root, "--format", "json")
    problems = json.loads(out)
    texts = []
    for p in problems:
        if p["severity"] == "error":
            head = f"{p['path']}:{p['line']}:{p['column']}: error: {p['message']}"
            texts.append(f"{head}\n    hint: {p['hint']}" if p["hint"] else head)
    return code, texts


@pytest.mark.parametrize(("changes", "expected"), [(c, e) for _, c, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_each_mistake_is_reported_at_its_line(make_site, changes: dict[str, str],
                                              expected: list[str]) -> None:
    code, errors = error_texts(make_site(changes))
    assert (code, errors) == (1, expected)


def test_good_site_passes(make_site) -> None:
    assert run_check(make_site()) == (0, "")


def test_all_mistakes_of_all_files_in_one_run(make_site) -> None:
    changes: dict[str, str] = {}
    expected: list[str] = []
    for name in ("unknown topic", "site.toml unknown key", "edition YAML"):
        case = next(c for c in CASES if c[0] == name)
        changes.update(case[1])
        expected.extend(case[2])
    code, errors = error_texts(make_site(changes))
    assert code == 1
    assert errors == sorted(expected)[:0] + [e for e in expected if e.startswith("site.toml")]
    # site.toml errors stop the run before content is read; fix it and the rest appear.
    changes.pop("site.toml")
    code, errors = error_texts(make_site(changes))
    assert errors == sorted(e for e in expected if not e.startswith("site.toml"))


def test_text_format_sorted_with_hints(make_site) -> None:
    root = make_site({"content/articles/talks.yaml": "topics: [wars]\nrelated: [talk]\n"})
    code, out = run_check(root)
    assert code == 1
    assert out.splitlines()[:4] == [
        "content/articles/talks.yaml:1:10: error: unknown topic 'wars'",
        "    hint: did you mean 'war'?",
        "content/articles/talks.yaml:2:11: error: unknown article 'talk'",
        "    hint: did you mean 'talks'?",
    ]


def test_github_format(make_site) -> None:
    root = make_site({"content/articles/talks.yaml": "topics: [wars]\n"})
    code, out = run_check(root, "--format", "github")
    assert code == 1
    assert out.splitlines()[0] == ("::error file=content/articles/talks.yaml,line=1,col=10::"
                                   "unknown topic 'wars'. did you mean 'war'?")


def test_json_format_fields(make_site) -> None:
    root = make_site({"content/articles/talks.yaml": "topics: [wars]\n"})
    code, out = run_check(root, "--format", "json")
    first = json.loads(out)[0]
    assert first == {"path": "content/articles/talks.yaml", "line": 1, "column": 10,
                     "severity": "error", "code": "unknown-topic",
                     "message": "unknown topic 'wars'", "hint": "did you mean 'war'?"}


def test_warnings_pass_unless_strict(make_site) -> None:
    root = make_site({"content/articles/extra.md": "---\ntitle: Extra\ndate: 2025-09-01\n"
                      "---\n\nText.\n"})
    code, out = run_check(root)
    assert code == 0
    assert ("content/articles/extra.md:1:1: warning: article has no sidecar\n"
            "    hint: create content/articles/extra.yaml to annotate it") in out
    assert run_check(root, "--strict")[0] == 1


def test_build_refuses_on_errors(make_site) -> None:
    root = make_site({"content/articles/talks.yaml": "topics: [wars]\n"})
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["build"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1
    assert "content/articles/talks.yaml:1:10: error: unknown topic 'wars'" in result.output
    assert not (root / "_site").exists()
