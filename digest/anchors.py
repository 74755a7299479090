"""Anchors: find TextQuoteSelector quotes in rendered article HTML and wrap them in <mark>."""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import NamedTuple

# markdown-it output is well-formed and escapes "<" in text and attribute values, so a
# regex tokenizer is safe and far faster than html.parser. Comments may contain ">", and
# a lone "<" (possible in raw HTML) is kept as text rather than swallowing what follows.
_TOKEN_RE = re.compile(r"<!--.*?-->|<[A-Za-z/!?][^>]*>|[^<]+|<", re.DOTALL)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
# The same pattern html.unescape uses, so unescaping match by match equals unescaping
# the whole string, and each decoded character can keep its source offset.
_CHARREF_RE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_WS_RE = re.compile(r"\s+")
_ATTR_NAME_RE = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_BLOCK_TAGS = _names(
    "address article aside blockquote caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main menu "
    "nav ol p pre search section summary table tbody td tfoot th thead tr ul"
)
_VOID_TAGS = _names("area base br col embed hr img input keygen link meta param source track wbr")

_CHAR_MAP = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`", "'"),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
}
_TRANSLATE = str.maketrans(_CHAR_MAP)

_CLOSEST_WIDTH = 120
_MAX_SUGGESTED_WORDS = 8


class Selector(NamedTuple):
    """A W3C TextQuoteSelector: the exact text, optionally with the text around it."""

    exact: str
    prefix: str = ""
    suffix: str = ""


class Span(NamedTuple):
    """A range of offsets into AnnotatedHtml.text (end exclusive)."""

    start: int
    end: int


class AnchorError(Exception):
    """An anchor that cannot be placed; str() reads as one sentence: message; hint."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message}; {hint}" if hint else message)
        self.message = message
        self.hint = hint


class AnchorNotFound(AnchorError):
    """No occurrence of the anchor qualifies; `closest` is the most similar passage."""

    def __init__(self, message: str, hint: str, closest: str) -> None:
        super().__init__(message, hint)
        self.closest = closest


class AnchorAmbiguous(AnchorError):
    """Several occurrences qualify; `suggestion` says how to pick the first one."""

    def __init__(self, message: str, hint: str, count: int, suggestion: str) -> None:
        super().__init__(message, hint)
        self.count = count
        self.suggestion = suggestion


def normalize(text: str) -> str:
    """NFC, typographic quotes/dashes/ellipsis to ASCII, whitespace runs to one space."""
    return _WS_RE.sub(" ", unicodedata.normalize("NFC", text).translate(_TRANSLATE))


def plain_text(html: str) -> str:
    """The plain text of rendered article HTML, blocks separated by blank lines."""
    return AnnotatedHtml(html).text


# --- the text model -------------------------------------------------------------------


# Not frozen: one is made per text node of every annotated article, and a frozen
# dataclass's constructor (object.__setattr__ per field) took four times as long.
@dataclass(slots=True)
class _Segment:
    """One text node: where its decoded text sits in `text`, and how to split its source."""

    token: int
    start: int
    source: str
    decoded: str
    # Source offset of each decoded character, made when a mark first splits a text node
    # whose decoding changed it: most text nodes with entities are never split.
    _offsets: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def end(self) -> int:
        return self.start + len(self.decoded)

    def source_at(self, local: int) -> int:
        """Source offset of the boundary before decoded character `local`."""
        if local == len(self.decoded):
            return len(self.source)
        if local == 0 or self.decoded == self.source:
            return local  # the first character decoded starts the source, entity or not
        if self._offsets is None:
            self._offsets = _decode(self.source)[1]
        return self._offsets[local]  # type: ignore[index]


class _TextModel(NamedTuple):
    """An HTML text as the reader sees it: its visible text, its text nodes and where
    each starts in it, and the span of each block."""

    text: str
    segments: list[_Segment]
    segment_starts: list[int]
    block_spans: list[tuple[int, int]]
    block_end_tokens: list[int]


def _parse_tag(token: str) -> tuple[str, str] | None:
    """(kind, lower-case name) of a tag token, kind in open/close/void/other; None for text."""
    if len(token) < 2 or token[0] != "<":
        return None
    match = _TAG_RE.match(token)
    if match is None:
        return "other", ""
    name = match.group(2).lower()
    if match.group(1):
        return "close", name
    if name in _VOID_TAGS or token.endswith("/>"):
        return "void", name
    return "open", name


# Tag tokens repeat (<p>, </p>, <em>, ...): parsing each again was a fifth of building a
# text model. Short ones are remembered, for every article the process annotates; the
# memo is emptied when it grows past _TAG_MEMO_LIMIT entries, so that a site of many
# distinct short tags (or odd HTML) costs some parsing again, never memory without end.
_TAG_MEMO: dict[str, tuple[str, str] | None] = {}
_TAG_MEMO_LIMIT = 4096
_TAG_MEMO_LONGEST = 48


def _tag_of(token: str) -> tuple[str, str] | None:
    """`_parse_tag`, remembered for short tokens."""
    tag = _TAG_MEMO.get(token, False)
    if tag is False:
        tag = _parse_tag(token)
        if len(token) <= _TAG_MEMO_LONGEST:
            if len(_TAG_MEMO) >= _TAG_MEMO_LIMIT:
                _TAG_MEMO.clear()
            _TAG_MEMO[token] = tag
    return tag  # type: ignore[return-value]


def _is_block_tag(token: str) -> bool:
    tag = _tag_of(token)
    return tag is not None and tag[1] in _BLOCK_TAGS


def _decode(source: str) -> tuple[str, tuple[int, ...] | None]:
    """Unescape a text node, remembering the source offset of every decoded character."""
    if "&" not in source:
        return source, None
    parts: list[str] = []
    offsets: list[int] = []
    position = 0
    for match in _CHARREF_RE.finditer(source):
        parts.append(source[position : match.start()])
        offsets.extend(range(position, match.start()))
        piece, piece_offsets = _decode_reference(match.group(), match.start())
        parts.append(piece)
        offsets.extend(piece_offsets)
        position = match.end()
    parts.append(source[position:])
    offsets.extend(range(position, len(source)))
    return "".join(parts), tuple(offsets)


def _decode_reference(reference: str, at: int) -> tuple[str, list[int]]:
    decoded = html.unescape(reference)
    if decoded == reference:
        return decoded, list(range(at, at + len(reference)))
    # A legacy entity without ";" decodes as entity + literal rest ("&ampx" -> "&x"):
    # the rest keeps its own offsets, everything else points at the "&".
    rest = 0
    while rest < len(decoded) - 1 and decoded[-1 - rest] == reference[-1 - rest]:
        rest += 1
    head = len(decoded) - rest
    tail_start = at + len(reference) - rest
    return decoded, [at] * head + list(range(tail_start, tail_start + rest))


def _build_model(tokens: list[str]) -> _TextModel:
    """Walk the tokens once to build the plain text and its map back to the source.

    One function with its state in local variables: this runs for every annotated
    article, and as a class with a method per step it spent more time calling than
    working."""
    parts: list[str] = []
    length = 0
    segments: list[_Segment] = []
    segment_starts: list[int] = []
    block_spans: list[tuple[int, int]] = []
    block_end_tokens: list[int] = []
    # Open element names; closing pops to the matching name so that an unclosed inline
    # tag in raw HTML cannot swallow the rest of the article into one block.
    stack: list[str] = []
    block_start = -1  # where the open block's text starts; -1 before its first text
    pending = ""  # separator owed before the next text ("\n\n" between blocks)
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        tag = _tag_of(token) if token[:1] == "<" else None
        if tag is not None:
            kind, name = tag
            if kind == "other":
                continue
            if not stack:
                if kind == "close":
                    continue  # a stray closing tag between blocks holds no text
                block_start, pending = -1, ("\n\n" if length else "")
            elif name in _BLOCK_TAGS and block_start >= 0:
                # Two list items or paragraphs of one quote must not glue their words.
                pending = "\n"
            if kind == "open":
                stack.append(name)
            elif kind == "close" and name in stack:
                while stack.pop() != name:
                    pass
            if not stack:
                block_spans.append((length if block_start < 0 else block_start, length))
                block_end_tokens.append(index)
                block_start = -1
            continue
        # Text. HTML's inter-element whitespace is ASCII only: NBSP, NEL, U+2028 are text.
        if (token and not token.strip(" \t\n\r\f")
                and (not stack
                     or (index > 0 and _is_block_tag(tokens[index - 1]))
                     or (index < last and _is_block_tag(tokens[index + 1])))):
            continue
        if not stack:
            block_start, pending = -1, ("\n\n" if length else "")
        # html.unescape of the whole node is what _decode makes piece by piece (the same
        # pattern), without the offsets, which only a mark splitting it needs.
        decoded = html.unescape(token) if "&" in token else token
        if pending:
            parts.append(pending)
            length += len(pending)
            pending = ""
        if block_start < 0:
            block_start = length
        segments.append(_Segment(index, length, token, decoded))
        segment_starts.append(length)
        parts.append(decoded)
        length += len(decoded)
        if not stack:
            block_spans.append((block_start, length))
            block_end_tokens.append(index)
            block_start = -1
    if stack:
        block_spans.append((length if block_start < 0 else block_start, length))
        block_end_tokens.append(last)
    return _TextModel("".join(parts), segments, segment_starts, block_spans,
                      block_end_tokens)


# --- normalised text with a map back --------------------------------------------------


class _Normalized(NamedTuple):
    """Normalised text; character i came from original text[starts[i]:ends[i]]."""

    text: str
    starts: list[int]
    ends: list[int]

    def original_span(self, start: int, end: int) -> Span:
        return Span(self.starts[start], self.ends[end - 1])


def _nfc_units(text: str) -> Iterable[tuple[str, int, int]]:
    """(NFC text, original start, original end) units whose concatenation is NFC(text)."""
    if unicodedata.is_normalized("NFC", text):
        return ((char, index, index + 1) for index, char in enumerate(text))
    return _nfc_clusters(text)


def _nfc_clusters(text: str) -> Iterator[tuple[str, int, int]]:
    start = 0
    for index in range(1, len(text) + 1):
        if index < len(text) and _composes(text[start:index], text[index]):
            continue
        yield unicodedata.normalize("NFC", text[start:index]), start, index
        start = index


def _composes(cluster: str, char: str) -> bool:
    # Combining marks attach to their base; some starters (Hangul jamo) compose too.
    if unicodedata.combining(char):
        return True
    return not unicodedata.is_normalized("NFC", unicodedata.normalize("NFC", cluster) + char)


# Every character str.isspace() accepts (all below U+3001); single ones become a space
# by translation, so only runs of two or more and the ellipsis change the length.
# str.translate with a dict table takes about 0.6 µs a character; one str.replace per
# special character (each a C scan that usually finds nothing) is far faster.
_ONE_TO_ONE = tuple(
    [(c, r) for c, r in _CHAR_MAP.items() if len(r) == 1]
    + [(c, " ") for c in map(chr, range(0x3001)) if c.isspace() and c != " "]
)


def _replace_one_to_one(text: str) -> str:
    for char, replacement in _ONE_TO_ONE:
        if char in text:
            text = text.replace(char, replacement)
    return text


class _SegmentOffsets:
    """Offsets into the original text, stored per run rather than per character.

    Normalised text is a sequence of runs copied 1:1 and of replacements (a whitespace
    run became one space, an ellipsis three dots); indexing finds the run by bisection.
    """

    __slots__ = ("_norm_starts", "_orig_starts", "_orig_ends", "_end_side")

    def __init__(self, norm_starts: list[int], orig_starts: list[int], orig_ends: list[int],
                 end_side: bool) -> None:
        self._norm_starts = norm_starts
        self._orig_starts = orig_starts
        self._orig_ends = orig_ends  # -1 for runs copied 1:1
        self._end_side = end_side

    def __getitem__(self, index: int) -> int:
        run = bisect_right(self._norm_starts, index) - 1
        fixed_end = self._orig_ends[run]
        if fixed_end < 0:
            offset = self._orig_starts[run] + index - self._norm_starts[run]
            return offset + 1 if self._end_side else offset
        return fixed_end if self._end_side else self._orig_starts[run]


def _special_runs(text: str) -> list[tuple[int, int]]:
    """Where `text`, translated one to one (every whitespace character a space), changes
    length when normalised: runs of two or more spaces, and each ellipsis.

    str.find finds them; a regular expression (`\\s\\s+|\u2026`) tried a match at every
    character, and that was most of normalising an article."""
    runs: list[tuple[int, int]] = []
    find = text.find
    start = find("  ")
    while start >= 0:
        end = start + 2
        while text.startswith(" ", end):
            end += 1
        runs.append((start, end))
        start = find("  ", end)
    if "\u2026" in text:
        start = find("\u2026")
        while start >= 0:
            runs.append((start, start + 1))
            start = find("\u2026", start + 1)
        runs.sort()
    return runs


def _normalize_fast(text: str) -> _Normalized:
    """_normalize_mapped for NFC text, where only whitespace runs and the ellipsis change
    length: copies the runs between them wholesale instead of looping per character
    (this runs once per annotated article, so it dominates large builds)."""
    # One to one first: offsets stay, and every whitespace character becomes a space.
    text = _replace_one_to_one(text)
    pieces: list[str] = []
    norm_starts: list[int] = []
    orig_starts: list[int] = []
    orig_ends: list[int] = []
    length = 0
    position = 0
    for start, end in _special_runs(text):
        if start > position:
            pieces.append(text[position:start])
            norm_starts.append(length)
            orig_starts.append(position)
            orig_ends.append(-1)
            length += start - position
        replacement = "..." if text[start] == "\u2026" else " "
        pieces.append(replacement)
        norm_starts.append(length)
        orig_starts.append(start)
        orig_ends.append(end)
        length += len(replacement)
        position = end
    if position < len(text):
        pieces.append(text[position:])
        norm_starts.append(length)
        orig_starts.append(position)
        orig_ends.append(-1)
    return _Normalized(
        "".join(pieces),
        _SegmentOffsets(norm_starts, orig_starts, orig_ends, end_side=False),  # type: ignore[arg-type]
        _SegmentOffsets(norm_starts, orig_starts, orig_ends, end_side=True),  # type: ignore[arg-type]
    )


def _normalize_mapped(text: str) -> _Normalized:
    if unicodedata.is_normalized("NFC", text):
        return _normalize_fast(text)
    return _normalize_per_character(text)


def _normalize_per_character(text: str) -> _Normalized:
    """Any text, composed or not, one NFC unit at a time: the reference the fast path
    must agree with (a test holds them to it)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    in_space = False
    for unit, start, end in _nfc_units(text):
        for char in unit:
            if char.isspace():
                if in_space:
                    ends[-1] = end
                    continue
                in_space = True
                char = " "
            else:
                in_space = False
            for out in _CHAR_MAP.get(char, char):
                chars.append(out)
                starts.append(start)
                ends.append(end)
    return _Normalized("".join(chars), starts, ends)


# --- matching -------------------------------------------------------------------------


def occurrences(text: str, exact: str) -> list[int]:
    """Start offsets of `exact` in `text`, overlapping ones included."""
    positions: list[int] = []
    position = text.find(exact)
    while position >= 0:
        positions.append(position)
        position = text.find(exact, position + 1)
    return positions


def _qualifies(text: str, position: int, length: int, prefix: str, suffix: str) -> bool:
    """Does the occurrence have the prefix before and suffix after, spaces at the junction aside?"""
    if prefix:
        before = position - 1 if position and text[position - 1] == " " else position
        if not text.endswith(prefix, 0, before):
            return False
    if suffix:
        after = position + length
        if text.startswith(" ", after):
            after += 1
        return text.startswith(suffix, after)
    return True


def _count_qualifying(
    text: str, positions: list[int], length: int, prefix: str, suffix: str
) -> int:
    return sum(_qualifies(text, position, length, prefix, suffix) for position in positions)


def _words_before(text: str, position: int, count: int) -> str | None:
    before = text[max(0, position - 400) : position]
    words = before.rstrip(" ").split(" ")
    if not words[0] or count > len(words):
        return None
    return " ".join(words[-count:]) + (" " if before.endswith(" ") else "")


def _words_after(text: str, position: int, count: int) -> str | None:
    after = text[position : position + 400]
    words = after.lstrip(" ").split(" ")
    if not words[0] or count > len(words):
        return None
    return (" " if after.startswith(" ") else "") + " ".join(words[:count])


def _unique_context(
    text: str, positions: list[int], first: int, length: int, context: tuple[str, str]
) -> tuple[str, int, int] | None:
    """("prefix"|"suffix", start, end): the fewest whole words singling out `first`."""
    prefix, suffix = context
    for count in range(1, _MAX_SUGGESTED_WORDS + 1):
        words = _words_before(text, first, count)
        if words is None:
            break
        if _count_qualifying(text, positions, length, words.rstrip(" "), suffix) == 1:
            return "prefix", first - len(words), first
    end = first + length
    for count in range(1, _MAX_SUGGESTED_WORDS + 1):
        words = _words_after(text, end, count)
        if words is None:
            break
        if _count_qualifying(text, positions, length, prefix, words.lstrip(" ")) == 1:
            return "suffix", end, end + len(words)
    return None


def _closest_window(text: str, exact: str) -> tuple[int, int]:
    """The window of the text, as long as `exact`, that difflib finds most similar to it."""
    from difflib import SequenceMatcher  # here: only a quote not found gets this far

    size = len(exact)
    if len(text) <= size:
        return 0, len(text)
    candidates = _seed_starts(text, exact) or [_longest_match_start(text, exact)]

    def score(start: int) -> tuple[float, int]:
        window = text[start : start + size]
        return SequenceMatcher(None, window, exact, autojunk=False).ratio(), -start

    best = max(candidates, key=score)
    return best, best + size


def _seed_starts(text: str, exact: str, limit: int = 8) -> list[int]:
    # Chunks of the exact text found verbatim vote for where the exact would start, so
    # only a handful of windows are scored instead of sliding over the whole article.
    chunk_size = max(3, min(8, len(exact) // 3))
    last_start = len(text) - len(exact)
    votes: Counter[int] = Counter()
    for offset in range(0, len(exact) - chunk_size + 1, chunk_size):
        chunk = exact[offset : offset + chunk_size]
        for hit in occurrences(text, chunk)[:32]:
            votes[min(max(hit - offset, 0), last_start)] += 1
    return [start for start, _ in votes.most_common(limit)]


def _longest_match_start(text: str, exact: str) -> int:
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(None, text, exact, autojunk=False)
    match = matcher.find_longest_match(0, len(text), 0, len(exact))
    return min(max(match.a - match.b, 0), len(text) - len(exact))


def _widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    limit = 20
    while start > 0 and text[start - 1] != " " and limit:
        start, limit = start - 1, limit - 1
    limit = 20
    while end < len(text) and text[end] != " " and limit:
        end, limit = end + 1, limit - 1
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"


def _quoted(text: str) -> str:
    return f'"{_shorten(text, 80)}"'


def _context_phrase(prefix: str, suffix: str) -> str:
    """' after "p" and before "s"' for the qualifiers given, '' when none."""
    words = [
        f"after {_quoted(prefix)}" if prefix else "",
        f"before {_quoted(suffix)}" if suffix else "",
    ]
    phrase = " and ".join(word for word in words if word)
    return f" {phrase}" if phrase else ""


# --- marks ----------------------------------------------------------------------------


class _Mark(NamedTuple):
    """One element to wrap around a span of the text (split where it crosses other
    elements), with what to insert after it."""

    start: int
    end: int
    order: int
    first_tag: str
    later_tag: str
    after_html: str

    @property
    def nesting_key(self) -> tuple[int, int, int]:
        # Earlier start is outer; at equal start the longer mark is outer.
        return self.start, -self.end, self.order


def _mark_tags(element_id: str, css_class: str, attrs: dict[str, str]) -> tuple[str, str]:
    """Opening tags for the first piece (with the id) and for later pieces (without)."""
    for name in attrs:
        if not _ATTR_NAME_RE.match(name) or name.lower() in ("id", "class"):
            raise ValueError(f"invalid mark attribute name: {name!r}")
    shared = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in attrs.items())
    if css_class:
        shared = f' class="{html.escape(css_class, quote=True)}"' + shared
    first = f' id="{html.escape(element_id, quote=True)}"' if element_id else ""
    return f"<mark{first}{shared}>", f"<mark{shared}>"


@dataclass(slots=True)
class _SegmentWriter:
    """Splits one text node at mark boundaries and nests the mark pieces consistently."""

    segment: _Segment
    marks: list[_Mark]
    opened: set[int]
    out: list[str] = field(default_factory=list)
    stack: list[_Mark] = field(default_factory=list)

    def write(self) -> str:
        start, end = self.segment.start, self.segment.end
        cuts = {start, end}
        for mark in self.marks:
            cuts.update(cut for cut in (mark.start, mark.end) if start < cut < end)
        for run_start, run_end in pairwise(sorted(cuts)):
            self._switch(run_start, [m for m in self.marks if m.start <= run_start < m.end])
            self.out.append(self._source(run_start, run_end))
        self._switch(end, [])
        return "".join(self.out)

    def _switch(self, position: int, wanted: list[_Mark]) -> None:
        keep = 0
        while keep < min(len(self.stack), len(wanted)) and self.stack[keep] is wanted[keep]:
            keep += 1
        closing = self.stack[keep:]
        self.out.extend("</mark>" for _ in closing)
        # Side notes follow the last piece of their mark, outside every mark closed with it.
        self.out.extend(m.after_html for m in reversed(closing) if m.end == position)
        for mark in wanted[keep:]:
            self.out.append(mark.later_tag if mark.order in self.opened else mark.first_tag)
            self.opened.add(mark.order)
        self.stack = wanted

    def _source(self, start: int, end: int) -> str:
        segment = self.segment
        local_start, local_end = start - segment.start, end - segment.start
        return segment.source[segment.source_at(local_start) : segment.source_at(local_end)]


# --- the public class -----------------------------------------------------------------


class AnnotatedHtml:
    """Rendered article HTML whose plain text can be searched and marked up."""

    def __init__(self, html: str) -> None:
        self._html = html
        self._tokens: list[str] = _TOKEN_RE.findall(html)
        self._marks: list[_Mark] = []
        self._after_block: dict[int, list[str]] = {}
        self._ids: set[str] = set()
        self._origin: AnnotatedHtml | None = None

    def twin(self) -> AnnotatedHtml:
        """Another document of the same HTML with marks of its own, sharing this one's
        text model (an article's page and its feed entry are marked alike)."""
        other = AnnotatedHtml.__new__(AnnotatedHtml)
        other._html, other._tokens = self._html, self._tokens
        other._marks, other._after_block, other._ids = [], {}, set()
        other._origin = self
        return other

    @cached_property
    def _model(self) -> _TextModel:
        # Built on first use: articles without annotations never pay for it.
        if self._origin is not None:
            return self._origin._model
        return _build_model(self._tokens)

    @cached_property
    def _normalized(self) -> _Normalized:
        if self._origin is not None:
            return self._origin._normalized
        return _normalize_mapped(self._model.text)

    @property
    def text(self) -> str:
        """Text content with entities decoded; top-level blocks separated by blank lines."""
        return self._model.text

    def locate(self, selector: Selector) -> Span:
        """The span of the one occurrence of the selector; raise AnchorError otherwise."""
        exact = normalize(selector.exact).strip()
        if not exact:
            raise AnchorNotFound("empty anchor text", "give the exact words to anchor on", "")
        prefix = normalize(selector.prefix).rstrip(" ")
        suffix = normalize(selector.suffix).lstrip(" ")
        norm = self._normalized
        positions = occurrences(norm.text, exact)
        hits = [p for p in positions if _qualifies(norm.text, p, len(exact), prefix, suffix)]
        if len(hits) == 1:
            return norm.original_span(hits[0], hits[0] + len(exact))
        if not hits:
            raise self._not_found(selector.exact.strip(), exact, positions, (prefix, suffix))
        context = _context_phrase(prefix, suffix)
        suggestion = self._suggestion(positions, hits[0], len(exact), (prefix, suffix))
        raise AnchorAmbiguous(
            f"{_quoted(selector.exact.strip())} occurs {len(hits)} times in the article{context}",
            f"{suggestion} to pick the first occurrence",
            len(hits),
            suggestion,
        )

    def _suggestion(
        self, positions: list[int], first: int, length: int, context: tuple[str, str]
    ) -> str:
        norm = self._normalized
        found = _unique_context(norm.text, positions, first, length, context)
        if found is None:
            return "add a longer prefix or suffix"
        kind, start, end = found
        # Quote the article's own characters (curly quotes and all), whitespace collapsed.
        words = _WS_RE.sub(" ", self.text[norm.starts[start] : norm.ends[end - 1]])
        given = context[0] if kind == "prefix" else context[1]
        return f'{"use" if given else "add"} {kind}: "{words}"'

    def _not_found(
        self, shown: str, exact: str, positions: list[int], context: tuple[str, str]
    ) -> AnchorNotFound:
        norm = self._normalized
        if positions:
            # The words are there, only the prefix/suffix is off: show the real context.
            start, end = self._best_context(positions, len(exact), context)
            message = f"{_quoted(shown)} occurs in the article, but not{_context_phrase(*context)}"
        else:
            start, end = _closest_window(norm.text, exact)
            message = f"not found in the article: {_quoted(shown)}"
        start, end = _widen_to_words(norm.text, start, end)
        closest = ""
        if start < end:
            original = self.text[norm.starts[start] : norm.ends[end - 1]]
            closest = _shorten(_WS_RE.sub(" ", original), _CLOSEST_WIDTH)
        hint = (
            f'closest passage in the article: "{closest}"' if closest else "the article has no text"
        )
        return AnchorNotFound(message, hint, closest)

    def _best_context(
        self, positions: list[int], length: int, context: tuple[str, str]
    ) -> tuple[int, int]:
        """The occurrence whose real surroundings look most like the given prefix/suffix."""
        from difflib import SequenceMatcher  # here: only a passage found twice gets this far

        text = self._normalized.text
        prefix, suffix = context

        def window(position: int) -> tuple[int, int]:
            start = max(0, position - len(prefix) - 1)
            return start, min(len(text), position + length + len(suffix) + 1)

        def score(position: int) -> float:
            before = text[max(0, position - len(prefix) - 1) : position].strip()
            after = text[position + length : position + length + len(suffix) + 1].strip()
            return (
                SequenceMatcher(None, before, prefix).ratio()
                + SequenceMatcher(None, after, suffix).ratio()
            )

        return window(max(positions, key=score))

    def block_of(self, offset: int) -> int:
        """Index of the top-level block whose text holds `offset` (separators: the one before)."""
        model = self._model
        if not 0 <= offset <= len(model.text) or not model.text:
            raise IndexError(f"text offset {offset} is outside the article text")
        filled = [
            (start, index) for index, (start, end) in enumerate(model.block_spans) if end > start
        ]
        position = bisect_right([start for start, _ in filled], offset) - 1
        return filled[max(position, 0)][1]

    def add_mark(
        self,
        span: Span,
        element_id: str,
        css_class: str,
        after_html: str = "",
        attrs: dict[str, str] | None = None,
    ) -> None:
        """Wrap the span's text in <mark> pieces; `after_html` follows the last piece."""
        start, end = self._clip(span)
        if element_id and element_id in self._ids:
            raise ValueError(f"duplicate mark id: {element_id!r}")
        first_tag, later_tag = _mark_tags(element_id, css_class, attrs or {})
        self._ids.add(element_id)
        order = len(self._marks)
        self._marks.append(_Mark(start, end, order, first_tag, later_tag, after_html))

    def _clip(self, span: Span) -> tuple[int, int]:
        """Shrink the span to the text that has source characters (not block separators)."""
        model = self._model
        if not 0 <= span.start < span.end <= len(model.text):
            raise ValueError(f"invalid span {span.start}..{span.end} for text of {len(model.text)}")
        first = bisect_right(model.segment_starts, span.start) - 1
        if first < 0 or model.segments[first].end <= span.start:
            first += 1
        last = bisect_right(model.segment_starts, span.end - 1) - 1
        if first >= len(model.segments) or last < first:
            raise ValueError(f"span {span.start}..{span.end} covers no text")
        start = max(span.start, model.segments[first].start)
        return start, min(span.end, model.segments[last].end)

    def add_after_block(self, block_index: int, html: str) -> None:
        """Insert html verbatim after the closing tag of a top-level block."""
        if not 0 <= block_index < len(self._model.block_end_tokens):
            raise IndexError(f"block {block_index} does not exist")
        self._after_block.setdefault(block_index, []).append(html)

    def render(self) -> str:
        """The HTML with every mark and insertion applied; the input itself when there are none."""
        if not self._marks and not self._after_block:
            return self._html
        model = self._model
        inserts = {
            model.block_end_tokens[block]: htmls for block, htmls in self._after_block.items()
        }
        writers = self._segment_writers()
        tokens = self._tokens
        out: list[str] = []
        done = 0  # tokens before this one are in `out`
        # Only the few tokens that change are visited; the runs between are copied whole.
        for index in sorted(writers.keys() | inserts.keys()):
            out.extend(tokens[done:index])
            writer = writers.get(index)
            out.append(writer.write() if writer else tokens[index])
            out.extend(inserts.get(index, ()))
            done = index + 1
        out.extend(tokens[done:])
        return "".join(out)

    def _segment_writers(self) -> dict[int, _SegmentWriter]:
        model = self._model
        segments, starts = model.segments, model.segment_starts
        touching: dict[int, list[_Mark]] = {}  # segment index -> its marks, outer first
        for mark in sorted(self._marks, key=lambda mark: mark.nesting_key):
            # Segments are in text order and do not overlap, so the ones a mark touches
            # (start before its end, end after its start) are one run of indexes.
            first = max(bisect_right(starts, mark.start) - 1, 0)
            for index in range(first, bisect_left(starts, mark.end)):
                segment = segments[index]
                if segment.start < mark.end and segment.end > mark.start:
                    touching.setdefault(index, []).append(mark)
        opened: set[int] = set()
        # Writers in text order: `opened` (which marks already showed their id) is shared.
        return {segments[index].token: _SegmentWriter(segments[index], marks, opened)
                for index, marks in sorted(touching.items())}
