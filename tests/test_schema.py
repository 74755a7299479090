"""The JSON Schemas and the validator are one source of truth: they agree everywhere."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.cli import main
from digest.schema import SCHEMAS, public_schema
from digest.structure import check
from digest.yamlload import YamlError, parse_yaml

from .conftest import MINIMAL_SITE, REPO_ROOT
from .test_check import CASES


def _as_json(value: Any) -> Any:
    """What a JSON Schema client (yaml-language-server) sees: dates are strings."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def agree(kind: str, text: str) -> tuple[bool, bool]:
    """(reference validator says valid, our checker says valid) for one YAML document."""
    loaded = parse_yaml(text, "fixture.yaml")
    data = {} if loaded.data is None else loaded.data
    reference = jsonschema.Draft202012Validator(public_schema(kind)).is_valid(_as_json(data))
    ours = not check(loaded, SCHEMAS[kind])
    return reference, ours


def _fixtures() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted((REPO_ROOT / "content" / "articles").glob("*.yaml")):
        found.append((path.name, "sidecar", path.read_text(encoding="utf-8")))
    found.append(("topics.yaml", "topics", (REPO_ROOT / "content/topics.yaml").read_text()))
    found.append(("people.yaml", "people", (REPO_ROOT / "content/people.yaml").read_text()))
    for rel, text in MINIMAL_SITE.items():
        if rel.endswith("talks.yaml"):
            found.append((rel, "sidecar", text))
    for name, changes, _expected in CASES:
        for rel, text in changes.items():
            kind = ("sidecar" if rel.startswith("content/articles/") and rel.endswith(".yaml")
                    else "people" if rel.endswith("people.yaml")
                    else "edition" if "/digests/" in rel else "")
            if kind:
                try:
                    parse_yaml(text, rel)
                except YamlError:
                    continue  # syntax errors and duplicate keys are not schema questions
                found.append((name, kind, text))
    return found


@pytest.mark.parametrize(("kind", "text"), [(k, t) for _, k, t in _fixtures()],
                         ids=[n for n, _, _ in _fixtures()])
def test_schema_and_validator_agree_on_fixtures(kind: str, text: str) -> None:
    reference, ours = agree(kind, text)
    assert reference == ours


def test_demo_is_valid() -> None:
    for path in sorted((REPO_ROOT / "content" / "articles").glob("*.yaml")):
        assert agree("sidecar", path.read_text()) == (True, True), path.name


_slugish = st.sampled_from(["war", "peace-talks", "Bad Slug", "", "x" * 3, "dmitry-peskov"])
_scalar = st.one_of(st.text(max_size=8), st.integers(-5, 30000), st.booleans(), st.none(),
                    st.dates(min_value=dt.date(1000, 1, 1)),
                    st.sampled_from(["2022", "2022-02", "2022-02-24", "2022-2", "24.2.2022"]))
_quote = st.fixed_dictionaries({}, optional={
    "text": st.one_of(st.text(max_size=10), _scalar), "speaker": _slugish, "id": _slugish,
    "callout": st.one_of(st.booleans(), _scalar), "prefix": _scalar, "qoute": _scalar})
_note = st.fixed_dictionaries({}, optional={
    "anchor": st.text(max_size=10), "exact": st.text(max_size=10),
    "kind": st.sampled_from(["context", "fact-check", "analysis", "correction", "factcheck"]),
    "text": _scalar, "rating": _scalar,
    "sources": st.lists(st.fixed_dictionaries({}, optional={
        "url": st.sampled_from(["https://a.example/", "ftp://x", "javascript:x"]),
        "title": _scalar}), max_size=2)})
_event = st.fixed_dictionaries({}, optional={
    "date": _scalar, "end": _scalar, "title": _scalar, "approx": _scalar, "id": _slugish})
_sidecar = st.fixed_dictionaries({}, optional={
    "summary": _scalar, "topics": st.one_of(st.lists(_slugish, max_size=3), _scalar),
    "quotes": st.lists(_quote, max_size=2), "notes": st.lists(_note, max_size=2),
    "events": st.lists(_event, max_size=2), "related": st.lists(_slugish, max_size=2),
    "summmary": _scalar})


@settings(max_examples=300, deadline=None)
@given(_sidecar)
def test_schema_and_validator_agree_on_random_sidecars(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    reference, ours = agree("sidecar", text)
    assert reference == ours, text


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_printed_schemas_are_valid_draft_2020_12(kind: str) -> None:
    result = CliRunner().invoke(main, ["schema", kind])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "x-expected" not in result.output


def test_schema_files_in_repo_are_current() -> None:
    for kind in ("sidecar", "topics", "people", "site"):
        path = Path(REPO_ROOT / ".schemas" / f"{kind}.json")
        assert json.loads(path.read_text()) == public_schema(kind), kind
