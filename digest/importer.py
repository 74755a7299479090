"""`digest import`: raw article text (seed or Wikinews extract) -> Markdown article + sidecar proposal.

The flow is parse (text -> blocks + front matter) -> propose quotes (quoted speech whose
speaker is named nearby) -> render text (Markdown, YAML) -> write (the only part with I/O).
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

from digest.slugs import RESERVED_SLUGS, slugify

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SEED = "seed"
WIKINEWS = "wikinews"
WIKINEWS_LICENSE = "CC BY 2.5"
WIKINEWS_LICENSE_URL = "https://creativecommons.org/licenses/by/2.5/"
_UNKNOWN_FORMAT = (
    "unknown import format: expected the seed format (line 1 ' date YYYY-MM-DD SECTION') "
    "or the Wikinews extract format (title, YYYY-MM-DD date, source URL, blank line, paragraphs)"
)


class ImportFormatError(click.ClickException):
    """The text is empty, in no format the importer knows, or malformed; str() names file:line:col."""


class ImportConflict(click.ClickException):
    """An existing article, sidecar or registry would be overwritten with different content."""


@dataclass(frozen=True, slots=True)
class ImportedArticle:
    """What one import produces: the article, its sidecar proposal and the people it introduces."""

    slug: str
    front_matter: dict[str, object]
    body: str
    sidecar: dict[str, object]
    new_people: dict[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class _Block:
    """A body block as the source wrote it: a paragraph ("p") or a subheading ("h2")."""

    kind: str
    text: str


# --------------------------------------------------------------------------- detect + parse

_SEED_LINE1 = re.compile(r"^\s*date\s+(?P<date>\S+)\s+(?P<section>\S.*?)\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WIKINEWS_URL = re.compile(r"^https?://[a-z-]+\.wikinews\.org/\S+$")
_IMAGE_CREDIT = re.compile(r"^Images?:\s")
# A short line without final punctuation is a subheading in the seed format.
_HEADING_MAX_CHARS = 60
_HEADING_MAX_WORDS = 8
_SENTENCE_END = tuple(".!?:;,…”\"’')")


def _clean_text(text: str) -> str:
    """Drop a BOM and CR line ends and compose Unicode, so offsets and matching are stable."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def detect_format(text: str, src_name: str) -> str:
    """Return "seed" or "wikinews" for `text`; raise ImportFormatError for anything else."""
    text = _clean_text(text)
    if not text.strip():
        raise ImportFormatError(f"{src_name}:1:1: the file is empty, so there is nothing to import")
    lines = text.split("\n")
    if _SEED_LINE1.match(lines[0]):
        return SEED
    if _looks_like_wikinews(lines):
        return WIKINEWS
    raise ImportFormatError(f"{src_name}:1:1: {_UNKNOWN_FORMAT}")


def _looks_like_wikinews(lines: list[str]) -> bool:
    """Title, date-shaped line, Wikinews URL, blank line: the corpus extract's header."""
    return (
        len(lines) >= 5
        and bool(lines[0].strip())
        and bool(re.fullmatch(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*", lines[1]))
        and bool(_WIKINEWS_URL.match(lines[2].strip()))
        and not lines[3].strip()
    )


def _parse_date(token: str, src_name: str, line: int, col: int) -> dt.date:
    """Parse a YYYY-MM-DD token or raise an error pointing at it."""
    where = f"{src_name}:{line}:{col}"
    if not _ISO_DATE.match(token):
        raise ImportFormatError(f"{where}: invalid date '{token}': write it as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(token)
    except ValueError as exc:
        raise ImportFormatError(
            f"{where}: invalid date '{token}': {exc}; write a real date as YYYY-MM-DD"
        ) from None


def _require_line(lines: list[str], index: int, what: str, src_name: str) -> str:
    """Return the stripped header line `index` (0-based) or raise naming what is missing."""
    value = lines[index].strip() if index < len(lines) else ""
    if not value:
        raise ImportFormatError(f"{src_name}:{index + 1}:1: missing {what}; see the seed format")
    return value


def _paragraphs(lines: list[str]) -> list[str]:
    """Group non-blank lines into paragraphs; lines lose outer whitespace (Markdown drops it)."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    return paragraphs


def _is_subheading(paragraph: str) -> bool:
    """A short single line with no final punctuation reads as a subheading."""
    return (
        "\n" not in paragraph
        and len(paragraph) <= _HEADING_MAX_CHARS
        and len(paragraph.split()) <= _HEADING_MAX_WORDS
        and not paragraph.endswith(_SENTENCE_END)
        and not paragraph.startswith(("“", '"', "‘"))
        and any(ch.isalpha() for ch in paragraph)
    )


def _parse_seed(text: str, src_name: str) -> tuple[dict[str, object], list[_Block]]:
    """Seed: ' date YYYY-MM-DD SECTION', headline, standfirst, caption, dateline, blank, body."""
    lines = text.split("\n")
    match = _SEED_LINE1.match(lines[0])
    assert match is not None  # detect_format chose this parser because line 1 matched
    date = _parse_date(match["date"], src_name, 1, match.start("date") + 1)
    title = _require_line(lines, 1, "the headline on line 2", src_name)
    standfirst = _require_line(lines, 2, "the standfirst on line 3", src_name)
    caption = _require_line(lines, 3, "the photo caption on line 4", src_name)
    _require_line(lines, 4, "the dateline on line 5", src_name)
    if len(lines) > 5 and lines[5].strip():
        raise ImportFormatError(f"{src_name}:6:1: expected a blank line after the dateline")
    blocks = [
        _Block("h2" if _is_subheading(p) else "p", p) for p in _paragraphs(lines[6:])
    ]
    front: dict[str, object] = {
        "title": title,
        "date": date,
        "section": string.capwords(match["section"]),
        "standfirst": standfirst,
        "image_caption": caption,
    }
    return front, blocks


def _parse_wikinews(text: str, src_name: str) -> tuple[dict[str, object], list[_Block]]:
    """Wikinews extract: title, date, source URL, blank line, paragraphs (image credits dropped)."""
    lines = text.split("\n")
    date = _parse_date(lines[1].strip(), src_name, 2, len(lines[1]) - len(lines[1].lstrip()) + 1)
    blocks = [_Block("p", p) for p in _paragraphs(lines[4:]) if not _IMAGE_CREDIT.match(p)]
    front: dict[str, object] = {
        "title": lines[0].strip(),
        "date": date,
        "source": "Wikinews",
        "source_url": lines[2].strip(),
        "license": WIKINEWS_LICENSE,
        "license_url": WIKINEWS_LICENSE_URL,
    }
    return front, blocks


def parse_import(
    text: str, src_name: str, people: Mapping[str, Mapping[str, object]]
) -> ImportedArticle:
    """Turn raw article text into an article, a sidecar proposal and the people it quotes."""
    text = _clean_text(text)
    fmt = detect_format(text, src_name)
    parse = _parse_seed if fmt == SEED else _parse_wikinews
    front, blocks = parse(text, src_name)
    if not any(block.kind == "p" for block in blocks):
        raise ImportFormatError(f"{src_name}:1:1: the article has no body paragraphs to import")
    quotes, new_people = _propose_quotes(blocks, people)
    sidecar: dict[str, object] = {
        "summary": "",
        "topics": [],
        "quotes": quotes,
        "notes": [],
        "events": [],
        "related": [],
    }
    return ImportedArticle(
        slug=slugify(str(front["title"])),
        front_matter=front,
        body=render_markdown(blocks),
        sidecar=sidecar,
        new_people=new_people,
    )


# --------------------------------------------------------------------------- Markdown escaping

_ASCII_PUNCT = frozenset(string.punctuation)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINE_START_ESCAPES = (
    (re.compile(r"^(#{1,6})(?=\s|$)"), r"\\\1"),  # ATX heading
    (re.compile(r"^>"), r"\\>"),  # block quote
    (re.compile(r"^([-+])(?=\s|$)"), r"\\\1"),  # bullet list item
    (re.compile(r"^-(?=[-\s]*$)"), r"\\-"),  # thematic break / setext underline
    (re.compile(r"^=(?=[=\s]*$)"), r"\\="),  # setext underline
    (re.compile(r"^(\d{1,9})([.)])(?=\s|$)"), r"\1\\\2"),  # ordered list item
)


def _needs_escape(text: str, i: int) -> bool:
    """Whether text[i] would start Markdown syntax (emphasis, code, link, HTML, entity)."""
    ch = text[i]
    prev = text[i - 1] if i else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if ch == "\\":
        return not nxt or nxt in _ASCII_PUNCT
    if ch in "*`[":
        return True
    if ch == "_":
        # An underscore between two alphanumerics can neither open nor close emphasis.
        return not (prev.isalnum() and nxt.isalnum())
    if ch == "<":
        return nxt.isalpha() or nxt in "/!?"
    if ch == "~":
        return "~" in (prev, nxt)
    if ch == "&":
        return bool(_ENTITY.match(text, i))
    return False


def escape_line(line: str) -> str:
    """Backslash-escape one line so CommonMark renders exactly its characters."""
    escaped = "".join("\\" + ch if _needs_escape(line, i) else ch for i, ch in enumerate(line))
    for pattern, replacement in _LINE_START_ESCAPES:
        escaped = pattern.sub(replacement, escaped, count=1)
    return escaped


def _render_block(block: _Block) -> str:
    """Markdown for one block; source line breaks inside a paragraph stay as hard breaks."""
    if block.kind == "h2":
        heading = "".join("\\" + ch if _needs_escape(block.text, i) else ch
                          for i, ch in enumerate(block.text))
        # A trailing run of '#' would be read as the heading's closing sequence.
        return "## " + re.sub(r"(^|\s)(#+)\s*$", r"\1\\\2", heading)
    return "\\\n".join(escape_line(line) for line in block.text.split("\n"))


def render_markdown(blocks: list[_Block]) -> str:
    """The article body as Markdown, one blank line between blocks."""
    return "\n\n".join(_render_block(block) for block in blocks) + "\n"


# --------------------------------------------------------------------------- text normalisation

_TYPOGRAPHIC = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    }
)  # fmt: skip


def normalise(text: str) -> str:
    """NFC, straight quotes, one dash, collapsed whitespace: the form anchors are matched in."""
    text = unicodedata.normalize("NFC", text).translate(_TYPOGRAPHIC)
    return " ".join(text.split())


def _normalise_with_map(plain: str) -> tuple[str, list[int]]:
    """normalise() plus, for each output character, its index in `plain` (already NFC)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(plain.translate(_TYPOGRAPHIC)):
        if ch.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                origin.append(i)
            continue
        chars.append(ch)
        origin.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return "".join(chars), origin


def _count(haystack: str, needle: str) -> int:
    """Occurrences of needle in haystack, overlapping ones included."""
    count, start = 0, haystack.find(needle)
    while start != -1:
        count += 1
        start = haystack.find(needle, start + 1)
    return count


# --------------------------------------------------------------------------- names

_SPEECH_VERBS = (
    "said|says|told|tells|added|adds|asked|stated|warned|warns|explained|explains|wrote|writes"
    "|replied|responded|commented|noted|tweeted|insisted|argued|claimed|declared|announced"
    "|continued|remarked|recalled|concluded|acknowledged|admitted|urged"
)
_VERB = re.compile(rf"\b(?:(?P<verb>{_SPEECH_VERBS})|(?P<acc>[Aa]ccording to))\b")
# "told X" names the listener, so only these verbs take the speaker after them.
_INVERTED_NOT = frozenset({"told", "tells"})
_PRONOUNS = frozenset({"he", "she"})
_AUXILIARIES = frozenset(
    ["also", "later", "then", "has", "had", "have", "previously", "reportedly", "once", "recently", "further", "again", "subsequently", "earlier", "today", "yesterday", "would", "will", "could", "had"]
)
_PARTICLES = frozenset(
    ["de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "la", "le", "dos", "das", "bin", "ibn", "al", "el", "ter", "ten", "zu", "y"]
)
_ROLE_WORDS = frozenset(
    ["president", "vice", "prime", "minister", "secretary", "spokesman", "spokeswoman", "spokesperson", "chancellor", "governor", "mayor", "senator", "sen", "representative", "rep", "congressman", "congresswoman", "speaker", "leader", "chairman", "chairwoman", "chair", "chief", "director", "general", "gen", "colonel", "col", "captain", "capt", "commander", "ambassador", "judge", "justice", "attorney", "officer", "professor", "prof", "dr", "mr", "mrs", "ms", "miss", "sir", "dame", "lord", "lady", "king", "queen", "prince", "princess", "pope", "bishop", "archbishop", "cardinal", "rev", "reverend", "father", "sheikh", "emir", "sultan", "ceo", "founder", "candidate", "deputy", "commissioner", "inspector", "sergeant", "sgt", "detective", "superintendent", "councillor", "councilor", "alderman", "democrat", "republican", "premier", "coach", "manager", "editor", "correspondent", "lieutenant", "lt", "major", "admiral", "marshal", "sheriff", "prosecutor", "secretary-general", "dean", "rabbi", "imam", "patriarch", "ayatollah", "gov", "administrator", "head", "assemblyman", "assemblywoman", "lawmaker", "mp", "mep", "counsel", "chairperson", "executive", "officials", "official"]
)
_LEADING_QUALIFIERS = frozenset(
    ["american", "russian", "ukrainian", "british", "french", "german", "chinese", "japanese", "korean", "north", "south", "indian", "iranian", "israeli", "palestinian", "turkish", "syrian", "iraqi", "afghan", "pakistani", "canadian", "australian", "brazilian", "mexican", "italian", "spanish", "polish", "belarusian", "belarussian", "egyptian", "saudi", "venezuelan", "cuban", "nigerian", "kenyan", "former", "then", "acting", "incoming", "outgoing", "late", "us", "u.s.", "uk", "u.k.", "eu", "un", "kremlin", "white", "house", "state", "federal"]
)
_FILLER = frozenset(
    ["the", "a", "an", "and", "but", "or", "so", "yet", "also", "then", "later", "meanwhile", "however", "still", "earlier", "instead", "on", "in", "at", "by", "for", "of", "to", "from", "with", "after", "before", "since", "when", "while", "as", "this", "that", "these", "those", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "speaking", "separately", "additionally", "moreover", "furthermore", "now"]
)
_ORG_WORDS = frozenset(
    ["ministry", "department", "office", "agency", "police", "committee", "council", "court", "party", "government", "commission", "service", "services", "union", "organization", "organisation", "association", "institute", "university", "college", "school", "company", "group", "authority", "authorities", "bank", "times", "post", "news", "network", "kremlin", "pentagon", "embassy", "board", "center", "centre", "foundation", "administration", "army", "navy", "force", "forces", "corps", "team", "club", "federation", "bureau", "senate", "congress", "parliament", "assembly", "inc", "ltd", "corporation", "corp", "media", "press", "radio", "television", "journal", "tribune", "herald", "guardian", "telegraph", "daily", "magazine", "channel", "airlines", "airport", "hospital", "museum", "church", "campaign", "coalition", "alliance", "movement", "front", "programme", "program", "project", "society", "trust", "fund", "laboratory", "observatory", "station", "studio", "studios", "records", "republic", "kingdom", "states", "nations", "statement", "report", "reuters", "wikinews", "twitter", "facebook", "instagram", "youtube", "google", "apple", "microsoft", "amazon"]
)
_NOT_A_PERSON = frozenset(
    ["he", "she", "it", "they", "we", "i", "you", "who", "officials", "police", "authorities", "witnesses", "experts", "researchers", "scientists", "critics", "reports", "sources", "analysts", "residents", "democrats", "republicans", "protesters", "prosecutors", "investigators", "organizers", "organisers", "doctors", "officers", "others", "many", "some", "both", "several", "all", "everyone", "nobody", "someone", "god", "russia", "moscow", "china", "beijing", "washington", "kiev", "kyiv", "ukraine", "iran", "tehran", "israel", "britain", "london", "paris", "france", "germany", "berlin", "japan", "tokyo", "india", "delhi", "pakistan", "turkey", "ankara", "syria", "damascus", "brussels", "europe", "america", "pyongyang", "seoul", "korea", "taiwan", "canada", "ottawa", "australia", "mexico", "brazil", "egypt", "cairo", "venezuela", "caracas", "cuba", "havana", "poland", "warsaw", "italy", "rome", "spain", "madrid", "minsk", "belarus", "nato", "hamas", "hezbollah", "taliban", "vatican"]
)
_CYRILLIC = str.maketrans(
    dict(
        zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
            ["a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "A", "B", "V", "G", "D", "E", "Yo", "Zh", "Z", "I", "Y", "K", "L", "M", "N", "O", "P", "R", "S", "T", "U", "F", "Kh", "Ts", "Ch", "Sh", "Shch", "", "Y", "", "E", "Yu", "Ya"],
            strict=True,
        )
    )
)
_MAX_NAME_WORDS = 4


def _slug(text: str) -> str:
    """slugify() that transliterates Cyrillic and steers clear of reserved names."""
    slug = slugify(text.translate(_CYRILLIC))
    return f"{slug}-2" if slug in RESERVED_SLUGS else slug


def _core(token: str) -> str:
    """A token without surrounding quote marks, brackets and trailing commas/colons."""
    return token.strip("“”\"‘'()[]").rstrip(",;:")


_PARTICLE_FORM = re.compile(r"(?:al|el|ad|as|ash|bin|ibn|d)[-'’](\w+)")


def _is_name_word(word: str) -> bool:
    """Capitalised word (any script), initial like 'W.', or an 'al-Sisi' style particle form."""
    if not word or word.endswith(("'s", "’s", "s'", "s’")):
        return False
    particle_form = _PARTICLE_FORM.fullmatch(word)
    if particle_form:
        return particle_form[1][0].isupper()
    if re.fullmatch(r"(?:[A-Z]\.)+", word):
        return True  # initials: "George W. Bush"
    return (
        len(word) > 1 and word[0].isupper() and all(ch.isalpha() or ch in "-'’." for ch in word)
    )


def _is_acronym(word: str) -> bool:
    """RIA, NASA, FBI: all-capital words name organisations, not people."""
    letters = word.replace(".", "")
    return len(letters) >= 2 and letters.isalpha() and letters.isupper()


def _run_before(tokens: list[str]) -> tuple[list[str], str]:
    """The capitalised name run ending the token list, and the token before it."""
    run: list[str] = []
    i = len(tokens) - 1
    while i >= 0 and len(run) < 8:
        token = tokens[i]
        if run and (token.endswith((",", ";", ":", "”", '"')) or _ends_sentence(token)):
            break
        word = _core(token)
        if not (_is_name_word(word) or (run and word in _PARTICLES)):
            break
        run.insert(0, word)
        i -= 1
        if token.startswith(("“", '"', "(", "‘")):
            break
    return run, tokens[i] if i >= 0 else ""


def _run_after(tokens: list[str]) -> list[str]:
    """The name run after an inverted verb ("said Kremlin spokesman Dmitry Peskov")."""
    i = 0
    while i < len(tokens) and i < 4 and not _is_name_word(_core(tokens[i])):
        if _core(tokens[i]).casefold() not in (_ROLE_WORDS | {"the", "a", "an"}):
            return []
        i += 1
    run: list[str] = []
    for token in tokens[i:]:
        word = _core(token)
        if run and token.startswith(("“", '"', "(", "‘")):
            break
        if _ends_sentence(token):
            word = word.removesuffix(".")
        if not (_is_name_word(word) or (run and word in _PARTICLES)):
            break
        run.append(word)
        if token != word:  # punctuation ends the name
            break
    return run


def _ends_sentence(token: str) -> bool:
    """A token closing a sentence: a full stop that is not part of an initial like 'W.'."""
    word = _core(token)
    return word.endswith((".", "!", "?")) and not re.fullmatch(r"(?:[A-Z]\.)+|Jr\.|Sr\.", word)


def _clean_name(words: list[str]) -> str | None:
    """Drop fillers, qualifiers and role words ("US President Donald Trump" -> "Donald Trump")."""
    words = list(words)
    while len(words) > 1 and words[0].casefold() in _FILLER:
        words.pop(0)
    roles = [i for i, w in enumerate(words[:-1]) if w.rstrip(".").casefold() in _ROLE_WORDS]
    if roles:
        words = words[roles[-1] + 1 :]
    while len(words) > 1 and (words[0].casefold() in _LEADING_QUALIFIERS or _is_acronym(words[0])):
        words.pop(0)
    while words and words[0] in _PARTICLES:
        words.pop(0)
    if not words or len(words) > _MAX_NAME_WORDS:
        return None
    folded = [w.rstrip(".").casefold() for w in words]
    if any(w in _ORG_WORDS or w in _ROLE_WORDS or w in _FILLER for w in folded):
        return None
    if any(_is_acronym(w) for w in words):
        return None
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class _Speaker:
    """Who a clause names: a name as written, or a pronoun to resolve from context."""

    name: str = ""
    pronoun: bool = False


_BAD_BEFORE_NAME = frozenset(
    ["and", "or", "&", "of", "to", "with", "close", "for", "from", "by", "about", "that", "which", "who", "than", "against", "citing", "quoting", "the", "a", "an"]
)


def _speaker_before_verb(text: str) -> _Speaker | None:
    """The subject right before a speech verb: "Kremlin spokesman Dmitry Peskov told"."""
    tokens = text.split()
    while tokens and tokens[-1].casefold() in _AUXILIARIES:
        tokens.pop()
    if tokens and tokens[-1].casefold() in _PRONOUNS:
        return _Speaker(pronoun=True)
    if tokens and tokens[-1].endswith(","):
        tokens = _drop_apposition(tokens)
    run, before = _run_before(tokens)
    if not run or _core(before).casefold() in _BAD_BEFORE_NAME:
        return None
    # "a source close to Peskov said" is not Peskov speaking.
    if any(_core(t).casefold() in _BAD_BEFORE_NAME - {"the", "a", "an"} for t in tokens[:-len(run)]):
        return None
    name = _clean_name(run)
    return _Speaker(name=name) if name else None


def _drop_apposition(tokens: list[str]) -> list[str]:
    """ "Putin, speaking in Vladivostok, said" -> "Putin said"; keep tokens if no such clause."""
    for i in range(len(tokens) - 2, max(-1, len(tokens) - 10), -1):
        if tokens[i].endswith(","):
            return [*tokens[:i], tokens[i].rstrip(",")]
    return tokens


def _speaker_after_verb(text: str) -> _Speaker | None:
    """The speaker after an inverted verb: '"...," said Peskov' or 'according to Peskov'."""
    tokens = text.split()[:8]
    if tokens and _core(tokens[0]).casefold() in _PRONOUNS:
        return _Speaker(pronoun=True)
    name = _clean_name(_run_after(tokens))
    return _Speaker(name=name) if name else None


_AFTER_QUOTE = re.compile(
    rf"\s*,?\s*(?P<pre>(?:[^\s,;:!?\"“”()]+\s+){{0,8}}?)"
    rf"(?:(?P<verb>{_SPEECH_VERBS})|(?P<acc>according to))\b"
)
_SENTENCE_BREAK = re.compile(r"(?<!\b[A-Z])(?<!Mr)(?<!Mrs)(?<!Ms)(?<!Dr)(?<!St)[.!?][\"”’)]?\s+")
_MAX_WORDS_VERB_TO_QUOTE = 25


def _speaker_after_quote(after: str) -> _Speaker | None:
    """Attribution that follows the closing quote mark: ',” Peskov said' / ',” said Peskov'."""
    match = _AFTER_QUOTE.match(after)
    if match is None:
        return None
    pre = match["pre"]
    inverted = match["acc"] is not None or not pre.strip()
    if inverted and match["verb"] not in _INVERTED_NOT:
        return _speaker_after_verb(after[match.end() :])
    return _speaker_before_verb(pre) if not inverted else None


def _speaker_before_quote(before: str) -> _Speaker | None:
    """Attribution that leads into the quote in the same sentence: 'Peskov told RIA: “...”'."""
    sentence = _SENTENCE_BREAK.split(before)[-1]
    for match in reversed(list(_VERB.finditer(sentence))):
        rest = sentence[match.end() :]
        if len(rest.split()) > _MAX_WORDS_VERB_TO_QUOTE:
            return None
        verb = match["verb"] or "according to"
        if verb == "told" and rest.split()[:1] == ["by"]:
            return _speaker_after_verb(rest.split(None, 1)[1] if len(rest.split()) > 1 else "")
        if match["acc"] is None:
            speaker = _speaker_before_verb(sentence[: match.start()])
            if speaker is not None:
                return speaker
        if verb not in _INVERTED_NOT:
            return _speaker_after_verb(rest)
        return None
    return None


# --------------------------------------------------------------------------- resolving people


@dataclass(frozen=True, slots=True)
class _Person:
    """A resolved speaker: people slug, display name, and whether people.yaml lacks them."""

    slug: str
    name: str
    is_new: bool


class _Resolver:
    """Maps names as written to people slugs: registry names, aliases, surnames, article context."""

    def __init__(self, people: Mapping[str, Mapping[str, object]], plain: str) -> None:
        self._people = people
        self._plain = plain
        self._by_name: dict[str, str] = {}
        self._by_surname: dict[str, set[str]] = {}
        for slug, entry in people.items():
            for name in _names_of(entry):
                self._by_name.setdefault(_slug(name), slug)
                self._by_surname.setdefault(_slug(name.split()[-1]), set()).add(slug)
        self._lowercase_words = set(re.findall(r"\b[a-z][a-z'’-]+\b", plain))

    def resolve(self, name: str, pos: int) -> _Person | None:
        """The person `name` (as written at plain-text offset `pos`) refers to, or None."""
        if _slug(name) in self._by_name:
            return self._known(self._by_name[_slug(name)])
        if " " in name:
            return self._full_name(name)
        full = self._article_full_name(name, pos)
        if full is not None:
            return self._full_name(full)
        slugs = self._by_surname.get(_slug(name), set())
        if len(slugs) == 1:
            return self._known(next(iter(slugs)))
        if self._looks_like_a_word(name):
            return None
        return _Person(_slug(name), name, is_new=_slug(name) not in self._people)

    def _known(self, slug: str) -> _Person:
        """A registry person."""
        name = str(self._people[slug].get("name") or slug)
        return _Person(slug, name, is_new=False)

    def _full_name(self, name: str) -> _Person:
        """A full name: the registry's person if named or aliased so, else a new person."""
        slug = self._by_name.get(_slug(name), _slug(name))
        if slug in self._people:
            return self._known(slug)
        return _Person(slug, name, is_new=True)

    def _article_full_name(self, surname: str, pos: int) -> str | None:
        """The full name ending in `surname` nearest before `pos` (else first after) in the text."""
        best: str | None = None
        pattern = rf"(?<![\w-]){re.escape(surname)}(?![\w-])"
        for match in re.finditer(pattern, self._plain):
            line_start = self._plain.rfind("\n", 0, match.start()) + 1
            tokens = self._plain[line_start : match.start()].split()[-6:]
            if self._plain[match.start() - 1 : match.start()] not in ("", " ", "\n"):
                continue
            run, _ = _run_before(tokens)
            name = _clean_name([*run, surname]) if run else None
            if name is None or " " not in name:
                continue
            if match.start() > pos and best is not None:
                break
            best = name
            if match.start() > pos:
                break
        return best

    def _looks_like_a_word(self, word: str) -> bool:
        """A lone capitalised word that is a common noun, place or group rather than a surname."""
        folded = word.casefold()
        return (
            folded in _NOT_A_PERSON
            or folded in self._lowercase_words
            or re.search(rf"\b(?:in|at) {re.escape(word)}\b", self._plain) is not None
        )


def _names_of(entry: Mapping[str, object]) -> list[str]:
    """A registry entry's name and aliases, as non-empty strings."""
    aliases = entry.get("aliases") or []
    names = [entry.get("name"), *(aliases if isinstance(aliases, list) else [])]
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


# --------------------------------------------------------------------------- quote proposals

_CURLY_QUOTE = re.compile(r"“([^“”]+)”")
_STRAIGHT_QUOTE = re.compile(r'(?<![\w"])"(?=[^\s"])([^"]+?)(?<=\S)"(?!\w)')
_MIN_QUOTE_WORDS = 2
_ID_WORDS = 4


@dataclass(frozen=True, slots=True)
class _Span:
    """One quoted passage: paragraph index, offsets of its marks in the paragraph, its words."""

    para: int
    start: int
    end: int
    text: str
    text_start: int


def _quote_spans(para_index: int, paragraph: str) -> list[_Span]:
    """Quoted passages in a paragraph, curly and straight, in reading order, non-overlapping."""
    spans: list[_Span] = []
    matches = sorted(
        [*_CURLY_QUOTE.finditer(paragraph), *_STRAIGHT_QUOTE.finditer(paragraph)],
        key=lambda m: m.start(),
    )
    for match in matches:
        if spans and match.start() < spans[-1].end:
            continue
        inner = match[1]
        lead = len(inner) - len(inner.lstrip())
        text = inner.strip().removesuffix(",").rstrip()
        spans.append(_Span(para_index, match.start(), match.end(), text, match.start(1) + lead))
    return spans


def _attribute(
    span: _Span, paragraph: str, previous: _Span | None, prev_speaker: str | None
) -> _Speaker | str | None:
    """Who says `span`: a _Speaker found in the text, a slug inherited from the prior quote, or None."""
    if not span.text.endswith("."):
        speaker = _speaker_after_quote(paragraph[span.end :])
        if speaker is not None:
            return speaker
    speaker = _speaker_before_quote(paragraph[: span.start])
    if speaker is not None:
        return speaker
    if prev_speaker is None or previous is None:
        return None
    if previous.para == span.para:
        # '"A," Peskov said. "B."': B carries on A's speaker when only the attribution is between.
        between = paragraph[previous.end : span.start]
        if len(between.split()) <= 20 and re.search(r"[.,:]\s*$", between) and _VERB.search(between):
            return prev_speaker
        return None
    # A paragraph that is only a quote continues the previous paragraph's last speaker.
    if previous.para == span.para - 1 and (span.start, span.end) == (0, len(paragraph)):
        return prev_speaker
    return None


@dataclass
class _Proposals:
    """Accumulates accepted quotes, their ids and the new people they need."""

    quotes: list[dict[str, object]]
    ids: set[str]
    new_people: dict[str, dict[str, object]]

    def add(self, person: _Person, span: _Span, prefix: str | None) -> None:
        """Record one quote with a unique id; register its speaker if people.yaml lacks them."""
        words = " ".join(span.text.split()[:_ID_WORDS])
        base = _slug(f"{person.name.split()[-1]} {words}")
        quote_id, n = base, 2
        while quote_id in self.ids:
            quote_id, n = f"{base}-{n}", n + 1
        self.ids.add(quote_id)
        quote: dict[str, object] = {"id": quote_id, "text": " ".join(span.text.split())}
        if prefix:
            quote["prefix"] = prefix
        quote.update({"speaker": person.slug, "context": ""})
        self.quotes.append(quote)
        if person.is_new and person.slug not in self.new_people:
            self.new_people[person.slug] = {"name": person.name, "role": "", "aliases": []}


class _Anchor:
    """Finds a prefix that makes a quote unique in the article's normalised plain text."""

    def __init__(self, plain: str) -> None:
        self._plain = plain
        self._norm, self._origin = _normalise_with_map(plain)

    def prefix_for(self, text: str, src_pos: int) -> str | None:
        """"" if `text` at `src_pos` is unique, the shortest whole-word prefix if not, else None."""
        needle = normalise(text)
        if _count(self._norm, needle) == 1:
            return ""
        at = len(normalise(self._plain[:src_pos] + "x")) - 1  # "x" keeps a trailing space
        if self._norm[at : at + len(needle)] != needle:
            return None
        starts = [m.start() for m in re.finditer(r"\S+\s*", self._norm[:at])]
        for start in reversed(starts):
            candidate = self._norm[start:at]
            if _count(self._norm, candidate + needle) == 1:
                return " ".join(self._plain[self._origin[start] : src_pos].split()) + (
                    " " if candidate.endswith(" ") else ""
                )
        return None


def _speech_events(paragraphs: list[tuple[int, str]]) -> Iterator[tuple[int, int, str]]:
    """(paragraph, offset, name) for every 'NAME said' clause: the people pronouns can mean."""
    for index, paragraph in paragraphs:
        for match in _VERB.finditer(paragraph):
            if match["verb"] is None:
                continue
            sentence = _SENTENCE_BREAK.split(paragraph[: match.start()])[-1]
            speaker = _speaker_before_verb(sentence)
            if speaker is not None and speaker.name:
                yield index, match.start(), speaker.name


def _propose_quotes(
    blocks: list[_Block], people: Mapping[str, Mapping[str, object]]
) -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
    """Quoted speech with a resolvable speaker, each anchored uniquely in the article text."""
    plain = "\n\n".join(block.text for block in blocks)
    offsets = [0]
    for block in blocks:
        offsets.append(offsets[-1] + len(block.text) + 2)
    paragraphs = [(i, b.text) for i, b in enumerate(blocks) if b.kind == "p"]
    resolver = _Resolver(people, plain)
    anchor = _Anchor(plain)
    proposals = _Proposals([], set(), {})
    # Speakers named so far, as (paragraph, offset, slug or name): what "he" or "she" can mean.
    named: list[tuple[int, int, str | _Person]] = list(_speech_events(paragraphs))
    previous: _Span | None = None
    prev_person: _Person | None = None
    for index, paragraph in paragraphs:
        for span in _quote_spans(index, paragraph):
            found = _attribute(span, paragraph, previous, prev_person.slug if prev_person else None)
            person = _person_for(found, span, named, resolver, offsets, prev_person)
            previous, prev_person = span, person
            if person is None:
                continue
            named.append((span.para, span.start, person))
            if len(span.text.split()) < _MIN_QUOTE_WORDS:
                continue
            prefix = anchor.prefix_for(span.text, offsets[index] + span.text_start)
            if prefix is not None:
                proposals.add(person, span, prefix)
    return proposals.quotes, proposals.new_people


def _person_for(
    found: _Speaker | str | None,
    span: _Span,
    named: list[tuple[int, int, str | _Person]],
    resolver: _Resolver,
    offsets: list[int],
    prev_person: _Person | None,
) -> _Person | None:
    """Resolve an attribution to a person; pronouns take the latest speaker named nearby."""
    if found is None:
        return None
    if isinstance(found, str):
        return prev_person
    if found.name:
        return resolver.resolve(found.name, offsets[span.para] + span.start)
    earlier = [
        entry
        for entry in named
        if entry[0] == span.para - 1 or (entry[0] == span.para and entry[1] < span.start)
    ]
    if not earlier:
        return None
    para, offset, who = max(earlier, key=lambda entry: (entry[0], entry[1]))
    if isinstance(who, _Person):
        return who
    return resolver.resolve(who, offsets[para] + offset)


# --------------------------------------------------------------------------- files


def _dump(data: object) -> str:
    """Block-style YAML that keeps key order, Unicode and long lines as they are."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1_000_000,
    )


def article_text(imported: ImportedArticle) -> str:
    """The article file: YAML front matter between '---' lines, a blank line, the body."""
    return f"---\n{_dump(imported.front_matter)}---\n\n{imported.body}"


def sidecar_text(imported: ImportedArticle, schema_comment: str = "") -> str:
    """The sidecar file; `schema_comment` (a YAML comment for editors) becomes line 1 if given."""
    head = f"{schema_comment.rstrip()}\n" if schema_comment else ""
    return head + _dump(imported.sidecar)


def write_import(
    imported: ImportedArticle,
    content_dir: Path,
    *,
    force: bool = False,
    schema_comment: str = "",
) -> list[Path]:
    """Write the article, its sidecar and new people under content_dir; return the paths written."""
    articles = content_dir / "articles"
    planned = [
        (articles / f"{imported.slug}.md", article_text(imported)),
        (articles / f"{imported.slug}.yaml", sidecar_text(imported, schema_comment)),
    ]
    changed = [(path, text) for path, text in planned if _differs(path, text)]
    for path, _text in changed:
        if path.exists() and not force:
            shown = Path(content_dir.resolve().name, path.relative_to(content_dir)).as_posix()
            raise ImportConflict(
                f"{shown} exists and differs from the import; "
                "edit it by hand or pass --force to overwrite"
            )
    people_path = content_dir / "people.yaml"
    people_text = _merged_people(people_path, imported.new_people)
    if people_text is not None:
        changed.append((people_path, people_text))
    for path, text in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return [path for path, _text in changed]


def _differs(path: Path, text: str) -> bool:
    """True when writing `text` to `path` would change it (absent files always differ)."""
    return not path.exists() or path.read_text(encoding="utf-8") != text


def _merged_people(path: Path, new_people: Mapping[str, dict[str, object]]) -> str | None:
    """people.yaml with the missing new people appended, or None when nothing needs adding."""
    existing_text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        existing = yaml.load(existing_text, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise ImportConflict(
            f"{path}: cannot add the imported people because the file is not valid YAML ({exc}); "
            "fix it and import again"
        ) from None
    if not isinstance(existing, dict):
        raise ImportConflict(f"{path}: expected a mapping of person slugs; fix it and import again")
    missing = {slug: entry for slug, entry in new_people.items() if slug not in existing}
    if not missing:
        return None
    if existing_text.strip() and not existing:
        # "{}" (or similar) cannot take appended block entries; its comments are all it has.
        existing_text = "".join(
            line for line in existing_text.splitlines(keepends=True) if line.lstrip().startswith("#")
        )
    # Appending keeps the editors' comments and layout, which a full re-dump would lose.
    if existing_text and not existing_text.endswith("\n"):
        existing_text += "\n"
    return existing_text + _dump(missing)
