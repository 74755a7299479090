"""Parsed documents with positions: the data of a YAML or TOML file, and the `line:col`
where each of its values and keys is written.

Apart from `yamlload` so that what only needs positions (the site config, the schema
checks) does not import PyYAML: a build with nothing to do reads no YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from digest.errors import Problem

Path = tuple[str | int, ...]


class Mark(NamedTuple):
    """A 1-based position in a source file."""

    line: int
    column: int


@dataclass(slots=True)
class Loaded:
    """A parsed document: its data, and the marks of every value and key in it.

    A mark is a `Mark`, or the YAML parser's own (0-based `line` and `column`), kept
    as it came and made a Mark, shifted by `line_offset`, only when asked for: a
    sidecar has a hundred positions, and a build that finds no mistake asks for a few."""

    data: Any
    src_rel: str
    values: dict[Path, Any] = field(default_factory=dict)
    keys: dict[Path, Any] = field(default_factory=dict)
    line_offset: int = 0  # lines before the document, for the parser's marks

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """The mark of the value (or key) at `path`, else of its nearest ancestor."""
        table = self.keys if key else self.values
        while True:
            found = table.get(path) or self.values.get(path)
            if found is not None:
                if type(found) is Mark:
                    return found
                return Mark(found.line + 1 + self.line_offset, found.column + 1)
            if not path:
                return Mark(1, 1)
            path = path[:-1]

    def problem(self, path: Path, message: str, hint: str = "", *, key: bool = False,
                code: str = "invalid", severity: str = "error") -> Problem:
        """A Problem located at `path` in this document."""
        where = self.mark(path, key=key)
        return Problem(self.src_rel, where.line, where.column, message, hint,
                       severity, code)  # type: ignore[arg-type]
