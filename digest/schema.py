"""JSON Schemas (draft 2020-12) of every file an editor writes: the one source of truth.

`digest schema KIND` prints these; `digest.structure` checks loaded files against the
very same dictionaries, so editor completion and the build never disagree.
"""

from __future__ import annotations

import copy
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SLUG_PATTERN = "^[a-z0-9][a-z0-9-]*$"
DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
DATETIME_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$")
URL_PATTERN = r"^https?://[^\s]+$"

_slug = {"type": "string", "pattern": SLUG_PATTERN,
         "x-expected": "a slug (lower-case letters, digits and hyphens)"}
_slugs = {"type": "array", "items": _slug, "uniqueItems": True}
_text = {"type": "string"}
_texts = {"type": "array", "items": _text}
_url = {"type": "string", "pattern": URL_PATTERN, "x-expected": "an http(s) URL",
        "x-hint": "write the full address, starting with https://"}
_fuzzy_date = {
    "anyOf": [
        {"type": "string", "pattern": DATE_PATTERN},
        {"type": "integer", "minimum": 1000, "maximum": 9999},
    ],
    "x-expected": "a date: YYYY, YYYY-MM or YYYY-MM-DD",
    "x-hint": "for example 2022, 2022-02 or 2022-02-24",
}
_source = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {"title": _text, "url": _url},
}

NOTE_KINDS = ["context", "fact-check", "correction", "analysis"]

SIDECAR: dict[str, Any] = {
    "title": "digest article sidecar",
    "description": "Everything an editor adds to one article: content/articles/<slug>.yaml",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "summary": {**_text, "description": "The editor's summary (Markdown)."},
        "topics": {**_slugs, "description": "Topic slugs from content/topics.yaml."},
        "quotes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["text", "speaker"],
                "properties": {
                    "id": {**_slug, "description": "Stable page anchor."},
                    "text": {**_text, "minLength": 1, "description": "Verbatim from the article."},
                    "prefix": {**_text, "description": "Text just before, to pick one occurrence."},
                    "suffix": {**_text, "description": "Text just after, to pick one occurrence."},
                    "speaker": {**_slug, "description": "Person slug from content/people.yaml."},
                    "context": _text,
                    "callout": {"type": "boolean", "description": "Render as a pull quote."},
                },
            },
        },
        "notes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "text"],
                "properties": {
                    "id": _slug,
                    "anchor": {**_text, "minLength": 1,
                               "description": "Passage the note is about."},
                    "exact": {**_text, "minLength": 1, "description": "Same as anchor (W3C name)."},
                    "prefix": _text,
                    "suffix": _text,
                    "kind": {"enum": NOTE_KINDS},
                    "text": {**_text, "minLength": 1},
                    "sources": {"type": "array", "items": _source},
                    "rating": {**_text, "minLength": 1, "description": "Fact-check verdict."},
                },
                "oneOf": [{"required": ["anchor"]}, {"required": ["exact"]}],
                "if": {"properties": {"kind": {"const": "fact-check"}}, "required": ["kind"]},
                "then": {"required": ["rating"]},
                "else": {"not": {"required": ["rating"]}},
            },
        },
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["date", "title"],
                "properties": {
                    "date": _fuzzy_date,
                    "end": _fuzzy_date,
                    "approx": {"type": "boolean"},
                    "title": {**_text, "minLength": 1},
                    "text": _text,
                    "id": {**_slug, "description": "Same id in several sidecars: one event."},
                },
            },
        },
        "related": {**_slugs, "description": "Slugs of related articles."},
    },
}

FRONT_MATTER: dict[str, Any] = {
    "title": "digest article front matter",
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "date"],
    "properties": {
        "title": {**_text, "minLength": 1},
        "date": {"type": "string", "pattern": DATETIME_PATTERN,
                 "x-expected": "a date (YYYY-MM-DD) or date and time"},
        "updated": {"type": "string", "pattern": DATETIME_PATTERN,
                    "x-expected": "a date (YYYY-MM-DD) or date and time"},
        "slug": _slug,
        "source": _text,
        "source_url": _url,
        "section": _text,
        "byline": _text,
        "standfirst": _text,
        "image_caption": _text,
        "draft": {"type": "boolean"},
        "license": _text,
        "license_url": _url,
    },
}

PAGE_FRONT_MATTER: dict[str, Any] = {
    "title": "digest page front matter",
    "type": "object",
    "additionalProperties": False,
    "required": ["title"],
    "properties": {"title": {**_text, "minLength": 1}, "slug": _slug, "description": _text,
                   "draft": {"type": "boolean"}},
}

TOPICS: dict[str, Any] = {
    "title": "digest topics (content/topics.yaml)",
    "type": "object",
    "propertyNames": {**_slug},
    "additionalProperties": {
        "type": "object",
        "additionalProperties": False,
        "required": ["title"],
        "properties": {"title": {**_text, "minLength": 1}, "description": _text,
                       "aliases": _texts},
    },
}

PEOPLE: dict[str, Any] = {
    "title": "digest people (content/people.yaml)",
    "type": "object",
    "propertyNames": {**_slug},
    "additionalProperties": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {"name": {**_text, "minLength": 1}, "role": _text, "aliases": _texts,
                       "same_as": {"type": "array", "items": _url}},
    },
}

EDITION: dict[str, Any] = {
    "title": "digest edition (content/digests/YYYY-MM-DD.yaml)",
    "type": "object",
    "additionalProperties": False,
    "properties": {"title": _text, "intro": _text},
}

SITE: dict[str, Any] = {
    "title": "digest site configuration (site.toml)",
    "type": "object",
    "additionalProperties": False,
    "required": ["site"],
    "properties": {
        "site": {
            "type": "object",
            "additionalProperties": False,
            "required": ["title", "base_url"],
            "properties": {
                "title": {**_text, "minLength": 1},
                "description": _text,
                "base_url": _url,
                "language": {"type": "string", "pattern": "^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$",
                             "x-expected": "a language tag such as 'en' or 'pt-BR'"},
                "timezone": _text,
                "author": _text,
                "cname": {"type": "string", "pattern": "^([a-z0-9.-]+)?$",
                          "x-expected": "a host name such as 'news.example.org', or empty"},
            },
        },
        "build": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "output": {**_text, "minLength": 1},
                "theme": {**_slug},
                "per_page": {"type": "integer", "minimum": 1},
                "jobs": {"type": "integer", "minimum": 0},
                "max_file_size": {"type": "integer", "minimum": 1},
            },
        },
        "markdown": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"allow_html": {"type": "boolean"}},
        },
        "search": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"enabled": {"type": "boolean"}},
        },
        "extra": {"type": "object"},
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "sidecar": SIDECAR,
    "front-matter": FRONT_MATTER,
    "page": PAGE_FRONT_MATTER,
    "topics": TOPICS,
    "people": PEOPLE,
    "edition": EDITION,
    "site": SITE,
}


def public_schema(kind: str) -> dict[str, Any]:
    """The schema of `kind` as printed for editors: with `$schema`, without our x- keys."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.startswith("x-")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    schema = strip(copy.deepcopy(SCHEMAS[kind]))
    return {"$schema": DRAFT, "$id": f"https://digest.invalid/schema/{kind}.json", **schema}
