"""YAML with line marks: every value keeps the `line:col` it came from.

PyYAML's loaders drop positions and silently keep the last of two duplicate keys. We
read the event stream of the C parser (when present), compose the node tree ourselves,
then build plain Python values, recording where each value and key started and
refusing duplicate keys, runaway nesting and alias bombs along the way.

Plain documents (no anchors, aliases, merge keys or tags: every sidecar and front
matter digest writes) are read straight from the events in one pass (`_read_plain`);
anything else, and any mistake but a syntax error, goes the full way described here.

Why not `loader.get_single_node()`: the C composer recurses once per nesting level, so
a 100 kB file of `[[[[...` overflows the C stack and kills the process (a segfault,
not an exception). Composing iteratively from events, with a depth limit, cannot.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from digest.errors import Problem
from digest.located import Loaded, Mark, Path

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - only without libyaml
    _Loader = yaml.SafeLoader

# Alias expansion may add at most this many values beyond those written in the file:
# past that a document is an alias bomb ("billion laughs"), not an article. Files
# without aliases are bounded by the file size limit instead.
MAX_NODES = 100_000
# Sidecars nest four levels deep; nothing an editor writes comes near this.
MAX_DEPTH = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# The first characters of plain scalars that an implicit resolver might make other than
# text (true, null, 12, 2024-05-01, <<, ...). A plain scalar starting otherwise is text
# without asking the resolver, which tries each candidate's regular expression in Python
# (most of a sidecar's scalars are prose). None: the loader has resolvers for any first
# character or by path, so every scalar is resolved.
_RESOLVABLE_STARTS: frozenset[str] | None = (
    None if None in _Loader.yaml_implicit_resolvers or _Loader.yaml_path_resolvers
    else frozenset(_Loader.yaml_implicit_resolvers))


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
    loader = None
    try:
        loader = _Loader(text)
        try:
            loaded.data = _read_plain(loader, loaded, line_offset)
        except _NotPlain:
            # Anchors, aliases, merges, tags or a mistake other than a syntax error:
            # read again the full way, which reports mistakes in the same order as ever.
            loader.dispose()
            loaded = Loaded(None, src_rel)
            loader = _Loader(text)
            composer = _Composer(loader, src_rel, line_offset)
            node = composer.compose()
            if node is not None:
                builder = _Builder(loader, loaded, line_offset, composer.count)
                loaded.data = builder.build(node, (), 0)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        column = (mark.column + 1) if mark else 1
        detail = str(exc.problem or exc.context)
        if "nesting depth" in detail:
            # Newer libyaml stops deep nesting itself, before our own limit is reached.
            raise YamlError(Problem(src_rel, line, column,
                                    f"nested more than {MAX_DEPTH} levels deep",
                                    "flatten the structure; sidecars need four levels",
                                    code="yaml-depth")) from None
        raise YamlError(Problem(src_rel, line, column, f"YAML syntax error: {detail}",
                                "check indentation, colons and quotes on this line",
                                code="yaml-syntax")) from None
    except yaml.reader.ReaderError as exc:
        line, column = _line_col(text, exc.position)
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        raise YamlError(Problem(src_rel, line + line_offset, column,
                                f"character U+{ord(char[:1] or ' '):04X} is not allowed in "
                                "YAML",
                                "remove it or write it as an escape in a double-quoted "
                                "string", code="yaml-syntax")) from None
    except yaml.YAMLError as exc:
        raise YamlError(Problem(src_rel, 1 + line_offset, 1, f"YAML error: {exc}",
                                code="yaml-syntax")) from None
    except UnicodeEncodeError as exc:
        # Only reachable from Python callers: text decoded from a file has no lone
        # surrogates, but libyaml must encode what it is given as UTF-8.
        line, column = _line_col(text, exc.start)
        raise YamlError(Problem(src_rel, line + line_offset, column,
                                "text contains an unpaired surrogate character",
                                "remove it", code="encoding")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return loaded


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character `offset` in `text` (clamped to the text)."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


class _NotPlain(Exception):
    """The document needs the full reading (`_Composer` and `_Builder`)."""


_STR_TAG = "tag:yaml.org,2002:str"


def _read_plain(loader: Any, loaded: Loaded, line_offset: int) -> Any:
    """Values and marks straight from the events, for documents made of plain mappings,
    lists and scalars only (every sidecar and front matter digest writes): no node tree
    is built and walked, which took two thirds of the time of reading a sidecar.

    Raises _NotPlain at an anchor, alias, merge key or explicit tag, and at any mistake
    that is not a syntax error (duplicate key, a collection as a key, more than one
    document, too deep, an unreadable scalar), so that those keep their one
    implementation and are reported exactly as before; syntax errors come from the
    parser here as there, at the same event."""
    # The parser's marks are kept as they come (Loaded.mark converts the few asked for).
    values, keys = loaded.values, loaded.keys
    loaded.line_offset = line_offset
    resolve, construct = loader.resolve, loader.construct_object
    get_event = loader.get_event
    starts = _RESOLVABLE_STARTS

    def only_document(value: Any) -> Any:
        get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise _NotPlain  # a second document: reported by the full reading
        return value

    get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        return None
    get_event()  # document start
    scalar_event, mapping_start = yaml.ScalarEvent, yaml.MappingStartEvent
    sequence_start = yaml.SequenceStartEvent
    # Open collections: [value, path, next key (mappings) or None, is a mapping].
    stack: list[list[Any]] = []
    key: str | None = None  # the key of the value being read, in the open mapping
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain
            mark = event.start_mark
            if stack and stack[-1][3] and key is None:  # a key
                if event.implicit[0] and (starts is None or event.value[:1] in starts) \
                        and resolve(yaml.ScalarNode, event.value, event.implicit) == _MERGE_TAG:
                    raise _NotPlain
                key = str(event.value)
                top = stack[-1]
                if key in top[0]:
                    raise _NotPlain
                keys[(*top[1], key)] = mark
                # Held in the mapping until its value comes: a repeated key is seen above.
                top[0][key] = None
                continue
            # Quoted and block scalars are text; plain ones are resolved (numbers,
            # booleans, dates, null) unless their first character rules that out.
            tag = (resolve(yaml.ScalarNode, event.value, event.implicit)
                   if event.implicit[0] and (starts is None or event.value[:1] in starts)
                   else _STR_TAG)
            if tag in (_STR_TAG, _VALUE_TAG):
                value = event.value
                if not value.isascii() and _SURROGATE_RE.search(value):
                    raise _NotPlain
            else:
                node = yaml.ScalarNode(tag, event.value, mark, event.end_mark,
                                       style=event.style)
                try:
                    value = construct(node, deep=True)
                except yaml.constructor.ConstructorError:
                    raise _NotPlain from None
                except (ValueError, OverflowError):
                    value = str(event.value)  # as _Builder.build: the validator reports it
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain
            if len(stack) >= MAX_DEPTH or (stack and stack[-1][3] and key is None):
                raise _NotPlain
            path: Path = ()
            if stack:
                parent = stack[-1]
                if parent[3]:
                    parent[2] = key  # restored when this collection ends
                    path = (*parent[1], key)
                else:
                    path = (*parent[1], len(parent[0]))
            values.setdefault(path, event.start_mark)
            stack.append([{} if kind is mapping_start else [], path, None,
                          kind is mapping_start])
            key = None
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = stack.pop()
            value = done[0]
            if not stack:
                return only_document(value)
            key = stack[-1][2]
            # Fall through: the finished collection is the value at its place.
            mark = None
        else:  # an alias
            raise _NotPlain
        if not stack:  # a lone scalar is the document
            values.setdefault((), mark)
            return only_document(value)
        top = stack[-1]
        if top[3]:
            if mark is not None:
                values.setdefault((*top[1], key), mark)
            top[0][key] = value
            key = None
        else:
            if mark is not None:
                values.setdefault((*top[1], len(top[0])), mark)
            top[0].append(value)
        top[2] = None


class _Composer:
    """Events -> node tree, without recursion; collections deeper than MAX_DEPTH fail."""

    def __init__(self, loader: Any, src_rel: str, line_offset: int) -> None:
        self.loader = loader
        self.src_rel = src_rel
        self.line_offset = line_offset
        self.count = 0  # nodes written in the file (aliases not expanded)

    def _error(self, event: yaml.Event, message: str, hint: str, code: str) -> YamlError:
        return YamlError(Problem(self.src_rel, event.start_mark.line + 1 + self.line_offset,
                                 event.start_mark.column + 1, message, hint, code=code))

    def compose(self) -> yaml.Node | None:
        """The root node of the only document, or None for an empty stream."""
        loader = self.loader
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # document start
        root = self._document()
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise self._error(loader.get_event(), "a second YAML document ('---') in the file",
                              "keep one document per file; remove the extra '---' line",
                              "yaml-syntax")
        return root

    def _document(self) -> yaml.Node:
        loader = self.loader
        anchors: dict[str, yaml.Node] = {}
        # Open collections: (node, its anchor, its children so far).
        stack: list[tuple[yaml.Node, str | None, list[yaml.Node]]] = []
        while True:
            event = loader.get_event()
            node: yaml.Node
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise self._error(event, f"alias '*{event.anchor}' has no anchor "
                                      f"'&{event.anchor}' before it",
                                      "define the anchor first; an alias cannot refer to "
                                      "the collection it is in", "yaml-alias")
                node = anchors[event.anchor]
            elif isinstance(event, yaml.ScalarEvent):
                self.count += 1
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                       style=event.style)
                if event.anchor is not None:
                    anchors[event.anchor] = node
            elif isinstance(event, yaml.CollectionStartEvent):
                self.count += 1
                if len(stack) >= MAX_DEPTH:
                    raise self._error(event, f"nested more than {MAX_DEPTH} levels deep",
                                      "flatten the structure; sidecars need four levels",
                                      "yaml-depth")
                kind = (yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent)
                        else yaml.MappingNode)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(kind, None, event.implicit)
                stack.append((kind(tag, [], event.start_mark, None,
                                   flow_style=event.flow_style), event.anchor, []))
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                node, anchor, children = stack.pop()
                node.end_mark = event.end_mark
                node.value = (list(zip(children[::2], children[1::2], strict=True))
                              if isinstance(node, yaml.MappingNode) else children)
                # Registered only now, so an alias inside its own collection is an
                # error above instead of a cycle that never ends.
                if anchor is not None:
                    anchors[anchor] = node
            else:  # pragma: no cover - the parser emits nothing else inside a document
                raise self._error(event, f"unexpected {type(event).__name__}", "",
                                  "yaml-syntax")
            if not stack:
                return node
            stack[-1][2].append(node)


class _Builder:
    """Turns composed nodes into Python values, recording marks."""

    def __init__(self, loader: Any, loaded: Loaded, line_offset: int, written: int) -> None:
        self.loader = loader
        self.loaded = loaded
        self.line_offset = line_offset
        self.limit = written + MAX_NODES
        self.count = 0

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(node.start_mark.line + 1 + self.line_offset, node.start_mark.column + 1)

    def _error(self, node: yaml.Node, message: str, hint: str, code: str) -> YamlError:
        where = self._mark(node)
        return YamlError(Problem(self.loaded.src_rel, where.line, where.column, message, hint,
                                 code=code))

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > self.limit:
            raise YamlError(self.loaded.problem(
                (), f"aliases expand the document past {MAX_NODES} extra values "
                "(YAML alias bomb?)",
                "remove the anchors (&) and aliases (*) that repeat content", code="yaml-bomb"))
        if depth > MAX_DEPTH:
            # Aliases can stack collections deeper than the text itself nests.
            raise self._error(node, f"nested more than {MAX_DEPTH} levels deep (through "
                              "aliases)", "flatten the structure", "yaml-depth")
        self.loaded.values.setdefault(path, self._mark(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise self._tag_error(node)
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self._tag_error(node)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag == _VALUE_TAG:
            return node.value  # a lone '=' is text; PyYAML has no constructor for it
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            if node.tag in self.loader.yaml_constructors:  # a known tag, a bad value
                raise self._error(node, f"invalid {self._tag(node)} value: {exc.problem}",
                                  "fix the value or remove the tag", "yaml-tag") from None
            raise self._tag_error(node) from None
        except (ValueError, OverflowError, LookupError, AttributeError):
            # `2019-13-45` looks like a timestamp but is no date; keep the text so the
            # validator can report it as an invalid date at this mark. PyYAML's
            # constructors fail in other ways on some explicitly tagged values
            # (`!!int ''`, `!!bool ''`, `!!timestamp '2020-01-01 25:00'`): those too.
            # PyYAML still counts the node as being constructed: an alias to it would
            # be reported as a recursive node.
            self.loader.recursive_objects.pop(node, None)
            return str(node.value)
        if isinstance(value, str) and _SURROGATE_RE.search(value):
            # Only the pure-Python parser lets "\ud83d" escapes through; unpaired, they
            # cannot be written as UTF-8 later.
            raise self._error(node, "text contains an escaped surrogate (\\uD800-\\uDFFF)",
                              "write the character itself, or one \\UXXXXXXXX escape",
                              "encoding")
        return value

    @staticmethod
    def _tag(node: yaml.Node) -> str:
        return str(node.tag).replace("tag:yaml.org,2002:", "!!")

    def _tag_error(self, node: yaml.Node) -> YamlError:
        # `!!python/object/apply:...` and friends: refused by name, never constructed.
        return self._error(node, f"unsupported YAML tag '{self._tag(node)}'",
                           "remove the tag; digest reads plain text, numbers, dates, lists "
                           "and mappings", "yaml-tag")

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self._error(node, "a list or mapping cannot be a key", "use plain text keys",
                              "yaml-key")
        # Keys in digest's files are names: `no:` or `2024:` mean the text, not
        # false or a number, whatever YAML 1.1 would resolve them to.
        return str(node.value)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int,
                 merged: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {}
        marks: dict[str, Mark] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            if key in result:
                raise self._error(key_node, f"duplicate key '{key}' (first defined at line "
                                  f"{marks[key].line})", "YAML keeps only the last value of a "
                                  "repeated key; merge the two or remove one", "duplicate-key")
            marks[key] = self._mark(key_node)
            if merged:
                # A key written beside the merge wins, and so does its mark.
                self.loaded.keys.setdefault((*path, key), marks[key])
            else:
                self.loaded.keys[(*path, key)] = marks[key]
            result[key] = self.build(value_node, (*path, key), depth + 1)
        # `<<: *base` (or a list of them): keys written here win over merged ones, and
        # earlier merged mappings over later ones. Building each merged mapping as a
        # value counts it against the alias limit, so merges cannot bomb either.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self._error(source, "'<<' merges mappings only",
                                      "write '<<: *anchor' where the anchor is a mapping",
                                      "yaml-merge")
                self.count += 1
                for key, value in self._mapping(source, path, depth + 1, merged=True).items():
                    result.setdefault(key, value)
        return result
