"""`digest import`: raw article text (seed, Wikinews extract) -> Markdown article + sidecar.

The flow is parse (text -> blocks + front matter) -> propose quotes (quoted speech whose
speaker is named nearby) -> render text (Markdown, YAML) -> write (the only part with I/O).
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

from digest.anchors import normalize, occurrences
from digest.slugs import RESERVED_SLUGS, slugify
from digest.yamlload import YamlError, parse_yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Long enough that no scalar is ever folded across lines.
_YAML_WIDTH = 1_000_000

SEED = "seed"
WIKINEWS = "wikinews"
WIKINEWS_LICENSE = "CC BY 2.5"
WIKINEWS_LICENSE_URL = "https://creativecommons.org/licenses/by/2.5/"
_UNKNOWN_FORMAT = (
    "unknown import format: expected the seed format (line 1 ' date YYYY-MM-DD SECTION') "
    "or the Wikinews extract format (title, YYYY-MM-DD date, source URL, blank line, paragraphs)"
)


class ImportFormatError(click.ClickException):
    """Empty, unknown or malformed import text; str() starts with file:line:col."""


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
    blocks = [_Block("h2" if _is_subheading(p) else "p", p) for p in _paragraphs(lines[6:])]
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
        body=_render_body(blocks),
        sidecar=sidecar,
        new_people=new_people,
    )


# --------------------------------------------------------------------------- Markdown escaping

_ASCII_PUNCT = frozenset(string.punctuation)
_SPECIAL = re.compile(r"[\\*`\[_<~&]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Line starts that CommonMark would read as block syntax, and their escaped form.
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


def _escape_inline(text: str) -> str:
    """Backslash-escape the characters of `text` that inline Markdown would interpret."""
    return _SPECIAL.sub(lambda m: ("\\" if _needs_escape(text, m.start()) else "") + m[0], text)


def _escape_line(line: str) -> str:
    """Escape one paragraph line, including a start that would open a block."""
    escaped = _escape_inline(line)
    for pattern, replacement in _LINE_START_ESCAPES:
        escaped = pattern.sub(replacement, escaped, count=1)
    return escaped


def _render_block(block: _Block) -> str:
    """Markdown for one block; source line breaks inside a paragraph stay as hard breaks."""
    if block.kind == "h2":
        # A trailing run of '#' would be read as the heading's closing sequence.
        return "## " + re.sub(r"(^|\s)(#+)\s*$", r"\1\\\2", _escape_inline(block.text))
    return "\\\n".join(_escape_line(line) for line in block.text.split("\n"))


def _render_body(blocks: list[_Block]) -> str:
    """The article body as Markdown, one blank line between blocks."""
    return "\n\n".join(_render_block(block) for block in blocks) + "\n"


# --------------------------------------------------------------------------- names


def _word_set(words: str) -> frozenset[str]:
    """A set of lower-case words from a whitespace-separated list."""
    return frozenset(words.split())


_SPEECH_VERBS = (
    "said|says|told|tells|added|adds|asked|stated|warned|warns|explained|explains|wrote|writes"
    "|replied|responded|commented|noted|tweeted|insisted|argued|claimed|declared|announced"
    "|continued|remarked|recalled|concluded|acknowledged|admitted|urged"
    # Characterising verbs quote the subject's own words: 'Schiff called it "a non-starter"'.
    "|called|described|characterized|characterised|dubbed|labelled|labeled|termed"
)
_VERB = re.compile(rf"\b(?:(?P<verb>{_SPEECH_VERBS})|(?P<acc>[Aa]ccording to))\b")
# "told X" names the listener, so the speaker never follows it.
_INVERTED_NOT = _word_set("told tells")
_PRONOUNS = _word_set("he she")
_AUXILIARIES = _word_set(
    """also later then has had have previously reportedly once recently further again
    subsequently earlier today yesterday would will could"""
)
_PARTICLES = _word_set("de da di du del della der den van von la le dos das bin ibn al el ter zu")
_ROLE_WORDS = _word_set(
    """president vice prime minister secretary spokesman spokeswoman spokesperson spokesmen
    chancellor governor mayor senator sen representative rep congressman congresswoman speaker
    leader chairman chairwoman chair chairperson chief director general gen colonel col captain
    capt commander ambassador judge justice attorney officer official officials professor prof
    dr mr mrs ms miss sir dame lord lady king queen prince princess pope bishop archbishop
    cardinal rev reverend father sheikh emir sultan ceo founder candidate deputy commissioner
    inspector sergeant sgt detective superintendent councillor councilor councilman
    councilwoman alderman democrat republican premier coach manager editor correspondent
    lieutenant lt major admiral marshal sheriff prosecutor secretary-general dean rabbi imam
    patriarch ayatollah gov administrator head assemblyman assemblywoman lawmaker mp mep counsel
    executive actor actress voter broadcaster co-author author writer journalist reporter
    analyst witness resident student activist lawyer scientist researcher economist historian
    musician singer producer filmmaker artist physician doctor nurse teacher pastor priest
    adviser advisor aide envoy diplomat politician legislator host presenter commentator
    columnist astronomer physicist biologist engineer entrepreneur businessman businesswoman
    owner investor survivor victim member supporter critic athlete whip"""
)
# Words that qualify a name rather than belong to it: "Russian Vladimir Putin".
_LEADING_QUALIFIERS = _word_set(
    """american russian ukrainian british french german chinese japanese korean north south
    indian iranian israeli palestinian turkish syrian iraqi afghan pakistani canadian
    australian brazilian mexican italian spanish polish belarusian belarussian egyptian saudi
    venezuelan cuban nigerian kenyan former then acting incoming outgoing late us u.s. uk u.k.
    eu un kremlin white house state federal"""
)
# Capitalised at the start of a sentence without being part of a name.
_FILLER = _word_set(
    """the a an and but or so yet also then later meanwhile however still earlier instead on
    in at by for of to from with after before since when while as this that these those
    monday tuesday wednesday thursday friday saturday sunday speaking separately additionally
    moreover furthermore now although though whereas if because during including despite
    unlike like january february march july september october november december afterwards
    afterward eventually finally ultimately initially originally currently similarly likewise
    nevertheless nonetheless indeed thus therefore hence consequently overall here there
    tonight tomorrow last next first only even just each every his her their its our"""
)
_ORG_WORDS = _word_set(
    """ministry department office agency police committee council court party government
    commission service services union organization organisation association institute
    university college school company group authority authorities bank times post news
    network kremlin pentagon embassy board center centre foundation administration army navy
    force forces corps team club federation bureau senate congress parliament assembly inc
    ltd corporation corp media press radio television journal tribune herald guardian
    telegraph daily magazine channel airlines airport hospital museum church campaign
    coalition alliance movement front programme program project society trust fund
    laboratory observatory station studio studios records republic kingdom states nations
    statement report reuters wikinews twitter facebook instagram youtube google apple
    microsoft amazon guard"""
)
# Lower-case nouns that introduce an organisation's name: "victim group Ending Clergy Abuse".
_ORG_INTRODUCERS = _word_set(
    """group company firm organisation organization band party agency newspaper magazine outlet
    network channel union charity website platform campaign"""
)
# Lone capitalised words that say who spoke without naming a person ("Moscow said").
_NOT_A_PERSON = _word_set(
    """he she it they we i you who officials police authorities witnesses experts
    researchers scientists critics reports sources analysts residents democrats republicans
    protesters prosecutors investigators organizers organisers doctors officers others many
    some both several all everyone nobody someone god russia moscow china beijing washington
    kiev kyiv ukraine iran tehran israel britain london paris france germany berlin japan
    tokyo india delhi pakistan turkey ankara syria damascus brussels europe america pyongyang
    seoul korea taiwan canada ottawa australia mexico brazil egypt cairo venezuela caracas
    cuba havana poland warsaw italy rome spain madrid minsk belarus nato hamas hezbollah
    taliban vatican"""
)
# Words that cannot stand between the name and the verb of the speaker:
# "a source close to Peskov said" is not Peskov speaking.
_NOT_BEFORE_NAME = _word_set(
    """and or & of to with close for from by about that which who than against citing quoting
    at in on while whereas but as when after before because since although though if where"""
)
_CYRILLIC_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_CYRILLIC_LATIN = "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
_CYRILLIC = str.maketrans(
    {
        cyr: latin.strip("-")
        for lower, latin in zip(_CYRILLIC_LETTERS, _CYRILLIC_LATIN.split(), strict=True)
        for cyr in (lower, lower.upper())
    }
)
_PARTICLE_FORM = re.compile(r"(?:al|el|ad|as|ash|bin|ibn|d)[-'’](\w+)")
_INITIALS = re.compile(r"(?:[A-Z]\.)+|Jr\.|Sr\.")
_OPENERS = ("“", '"', "(", "‘")
_MAX_NAME_WORDS = 4
_MAX_RUN_WORDS = 8


def _slug(text: str) -> str:
    """slugify() that transliterates Cyrillic and steers clear of reserved names."""
    slug = slugify(text.translate(_CYRILLIC))
    return f"{slug}-2" if slug in RESERVED_SLUGS else slug


def _core(token: str) -> str:
    """A token without surrounding quote marks and brackets, nor a trailing comma or colon."""
    return token.strip("“”\"‘'()[]").rstrip(",;:")


def _ends_sentence(token: str) -> bool:
    """A token closing a sentence: a full stop that is not part of an initial like 'W.'."""
    word = _core(token)
    return word.endswith((".", "!", "?")) and not _INITIALS.fullmatch(word)


def _is_name_word(word: str) -> bool:
    """Capitalised word (any script), an initial like 'W.', or an 'al-Sisi' particle form."""
    if not word or word.endswith(("'s", "’s", "s'", "s’")) or "-year-old" in word:
        return False
    particle_form = _PARTICLE_FORM.fullmatch(word)
    if particle_form:
        return particle_form[1][0].isupper()
    if _INITIALS.fullmatch(word):
        return True
    return len(word) > 1 and word[0].isupper() and all(c.isalpha() or c in "-'’." for c in word)


def _is_acronym(word: str) -> bool:
    """RIA, NASA, FBI: all-capital words name organisations, not people."""
    letters = word.replace(".", "").replace("-", "")
    return len(letters) >= 2 and letters.isalpha() and letters.isupper()


def _run_before(tokens: list[str]) -> tuple[list[str], str]:
    """The capitalised name run ending the token list, and the token before it."""
    run: list[str] = []
    i = len(tokens) - 1
    while i >= 0 and len(run) < _MAX_RUN_WORDS:
        token = tokens[i]
        if run and (token.endswith((",", ";", ":", "”", '"')) or _ends_sentence(token)):
            break
        word = _core(token)
        if not (_is_name_word(word) or (run and word in _PARTICLES)):
            break
        run.insert(0, word)
        i -= 1
        if token.startswith(_OPENERS):
            break
    return run, tokens[i] if i >= 0 else ""


def _run_after(tokens: list[str]) -> list[str]:
    """The name run after an inverted verb ("said Kremlin spokesman Dmitry Peskov")."""
    run: list[str] = []
    for token in tokens[:_MAX_RUN_WORDS]:
        word = _core(token)
        if _ends_sentence(token):
            word = word.removesuffix(".")
        if _is_name_word(word) or (run and word in _PARTICLES):
            if run and token.startswith(_OPENERS):
                break
            run.append(word)
            if token != word:  # punctuation ends the name
                break
        elif word.casefold() in _ROLE_WORDS or (not run and word in ("the", "a", "an")):
            # "Samoa Observer editor Keni Lesa": a run before a role word was the employer.
            run = []
        else:
            break
    return run


def _is_role(word: str) -> bool:
    """A title or occupation: "Minister", "Dr.", and any "-ist" ("Immunologist")."""
    folded = word.rstrip(".").casefold()
    return folded in _ROLE_WORDS or (folded.endswith("ist") and len(folded) > 6)


def _clean_name(words: list[str]) -> str | None:
    """Drop fillers, qualifiers and role words ("US President Donald Trump" -> "Donald Trump")."""
    while len(words) > 1 and words[0].casefold() in _FILLER:
        words = words[1:]
    roles = [i for i, w in enumerate(words[:-1]) if _is_role(w)]
    if roles:
        words = words[roles[-1] + 1 :]
    while len(words) > 1 and (words[0].casefold() in _LEADING_QUALIFIERS or _is_acronym(words[0])):
        words = words[1:]
    while words and words[0] in _PARTICLES:
        words = words[1:]
    if not words or len(words) > _MAX_NAME_WORDS:
        return None
    folded = [w.rstrip(".").casefold() for w in words]
    if any(w in _ORG_WORDS or w in _FILLER for w in folded) or any(map(_is_acronym, words)):
        return None
    # A role word may end a name ("John Major") but not be all of it ("Minister said").
    return None if len(words) == 1 and _is_role(words[0]) else " ".join(words)


# --------------------------------------------------------------------------- attribution


@dataclass(frozen=True, slots=True)
class _Speaker:
    """Who a clause names: a name as written, or (name "") a pronoun to resolve from context."""

    name: str = ""


_AFTER_QUOTE = re.compile(
    rf"\s*,?\s*(?P<pre>(?:[^\s,;:.!?\"“”()][^\s,;:!?\"“”()]*\s+){{0,8}}?)"
    rf"(?:(?P<verb>{_SPEECH_VERBS})|(?P<acc>according to))\b"
)
_SENTENCE_BREAK = re.compile(r"(?<!\b[A-Z])(?<!Mr)(?<!Mrs)(?<!Ms)(?<!Dr)(?<!St)[.!?][\"”’)]?\s+")
_MAX_WORDS_VERB_TO_QUOTE = 25
# ", Twitter placed": a clause with its own capitalised subject and past-tense verb.
_NEW_CLAUSE = re.compile(r",\s+(?:[Tt]he\s+)?(?:[A-Z][\w'’-]*\s+)+[a-z]+ed\b")
_MAX_APPOSITION_WORDS = 8


def _speaker_before_verb(text: str, *, whole_clause: bool = False) -> _Speaker | None:
    """The subject right before a speech verb: "Kremlin spokesman Dmitry Peskov told".

    With `whole_clause`, `text` must be nothing but the subject (as between a quote and its verb).
    """
    tokens = text.split()
    while tokens and tokens[-1].casefold() in _AUXILIARIES:
        tokens.pop()
    if tokens and tokens[-1].casefold() in _PRONOUNS:
        return _Speaker()
    if tokens and tokens[-1].endswith(","):
        tokens = _drop_apposition(tokens)
    if not tokens or tokens[-1].endswith((",", ";", ":", '"', "”", "’", ")")):
        return None  # '"... Justices," wrote': the word before the verb closes a quote
    run, before = _run_before(tokens)
    if before == "of" and len(tokens) > len(run) + 1:
        owner, owner_before = _run_before(tokens[: -len(run) - 1])
        if owner and _is_role(owner[-1]):
            # "Director of National Intelligence John Ratcliffe said": the name ends the run,
            # after the place or body; "Officer of Red Hat said" holds no name at all.
            run, before = (run[-2:] if len(run) > 2 else []), ""
        else:
            # "Doug Collins of Georgia said": the name comes before the place.
            run, before = owner, owner_before
    # "the Foreign Ministry said", "group Ending Clergy Abuse said": organisations.
    if not run or before.casefold() in _NOT_BEFORE_NAME | _ORG_INTRODUCERS | {"the", "a", "an"}:
        return None
    if whole_clause and any(_core(t).casefold() in _NOT_BEFORE_NAME for t in tokens[: -len(run)]):
        return None
    name = _clean_name(run)
    return _Speaker(name=name) if name else None


def _drop_apposition(tokens: list[str]) -> list[str]:
    """ "Putin, speaking in Vladivostok, said" -> "Putin said"; "its head, Jane Doe, said" -> "Jane
    Doe said"; tokens unchanged when no such clause ends them."""
    for i in range(len(tokens) - 2, max(-1, len(tokens) - 2 - _MAX_APPOSITION_WORDS), -1):
        if tokens[i].endswith(","):
            between = [_core(token) for token in tokens[i + 1 :]]
            if all(_is_name_word(word) or word in _PARTICLES for word in between):
                return between
            return [*tokens[:i], tokens[i].removesuffix(",")]
    return tokens


def _speaker_after_verb(text: str) -> _Speaker | None:
    """The speaker after an inverted verb: '"...," said Peskov' or 'according to Peskov'."""
    tokens = text.split()[:_MAX_RUN_WORDS]
    if tokens and _core(tokens[0]).casefold() in _PRONOUNS:
        return _Speaker()
    name = _clean_name(_run_after(tokens))
    return _Speaker(name=name) if name else None


def _speaker_after_quote(after: str) -> _Speaker | None:
    """Attribution that follows the closing quote mark: ',” Peskov said' / ',” said Peskov'."""
    match = _AFTER_QUOTE.match(after)
    if match is None or any(_ends_sentence(token) for token in match["pre"].split()):
        return None
    if match["acc"] is None and match["pre"].strip():
        return _speaker_before_verb(match["pre"], whole_clause=True)
    if match["verb"] in _INVERTED_NOT:
        return None
    return _speaker_after_verb(after[match.end() :])


def _speaker_before_quote(before: str) -> _Speaker | None:
    """Attribution that leads into the quote in the same sentence: 'Peskov told RIA: “...”'."""
    sentence = _SENTENCE_BREAK.split(before)[-1]
    matches = list(_VERB.finditer(sentence))
    if not matches:
        return None
    match = matches[-1]
    rest = sentence[match.end() :].split()
    if len(rest) > _MAX_WORDS_VERB_TO_QUOTE:
        return None
    if match["acc"] is not None:
        return _speaker_after_verb(" ".join(rest))
    if match["verb"] == "told" and rest[:1] == ["by"]:
        return _speaker_after_verb(" ".join(rest[1:]))
    if _NEW_CLAUSE.search(sentence, match.end()):
        return None  # 'After Trump said so, Twitter placed a label "...": Twitter's words
    # "Trump said Biden ...": the subject speaks; a name after the verb is being reported on.
    return _speaker_before_verb(sentence[: match.start()])


# --------------------------------------------------------------------------- resolving people


@dataclass(frozen=True, slots=True)
class _Person:
    """A resolved speaker: people slug, display name, and whether people.yaml lacks them."""

    slug: str
    name: str
    is_new: bool


def _fold(text: str) -> str:
    """Strip accents one character for one ("Erdoğan" -> "Erdogan"), so offsets still match."""
    accented = {ch for ch in set(text) if not ch.isascii()}
    return text.translate({ord(ch): unicodedata.normalize("NFD", ch)[0] for ch in accented})


def _names_of(entry: Mapping[str, object]) -> list[str]:
    """A registry entry's name and aliases, as non-empty strings."""
    aliases = entry.get("aliases") or []
    names = [entry.get("name"), *(aliases if isinstance(aliases, list) else [])]
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


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
        self._folded = _fold(plain)
        self._full_names: dict[str, str | None] = {}

    def resolve(self, name: str) -> _Person | None:
        """The person `name` (as written in the article) refers to, or None."""
        if _slug(name) in self._by_name:
            return self._known(self._by_name[_slug(name)])
        if " " in name:
            return self._full_name(name)
        full = self._article_full_name(name)
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
        return _Person(slug, str(self._people[slug].get("name") or slug), is_new=False)

    def _full_name(self, name: str) -> _Person:
        """A full name: the registry's person if named or aliased so, else a new person."""
        slug = self._by_name.get(_slug(name), _slug(name))
        if slug in self._people:
            return self._known(slug)
        # "Dmitri Peskov" for the registry's "Dmitry Peskov": same surname and initial.
        same_surname = self._by_surname.get(_slug(name.split()[-1]), set())
        if len(same_surname) == 1:
            known = self._known(next(iter(same_surname)))
            if _slug(known.name)[:1] == slug[:1]:
                return known
        return _Person(slug, name, is_new=True)

    def _article_full_name(self, surname: str) -> str | None:
        """The full name most often written out for `surname` in the article (first on ties)."""
        if surname not in self._full_names:
            counts: dict[str, int] = {}
            names = self._full_names_ending_in(surname)
            for name in names:
                # "Hong Kong Carrie Lam" also counts for "Carrie Lam", written elsewhere.
                shortest = min((n for n in names if name.endswith(" " + n) or n == name), key=len)
                counts[shortest] = counts.get(shortest, 0) + 1
            # A surname alone means whom the article names most: "Trump" is Donald, not Melania.
            self._full_names[surname] = max(counts, key=counts.__getitem__, default=None)
        return self._full_names[surname]

    def _full_names_ending_in(self, surname: str) -> list[str]:
        """Every 'First Last' written in the article whose last word is `surname`."""
        names: list[str] = []
        folded = _fold(surname)
        for match in re.finditer(rf"(?<![\w'’-]){re.escape(folded)}(?![\w-])", self._folded):
            line_start = self._plain.rfind("\n", 0, match.start()) + 1
            tokens = self._plain[line_start : match.start()].split()[-_MAX_RUN_WORDS:]
            run, before = _run_before([*tokens, self._plain[match.start() : match.end()]])
            if before in ("from", "of", "in") and len(run) > 2:
                run = run[1:]  # "Senator from Vermont Bernie Sanders": a place, then the name
            name = _clean_name(run) if len(run) > 1 else None
            if name is not None and " " in name:
                names.append(name)
        return names

    def is_person(self, name: str) -> bool:
        """Whether a name met in passing is surely a person's (so "he" after it is ambiguous)."""
        if _slug(name) in self._by_name:
            return True
        if " " not in name:
            return self._article_full_name(name) is not None
        last = re.escape(_fold(name.split()[-1]))
        alone = len(re.findall(rf"(?<![\w'’-]){last}(?![\w-])", self._folded))
        # The surname also stands on its own somewhere: the article refers to them again.
        return alone > len(re.findall(re.escape(_fold(name)), self._folded))

    def _looks_like_a_word(self, word: str) -> bool:
        """A lone capitalised word that is a common noun, place or group rather than a surname."""
        folded = word.casefold()
        return (
            folded in _NOT_A_PERSON
            or folded in self._lowercase_words
            or re.search(rf"\b(?:in|at) {re.escape(word)}\b", self._plain) is not None
        )


# --------------------------------------------------------------------------- quote proposals

_CURLY_QUOTE = re.compile(r"“([^“”]+)”")
_STRAIGHT_QUOTE = re.compile(r'(?<![\w"])"(?=[^\s"])([^"]+?)(?<=\S)"(?!\w)')
_MIN_QUOTE_WORDS = 2
_ID_WORDS = 4
_MAX_WORDS_BETWEEN_QUOTES = 20


@dataclass(frozen=True, slots=True)
class _Span:
    """One quoted passage: its paragraph, the offsets of its quote marks, its words."""

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
        # '“Definitely not,” he said': the comma belongs to the sentence, not the quote.
        text = inner.strip().removesuffix(",").rstrip()
        spans.append(_Span(para_index, match.start(), match.end(), text, match.start(1) + lead))
    return spans


def _attribute(span: _Span, paragraph: str, previous: _Span | None) -> _Speaker | bool:
    """Who says `span` per the text around it; True means "the previous quote's speaker"."""
    # '“... heroically.” He said' starts a new sentence rather than attributing the quote.
    if not span.text.endswith("."):
        speaker = _speaker_after_quote(paragraph[span.end :])
        if speaker is not None:
            return speaker
    speaker = _speaker_before_quote(paragraph[: span.start])
    if speaker is not None:
        return speaker
    if previous is None:
        return False
    if previous.para == span.para:
        # '"A," Peskov said. "B."': B carries on when only the attribution stands between.
        between = paragraph[previous.end : span.start]
        return (
            len(between.split()) <= _MAX_WORDS_BETWEEN_QUOTES
            and re.search(r"[.,:]\s*$", between) is not None
            and _speaker_after_quote(between) is not None
        )
    # A paragraph that is only a quote continues the previous paragraph's last speaker.
    return previous.para == span.para - 1 and (span.start, span.end) == (0, len(paragraph))


class _Anchor:
    """Finds the prefix that makes a quote unique in the article's normalised plain text."""

    def __init__(self, plain: str) -> None:
        self._plain = plain
        self._norm = normalize(plain)

    def prefix_for(self, text: str, src_pos: int) -> str | None:
        """'' if `text` at `src_pos` is unique, else its shortest unique prefix; None if none."""
        needle = normalize(text).strip()
        positions = occurrences(self._norm, needle)
        if len(positions) == 1:
            return ""
        at = len(normalize(self._plain[:src_pos]))
        if at not in positions:
            return None
        words = self._plain[:src_pos].split()
        tail = " " if self._plain[:src_pos][-1:].isspace() else ""
        for count in range(1, len(words) + 1):
            prefix = " ".join(words[-count:]) + tail
            wanted = normalize(prefix).rstrip(" ")
            if sum(_has_prefix(self._norm, p, wanted) for p in positions) == 1:
                return prefix
        return None


def _has_prefix(text: str, position: int, prefix: str) -> bool:
    """Whether `prefix` ends right before `position`, one space at the junction aside."""
    before = position - 1 if position and text[position - 1] == " " else position
    return text.endswith(prefix, 0, before)


@dataclass
class _Proposals:
    """Accumulates accepted quotes, their unique ids and the new people they need."""

    quotes: list[dict[str, object]]
    ids: set[str]
    new_people: dict[str, dict[str, object]]

    def add(self, person: _Person, text: str, prefix: str) -> None:
        """Record one quote with a unique id; register its speaker if people.yaml lacks them."""
        words = " ".join(text.split()[:_ID_WORDS])
        base = _slug(f"{person.name.split()[-1]} {words}")
        quote_id, n = base, 2
        while quote_id in self.ids:
            quote_id, n = f"{base}-{n}", n + 1
        self.ids.add(quote_id)
        quote: dict[str, object] = {"id": quote_id, "text": " ".join(text.split())}
        if prefix:
            quote["prefix"] = prefix
        quote.update({"speaker": person.slug, "context": ""})
        self.quotes.append(quote)
        if person.is_new and person.slug not in self.new_people:
            self.new_people[person.slug] = {"name": person.name, "role": "", "aliases": []}


def _sentences(text: str) -> list[list[str]]:
    """The tokens of each sentence (or fragment) in `text`."""
    return [
        sentence.split()
        for paragraph in text.split("\n\n")
        for sentence in _SENTENCE_BREAK.split(paragraph)
        if sentence.strip()
    ]


def _name_runs(tokens: list[str]) -> list[tuple[int, list[str]]]:
    """(index of first token, words) of every capitalised name run in a sentence."""
    runs: list[tuple[int, list[str]]] = []
    i = 0
    while i < len(tokens):
        run, before = _run_before(tokens[: i + 1]) if _is_name_word(_core(tokens[i])) else ([], "")
        j = i + 1
        # Extend forward while the next token continues the run.
        while j < len(tokens) and run:
            longer, _before = _run_before(tokens[: j + 1])
            if len(longer) <= len(run):
                break
            run, j = longer, j + 1
        if run:
            runs.append((j - len(run), run))
        i = j
        del before
    return runs


def _is_subject(tokens: list[str], start: int) -> bool:
    """Whether only fillers, roles and qualifiers precede a run: it opens the sentence."""
    lead = {_core(token).casefold() for token in tokens[:start]}
    return lead <= _FILLER | _ROLE_WORDS | _LEADING_QUALIFIERS | {""}


class _QuoteFinder:
    """Walks the paragraphs once, attributing each quote from the text and the quote before."""

    def __init__(self, blocks: list[_Block], people: Mapping[str, Mapping[str, object]]) -> None:
        self._plain = "\n\n".join(block.text for block in blocks)
        self._offsets = [0]
        for block in blocks:
            self._offsets.append(self._offsets[-1] + len(block.text) + 2)
        self._paragraphs = [(i, block.text) for i, block in enumerate(blocks) if block.kind == "p"]
        self._resolver = _Resolver(people, self._plain)
        self._anchor = _Anchor(self._plain)
        self.proposals = _Proposals([], set(), {})

    def run(self) -> _Proposals:
        """Propose every quote whose speaker resolves and whose text can be anchored."""
        previous: _Span | None = None
        prev_person: _Person | None = None
        for index, paragraph in self._paragraphs:
            for span in _quote_spans(index, paragraph):
                found = _attribute(span, paragraph, previous)
                person = self._person(found, span, previous, prev_person)
                previous, prev_person = span, person
                if person is not None and len(span.text.split()) >= _MIN_QUOTE_WORDS:
                    self._propose(person, span)
        return self.proposals

    def _propose(self, person: _Person, span: _Span) -> None:
        """Add the quote, with a prefix when its words occur more than once."""
        prefix = self._anchor.prefix_for(span.text, self._offsets[span.para] + span.text_start)
        if prefix is not None:
            self.proposals.add(person, span.text, prefix)

    def _person(
        self,
        found: _Speaker | bool,
        span: _Span,
        previous: _Span | None,
        prev_person: _Person | None,
    ) -> _Person | None:
        """Resolve an attribution; "he" and continued quotes need the previous quote's speaker."""
        if isinstance(found, _Speaker) and found.name:
            return self._resolver.resolve(found.name)
        if not found or prev_person is None or previous is None or previous.para < span.para - 1:
            return None
        between = self._plain[
            self._offsets[previous.para] + previous.end : self._offsets[span.para] + span.start
        ]
        named = {person.slug for person in self._people_named(between)}
        # Anyone else named since the previous quote makes "he" ambiguous: propose nothing.
        return prev_person if named <= {prev_person.slug} else None

    def _people_named(self, text: str) -> list[_Person]:
        """The people `text` names: sentence subjects and names the article uses again."""
        people: list[_Person] = []
        for tokens in _sentences(text):
            for start, run in _name_runs(tokens):
                name = _clean_name(run)
                if name is None:
                    continue
                after = _core(tokens[start + len(run)]) if start + len(run) < len(tokens) else ""
                speaking = _VERB.fullmatch(after) is not None
                subject = " " in name and _is_subject(tokens, start)
                if subject or speaking or self._resolver.is_person(name):
                    person = self._resolver.resolve(name)
                    people.extend([person] if person is not None else [])
        return people


def _propose_quotes(
    blocks: list[_Block], people: Mapping[str, Mapping[str, object]]
) -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
    """Quoted speech with a resolvable speaker, each anchored uniquely in the article text."""
    proposals = _QuoteFinder(blocks, people).run()
    return proposals.quotes, proposals.new_people


# --------------------------------------------------------------------------- files


def _dump(data: object) -> str:
    """Block-style YAML that keeps key order, Unicode and long lines as they are."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=_YAML_WIDTH,
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
        existing = parse_yaml(existing_text, "content/people.yaml").data or {}
    except YamlError as exc:
        raise ImportConflict(
            f"{exc.problem.format_text()}\ncannot add the imported people until "
            "content/people.yaml is fixed"
        ) from None
    if not isinstance(existing, dict):
        raise ImportConflict(f"{path}: expected a mapping of person slugs; fix it and import again")
    missing = {slug: entry for slug, entry in new_people.items() if slug not in existing}
    if not missing:
        return None
    if not existing:
        # "{}" cannot take block entries after it; its comments are all worth keeping.
        kept = [line for line in existing_text.splitlines() if line.lstrip().startswith("#")]
        existing_text = "".join(f"{line}\n" for line in kept)
    elif not existing_text.endswith("\n"):
        existing_text += "\n"
    # Appending keeps the editors' comments and layout, which a full re-dump would lose.
    return existing_text + _dump(missing)


def import_files(root: Path, paths: list[Path], *, force: bool = False) -> list[Path]:
    """Import each file into the site at `root`; people found are added as they go, so a
    speaker introduced by one file is recognised in the next."""
    from digest.scaffold import schema_comment, write_schemas

    content_dir = root / "content"
    written: list[Path] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"{path}:1:1: not valid UTF-8 (byte offset {exc.start}); "
                                    "save the file as UTF-8") from None
        imported = parse_import(text, str(path), _known_people(content_dir / "people.yaml"))
        written += write_import(imported, content_dir, force=force,
                                schema_comment=schema_comment("sidecar", 2))
    write_schemas(root)
    return written


def _known_people(path: Path) -> dict[str, dict[str, object]]:
    if not path.is_file():
        return {}
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), "content/people.yaml").data
    except YamlError as exc:
        raise ImportFormatError(exc.problem.format_text()) from None
    return data if isinstance(data, dict) else {}
