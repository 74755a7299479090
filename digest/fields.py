"""Small helpers shared by the loaders: checked YAML, front matter, typed field access."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from digest.errors import Problem
from digest.located import Loaded
from digest.sources import SourceText, split_front_matter
from digest.structure import check
from digest.yamlload import YamlError, parse_yaml


@dataclass(slots=True)
class Validation:
    """Problems found so far; every loader appends here."""

    problems: list[Problem]

    def add(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def has_errors_in(self, src_rel: str, since: int) -> bool:
        return any(p.path == src_rel and p.severity == "error"
                   for p in self.problems[since:])


def load_checked(source: SourceText, schema: dict[str, Any], report: Validation,
                 text: str | None = None, line_offset: int = 0) -> Loaded | None:
    """Parse YAML and check it against `schema`; None when it cannot be read at all."""
    try:
        loaded = parse_yaml(source.text if text is None else text, source.src_rel, line_offset)
    except YamlError as exc:
        report.add([exc.problem])
        return None
    if loaded.data is not None and not isinstance(loaded.data, dict):
        report.add([loaded.problem((), "expected keys and values at the top level",
                                   "write 'key: value' lines", code="type")])
        return None
    if loaded.data is None:
        loaded.data = {}
    report.add(check(loaded, schema))
    return loaded


def load_front_matter(source: SourceText, report: Validation, schema: dict[str, Any]
                      ) -> tuple[Loaded | None, str, int]:
    """(checked front matter, Markdown body, the body's first line number)."""
    front, body, body_line = split_front_matter(source.text)
    if front is None:
        report.add([Problem(source.src_rel, 1, 1, "missing front matter",
                            "start the file with '---', then 'title:' and 'date:' lines, "
                            "then '---'", code="front-matter")])
        return None, body, body_line
    return load_checked(source, schema, report, text=front, line_offset=1), body, body_line


def text_of(data: dict[str, Any], key: str) -> str:
    """The value at `key` when it is text, else '' (the schema check reported it)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, mapping) for each mapping in the list at `key`."""
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def slug_list(data: dict[str, Any], key: str) -> list[tuple[int, str]]:
    """(index, text) for each text item of the list at `key`."""
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
