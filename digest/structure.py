"""Check loaded YAML/TOML data against the schemas of `digest.schema`.

A small interpreter for the subset of JSON Schema those schemas use, written for
messages an editor can act on (`unknown key 'qoutes'; did you mean 'quotes'?`) at the
exact line. tests/test_schema.py proves it agrees with the reference `jsonschema`
validator on every fixture, good and broken.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from digest.errors import Problem, did_you_mean
from digest.located import Loaded, Path
from digest.slugs import slugify

_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping of keys to values",
    "array": "a list",
}


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str | dt.date | dt.time):
        return "string"  # YAML and TOML dates are strings to a JSON Schema client
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _as_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _name(path: Path) -> str:
    """How an editor names the place: 'speaker', or 'item 2 of topics'."""
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        parent = _name(path[:-1])
        return f"item {last + 1} of {parent}"
    return f"'{last}'"


def _type_hint(allowed: list[str], value: Any) -> str:
    if allowed == ["array"] and isinstance(value, str):
        return f"write a list: [{value}]"
    if allowed == ["string"] and isinstance(value, list | dict):
        return "write the text on one line, in quotes if it contains ': '"
    if allowed == ["boolean"]:
        return "write true or false"
    if allowed == ["string"]:
        return "put the value in quotes to make it text"
    if allowed == ["object"]:
        return "write 'key: value' lines, indented under this key"
    if allowed == ["array"]:
        return "write a list: one '- item' line per entry, or [a, b]"
    return ""


def check(loaded: Loaded, schema: dict[str, Any]) -> list[Problem]:
    """Every way `loaded.data` breaks `schema`, as Problems at their marks."""
    problems: list[Problem] = []
    data = {} if loaded.data is None else loaded.data
    _check(loaded, data, schema, (), problems)
    return problems


# Keys a schema may have and still ask for nothing but text (see `_text_leaf`).
_TEXT_LEAF_KEYS = frozenset({"type", "minLength", "pattern", "x-expected", "x-hint",
                             "description"})
# id(schema) -> (schema, is a text leaf, minLength, pattern): the schema is kept in its
# entry so that its id is not reused by another object while the entry lives.
_LEAVES: dict[int, tuple[dict[str, Any], bool, int, re.Pattern[str] | None]] = {}


def _text_leaf(schema: dict[str, Any]) -> tuple[dict[str, Any], bool, int,
                                                  re.Pattern[str] | None]:
    """Whether `schema` asks only for text (`type: string`, perhaps a minimum length and
    a pattern), with those two. Most values of a sidecar are checked against such a
    schema, and going through every keyword `_check` knows was most of its time."""
    if len(_LEAVES) > 4096:  # schemas made on the fly (tests) must not pile up
        _LEAVES.clear()
    pattern = schema.get("pattern")
    entry = (schema, schema.get("type") == "string" and schema.keys() <= _TEXT_LEAF_KEYS,
             schema.get("minLength", 0), _regex(pattern) if pattern else None)
    _LEAVES[id(schema)] = entry
    return entry


def _check(loaded: Loaded, value: Any, schema: dict[str, Any], path: Path,
           out: list[Problem]) -> None:
    if type(value) is str:
        leaf = _LEAVES.get(id(schema))
        if leaf is None or leaf[0] is not schema:
            leaf = _text_leaf(schema)
        if leaf[1]:
            # What the full walk below does with text and such a schema, short of a
            # problem, which `_check_text` reports as ever.
            if len(value) < leaf[2] or (leaf[3] is not None and not leaf[3].search(value)):
                _check_text(loaded, value, schema, path, out)
            return
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            attempt: list[Problem] = []
            _check(loaded, value, option, path, attempt)
            if not attempt:
                break
        else:
            out.append(loaded.problem(path, f"{_name(path)} must be {schema['x-expected']}, "
                                      f"not '{_as_text(value)}'", schema.get("x-hint", ""),
                                      code="format"))
            return
    expected = schema.get("type")
    if expected is not None:
        allowed = expected if isinstance(expected, list) else [expected]
        actual = _json_type(value)
        if actual not in allowed and not (actual == "integer" and "number" in allowed):
            wanted = schema.get("x-expected") or " or ".join(_TYPE_NAMES[t] for t in allowed)
            out.append(loaded.problem(path, f"{_name(path)} must be {wanted}, not "
                                      f"{_TYPE_NAMES.get(actual, 'empty')}",
                                      _type_hint(allowed, value), code="type"))
            return
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(schema["enum"])
        hint = did_you_mean(_as_text(value), schema["enum"]) or f"use one of: {options}"
        out.append(loaded.problem(path, f"{_name(path)} must be one of {options}, not "
                                  f"'{_as_text(value)}'", hint, code="enum"))
        return
    if "const" in schema and value != schema["const"]:
        out.append(loaded.problem(path, f"{_name(path)} must be {schema['const']!r}"))
        return
    if isinstance(value, str | dt.date | dt.time) and not isinstance(value, bool):
        _check_text(loaded, _as_text(value), schema, path, out)
    if isinstance(value, int) and not isinstance(value, bool):
        _check_number(loaded, value, schema, path, out)
    if isinstance(value, dict):
        _check_object(loaded, value, schema, path, out)
    if isinstance(value, list):
        _check_array(loaded, value, schema, path, out)
    _check_combinators(loaded, value, schema, path, out)


def _check_text(loaded: Loaded, text: str, schema: dict[str, Any], path: Path,
                out: list[Problem]) -> None:
    if len(text) < schema.get("minLength", 0):
        out.append(loaded.problem(path, f"{_name(path)} must not be empty",
                                  "write the text, or remove the key", code="empty"))
        return
    pattern = schema.get("pattern")
    if pattern and not _regex(pattern).search(text):
        wanted = schema.get("x-expected", f"text matching {pattern}")
        hint = schema.get("x-hint", "")
        if pattern == schema_slug_pattern():
            hint = f"try '{slugify(text)}'"
        out.append(loaded.problem(path, f"{_name(path)} must be {wanted}, not '{text}'", hint,
                                  code="format"))


def _check_number(loaded: Loaded, number: int, schema: dict[str, Any], path: Path,
                  out: list[Problem]) -> None:
    if "minimum" in schema and number < schema["minimum"]:
        out.append(loaded.problem(path, f"{_name(path)} must be at least {schema['minimum']}",
                                  f"use {schema['minimum']} or more"))
    if "maximum" in schema and number > schema["maximum"]:
        out.append(loaded.problem(path, f"{_name(path)} must be at most {schema['maximum']}",
                                  f"use {schema['maximum']} or less"))
    pattern = schema.get("pattern")
    if pattern and not _regex(pattern).search(str(number)):
        wanted = schema.get("x-expected", f"text matching {pattern}")
        out.append(loaded.problem(path, f"{_name(path)} must be {wanted}, not '{number}'",
                                  code="format"))


def _check_object(loaded: Loaded, value: dict[str, Any], schema: dict[str, Any], path: Path,
                  out: list[Problem]) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            out.append(loaded.problem(path, f"missing required field '{key}'",
                                      f"add '{key}:' to {_name(path) if path else 'the file'}",
                                      code="required"))
    names = schema.get("propertyNames")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        item_path = (*path, key)
        if names is not None and not _regex(names["pattern"]).search(key):
            out.append(loaded.problem(item_path, f"'{key}' is not a valid slug",
                                      f"use lower-case letters, digits and hyphens, e.g. "
                                      f"'{slugify(key)}'", key=True, code="slug"))
            continue
        if key in properties:
            _check(loaded, item, properties[key], item_path, out)
        elif extra is False:
            hint = did_you_mean(key, properties) or f"allowed keys: {', '.join(properties)}"
            out.append(loaded.problem(item_path, f"unknown key '{key}'", hint, key=True,
                                      code="unknown-key"))
        elif isinstance(extra, dict):
            _check(loaded, item, extra, item_path, out)


def _check_array(loaded: Loaded, value: list[Any], schema: dict[str, Any], path: Path,
                 out: list[Problem]) -> None:
    items = schema.get("items")
    seen: set[str] = set()
    for index, item in enumerate(value):
        if items is not None:
            _check(loaded, item, items, (*path, index), out)
        if schema.get("uniqueItems") and isinstance(item, str):
            if item in seen:
                out.append(loaded.problem((*path, index), f"'{item}' is listed twice in "
                                          f"{_name(path)}", "remove one of them",
                                          code="duplicate"))
            seen.add(item)


def _required_only(schema: dict[str, Any], value: dict[str, Any]) -> bool:
    return all(k in value for k in schema.get("required", []))


def _check_combinators(loaded: Loaded, value: Any, schema: dict[str, Any], path: Path,
                       out: list[Problem]) -> None:
    if not isinstance(value, dict):
        return
    one_of = schema.get("oneOf")
    if one_of:
        keys = [k for option in one_of for k in option.get("required", [])]
        matched = [option for option in one_of if _required_only(option, value)]
        if not matched:
            out.append(loaded.problem(path, f"{_name(path)} needs '{keys[0]}' (or "
                                      f"{' or '.join(repr(k) for k in keys[1:])})",
                                      f"add '{keys[0]}:' with the passage it refers to",
                                      code="required"))
        elif len(matched) > 1:
            out.append(loaded.problem(path, f"give only one of {', '.join(repr(k) for k in keys)}",
                                      "they mean the same; keep one", code="conflict"))
    condition = schema.get("if")
    if condition is None:
        return
    holds = _required_only(condition, value) and all(
        value.get(k) == sub.get("const", value.get(k))
        for k, sub in condition.get("properties", {}).items())
    branch = schema.get("then" if holds else "else")
    if not branch:
        return
    for key in branch.get("required", []):
        if key not in value:
            out.append(loaded.problem(path, f"missing required field '{key}'",
                                      f"add '{key}:' to {_name(path)}", code="required"))
    for key in branch.get("not", {}).get("required", []):
        if key in value:
            detail = ", ".join(f"{k} is {sub['const']}" for k, sub in
                               condition.get("properties", {}).items())
            out.append(loaded.problem((*path, key), f"'{key}' is only allowed when {detail}",
                                      f"remove '{key}' or change the kind", key=True,
                                      code="not-allowed"))


def schema_slug_pattern() -> str:
    """The slug pattern (imported late to keep this module free of import cycles)."""
    from digest.schema import SLUG_PATTERN

    return SLUG_PATTERN
