"""YAML with line marks: every value keeps the `line:col` it came from.

PyYAML's loaders drop positions and silently keep the last of two duplicate keys. We
compose the node tree (with the C loader when present), then build plain Python values
ourselves, recording where each value and key started and refusing duplicate keys and
alias bombs along the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from digest.errors import Problem

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - only without libyaml
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]
# A document that expands past this many nodes is an alias bomb ("billion laughs"),
# not an article: real sidecars have a few hundred.
MAX_NODES = 100_000


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a source file."""

    line: int
    column: int


@dataclass(slots=True)
class Loaded:
    """A parsed document: its data, and the marks of every value and key in it."""

    data: Any
    src_rel: str
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """The mark of the value (or key) at `path`, else of its nearest ancestor."""
        table = self.keys if key else self.values
        while True:
            found = table.get(path) or self.values.get(path)
            if found is not None:
                return found
            if not path:
                return Mark(1, 1)
            path = path[:-1]

    def problem(self, path: Path, message: str, hint: str = "", *, key: bool = False,
                code: str = "invalid", severity: str = "error") -> Problem:
        """A Problem located at `path` in this document."""
        where = self.mark(path, key=key)
        return Problem(self.src_rel, where.line, where.column, message, hint,
                       severity, code)  # type: ignore[arg-type]


class YamlError(Exception):
    """A document that cannot be read at all; carries the one Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.format_text())
        self.problem = problem


def parse_yaml(text: str, src_rel: str, line_offset: int = 0) -> Loaded:
    """Parse one YAML document into plain values with marks; raise YamlError if unreadable.

    `line_offset` shifts every line, for YAML embedded in a larger file (front matter).
    """
    loaded = Loaded(None, src_rel)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            builder = _Builder(loader, loaded, line_offset)
            loaded.data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        column = (mark.column + 1) if mark else 1
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise YamlError(Problem(src_rel, line, column, message,
                                "check indentation, colons and quotes on this line",
                                code="yaml-syntax")) from None
    except yaml.YAMLError as exc:
        raise YamlError(Problem(src_rel, 1 + line_offset, 1, f"YAML error: {exc}",
                                code="yaml-syntax")) from None
    finally:
        loader.dispose()
    return loaded


class _Builder:
    """Turns composed nodes into Python values, recording marks."""

    def __init__(self, loader: Any, loaded: Loaded, line_offset: int) -> None:
        self.loader = loader
        self.loaded = loaded
        self.line_offset = line_offset
        self.count = 0

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(node.start_mark.line + 1 + self.line_offset, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(self.loaded.problem(
                (), f"document expands to more than {MAX_NODES} values (YAML alias bomb?)",
                "remove the anchors (&) and aliases (*) that repeat content", code="yaml-bomb"))
        self.loaded.values.setdefault(path, self._mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:
            # `2019-13-45` looks like a timestamp but is no date; keep the text so the
            # validator can report it as an invalid date at this mark.
            return str(node.value)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise YamlError(Problem(
                    self.loaded.src_rel, self._mark(key_node).line, self._mark(key_node).column,
                    f"unsupported key {key!r}", "use plain text keys", code="yaml-key"))
            key = str(key)
            if key in result:
                first = self.loaded.keys[(*path, key)]
                raise YamlError(Problem(
                    self.loaded.src_rel, self._mark(key_node).line, self._mark(key_node).column,
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    "YAML keeps only the last value of a repeated key; merge the two or "
                    "remove one", code="duplicate-key"))
            self.loaded.keys[(*path, key)] = self._mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result
