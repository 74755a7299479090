#!/usr/bin/env python3
"""Generate a synthetic annotated digest site (and optionally the same articles as a Hugo site).

Usage: python benchmarks/generate.py N OUT_DIR [--seed 1] [--corpus PATH] [--hugo HUGO_DIR]

Article text is recombined from the Wikinews corpus so that it reads like news and
stresses the Markdown renderer and the anchor matcher the way real content does.
The output depends only on N, the seed and the corpus (random.Random(seed), sorted
iteration), so two runs produce byte-identical sites.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "wikinews"
FIXTURE_CORPUS = REPO_ROOT / "tests" / "fixtures" / "import" / "wikinews"

BASE_URL = "https://example.github.io/bench/"
TARGET_WORDS = (610, 710)  # the last paragraph overshoots by ~40 words
FIRST_DAY = dt.date(2019, 1, 1)
DAY_SPAN = 3 * 365 + 1  # "about three years" of publication dates
NOTE_KINDS = ("context", "analysis", "fact-check", "correction")
RATINGS = ("True", "Mostly true", "Half true", "Misleading", "Mostly false", "False")
SECTIONS = ("World", "Politics", "Science", "Disasters", "Business", "Health", "Crime", "Sport")


def _lines(text: str) -> tuple[str, ...]:
    """One entry per line: keeps the long word lists below compact and easy to edit."""
    return tuple(line.strip() for line in text.strip().splitlines())


def _words(text: str) -> tuple[str, ...]:
    """One entry per whitespace-separated word (for lists of single-word names)."""
    return tuple(text.split())


SUBHEADINGS = _lines("""
Background
Reactions
What happens next
The investigation
Official response
Earlier events
Local impact
International reaction
Aftermath
Key figures
""")

# Characters that are Markdown syntax (or HTML/entity syntax) in CommonMark. Paragraphs
# containing them are skipped so that each paragraph's rendered text equals its source,
# which is what lets quotes and anchors be copied from the source and still match.
UNSAFE_PARAGRAPH_CHARS = frozenset("*_`#<>|~\\&")
# Quote/anchor spans must not contain these, per the brief: they would not survive rendering.
SPAN_FORBIDDEN_CHARS = frozenset("*[]`#_<>\\&|~")
LIST_OR_BLOCK_START = re.compile(r"^(\d{1,9}[.)](\s|$)|[-+*>=#]|\s)")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[A-Z\"“‘(])")
PLAIN_WORD = re.compile(r"^[A-Za-z]{2,}$")
SPAN_EDGE_PUNCT = "\"'“”‘’()[],.;:!?—–-"
QUOTE_MAP = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "–": "-",
        "—": "-",
        "‒": "-",
        "―": "-",
        "\u00a0": " ",
    }
)

TOPIC_TITLES = _lines("""
Elections
Climate change
Natural disasters
Aviation safety
Public health
Pandemic response
Space exploration
Courts and justice
Terrorism
Migration
Trade policy
Energy
Human rights
Armed conflict
Diplomacy
Education
Technology
Cybersecurity
Transport
Wildlife
Archaeology
Protests
Corruption
Economy
Labour
Housing
Religion
Sport governance
Media freedom
Elections in Europe
US Congress
Middle East
East Asia
Africa
Latin America
Oceans
Fires
Earthquakes
Infrastructure
Scientific research
""")
FIRST_NAMES = _words("""
Anna Ben Carla David Elena Farid Grace Hiro Ines Jonas Kemal Lena Marek Nadia Oscar
Priya Quentin Rosa Samuel Tamar Ugo Vera Wei Ximena Yusuf Zofia Amara Bruno Chen Dalia
""")
LAST_NAMES = _words("""
Abbott Bauer Castillo Dimitrov Eriksen Fontaine Garcia Hassan Ivanova Jensen Kowalski
Lindqvist Moreau Nakamura Okafor Petrov Quinn Rossi Schmidt Tanaka Urban Varga Walsh Xu
Yilmaz Zhang
""")
ROLES = _lines("""
Foreign minister
Health minister
Police spokesperson
Mayor
Senator
Member of parliament
Union leader
Professor of economics
Climate scientist
Emergency services chief
Company spokesperson
Human rights lawyer
Prime minister
Defence analyst
UN envoy
Opposition leader
Judge
Airline chief executive
Epidemiologist
Activist
""")


@dataclass(frozen=True, slots=True)
class CorpusArticle:
    """One Wikinews article: title, date, URL and its usable body paragraphs."""

    title: str
    date: dt.date
    url: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PoolEvent:
    """An event several sidecars share by id, so digest has to merge them."""

    id: str
    date: Any
    title: str


@dataclass(slots=True)
class GenerationReport:
    """What was written, for run.py and for the command line."""

    articles: int = 0
    words: int = 0
    seconds: float = 0.0
    hugo_pagination_key: str = ""


# ---------------------------------------------------------------------------------------
# Corpus


def find_corpus(explicit: Path | None) -> Path:
    """Return the corpus folder: the given one, the shared one, or the test fixture copy."""
    if explicit is not None:
        if not explicit.is_dir():
            raise SystemExit(f"error: corpus folder {explicit} does not exist")
        return explicit
    for candidate in (SHARED_CORPUS, FIXTURE_CORPUS):
        if candidate.is_dir():
            return candidate
    raise SystemExit(
        f"error: no corpus found at {SHARED_CORPUS} or {FIXTURE_CORPUS}; pass --corpus PATH"
    )


def usable_paragraph(text: str) -> bool:
    """Keep only prose paragraphs whose CommonMark rendering is the text itself."""
    if "\n" in text or len(text.split()) < 15:
        return False
    if LIST_OR_BLOCK_START.match(text) or not (text[0].isalnum() or text[0] in "\"“‘'("):
        return False
    # "](" could form an inline link and "http" an autolink-looking URL in some renderers.
    return not (UNSAFE_PARAGRAPH_CHARS & set(text) or "](" in text or "http" in text)


def load_corpus(folder: Path) -> list[CorpusArticle]:
    """Read every article file (title, date, URL, blank line, paragraphs) in name order."""
    articles: list[CorpusArticle] = []
    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        if len(lines) < 5 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", lines[1].strip()):
            continue  # LICENSE.txt, NOTICE.txt and anything else that is not an article
        body = "\n".join(lines[4:])
        paragraphs = tuple(
            p.strip() for p in re.split(r"\n\s*\n", body) if usable_paragraph(p.strip())
        )
        if len(paragraphs) >= 2:
            articles.append(
                CorpusArticle(
                    title=lines[0].strip(),
                    date=dt.date.fromisoformat(lines[1].strip()),
                    url=lines[2].strip(),
                    paragraphs=paragraphs,
                )
            )
    if len(articles) < 10:
        raise SystemExit(f"error: only {len(articles)} usable articles in {folder}")
    return articles


def sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences; good enough for news prose."""
    return [s for s in SENTENCE_SPLIT.split(paragraph) if s.strip()]


# ---------------------------------------------------------------------------------------
# Text matching (mirrors digest's anchor normalisation, but stricter: case-folded)


def normalise(text: str) -> str:
    """NFC, straight quotes and hyphens, collapsed whitespace, case-folded."""
    text = unicodedata.normalize("NFC", text).translate(QUOTE_MAP)
    return " ".join(text.split()).casefold()


def occurrences(haystack: str, needle: str) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence of needle."""
    found: list[int] = []
    start = haystack.find(needle)
    while start >= 0:
        found.append(start)
        start = haystack.find(needle, start + 1)
    return found


def pick_span(
    rng: Random, source: Sequence[str], haystack: str, taken: list[tuple[int, int]]
) -> str:
    """Pick 4-8 consecutive words of one sentence that occur exactly once in haystack
    and do not overlap an already taken span."""
    for _ in range(500):
        words = rng.choice(source).split()
        if len(words) < 4:
            continue
        length = rng.randint(4, min(8, len(words)))
        start = rng.randint(0, len(words) - length)
        # Trim punctuation at the edges so a quote reads as a phrase, not a fragment.
        span = " ".join(words[start : start + length]).strip(SPAN_EDGE_PUNCT).strip()
        if len(span.split()) < 4 or SPAN_FORBIDDEN_CHARS & set(span):
            continue
        hits = occurrences(haystack, normalise(span))
        if len(hits) != 1:
            continue
        begin, end = hits[0], hits[0] + len(normalise(span))
        if any(begin < t_end and t_begin < end for t_begin, t_end in taken):
            continue
        taken.append((begin, end))
        return span
    raise RuntimeError("could not find a unique span; the article is too short or repetitive")


# ---------------------------------------------------------------------------------------
# Registries


def slugify(text: str) -> str:
    """The same shape of slug as digest.slugs.slugify, without importing the package."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"['’]", "", folded.lower())
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "untitled"


def make_topics() -> dict[str, dict[str, str]]:
    """About 40 topics with a title and a one-line description."""
    return {
        slugify(title): {
            "title": title,
            "description": f"{title}: reporting and analysis from the wires.",
        }
        for title in TOPIC_TITLES
    }


def make_people(rng: Random, count: int = 200) -> dict[str, dict[str, str]]:
    """About 200 people, names drawn from fixed lists so the registry is reproducible."""
    people: dict[str, dict[str, str]] = {}
    while len(people) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        slug = slugify(name)
        if slug not in people:
            people[slug] = {"name": name, "role": rng.choice(ROLES)}
    return dict(sorted(people.items()))


def fuzzy_date(rng: Random, day: dt.date) -> Any:
    """A date at year, month or day precision, typed as an editor would write it in YAML
    (2019 is an int, 2019-05 a string, 2019-05-04 a date)."""
    roll = rng.random()
    if roll < 0.2:
        return day.year
    if roll < 0.5:
        return f"{day.year:04d}-{day.month:02d}"
    return day


def make_event_pool(rng: Random, corpus: Sequence[CorpusArticle], size: int) -> list[PoolEvent]:
    """Events with fixed id, date and title; every sidecar that uses one repeats it exactly."""
    pool = []
    for k, source in enumerate(rng.sample(list(corpus), min(size, len(corpus)))):
        pool.append(
            PoolEvent(
                id=f"shared-{k:03d}-{slugify(source.title)[:40].rstrip('-')}",
                date=fuzzy_date(rng, source.date),
                title=source.title,
            )
        )
    return pool


# ---------------------------------------------------------------------------------------
# One article


@dataclass(frozen=True, slots=True)
class Article:
    """Everything written for one article, in both the digest and the Hugo form."""

    stem: str
    front_matter: dict[str, Any]
    body: str
    sidecar: dict[str, Any]
    words: int


def decorate(rng: Random, paragraph: str, make: str) -> str | None:
    """Wrap 1-4 plain words of a paragraph in emphasis or a link; None if none fit."""
    tokens = paragraph.split(" ")
    width = rng.randint(1, 2) if make == "*" else rng.randint(2, 4)
    starts = [
        i
        for i in range(len(tokens) - width + 1)
        if all(PLAIN_WORD.match(t) for t in tokens[i : i + width])
    ]
    if not starts:
        return None
    i = rng.choice(starts)
    phrase = " ".join(tokens[i : i + width])
    wrapped = f"*{phrase}*" if make == "*" else f"[{phrase}]({make})"
    return " ".join([*tokens[:i], wrapped, *tokens[i + width :]])


def link_url(url: str) -> str:
    """Percent-encode what would end or confuse a Markdown link destination."""
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def make_article(
    index: int,
    n: int,
    rng: Random,
    corpus: Sequence[CorpusArticle],
    topics: Sequence[str],
    people: Sequence[str],
    pool: Sequence[PoolEvent],
) -> Article:
    """Recombine corpus paragraphs into a ~700-word article and annotate it."""
    primary = rng.choice(corpus)
    target = rng.randint(*TARGET_WORDS)
    paragraphs: list[str] = []
    words = 0
    heading: str | None = None
    heading_at = 0
    # The primary story first, then further stories until the target length is reached;
    # the first appended story gets the subheading so it reads like a related section.
    sources = [primary]
    while words < target:
        source = sources[-1]
        for paragraph in source.paragraphs:
            if words >= target:
                break
            length = len(paragraph.split())
            # Skip a paragraph that would overshoot the target by far, so the articles
            # stay "about 700 words"; give up on that after many stories (tiny corpora).
            if words + length > target + 80 and len(paragraphs) >= 3 and len(sources) < 20:
                continue
            paragraphs.append(paragraph)
            words += length
        if words < target:
            # A story already used would repeat its paragraphs word for word.
            extra = rng.choice([c for c in corpus if c not in sources] or list(corpus))
            if heading is None and len(paragraphs) >= 2:
                heading = " ".join(extra.title.split()[:8]).rstrip(":,;-")
                heading_at = len(paragraphs)
            sources.append(extra)
    if heading is None:
        heading = rng.choice(SUBHEADINGS)
        heading_at = max(1, len(paragraphs) // 2)
    heading = heading.replace("#", "").strip()

    # Decorate two paragraphs (not the lede) and keep the rest as span sources, so the
    # quotes never straddle an <em> or <a> element in the rendered page.
    decorated: dict[int, str] = {}
    candidates = list(range(1, len(paragraphs)))
    rng.shuffle(candidates)
    for make in ("*", link_url(rng.choice(sources).url)):
        for i in candidates:
            if i in decorated:
                continue
            result = decorate(rng, paragraphs[i], make)
            if result is not None:
                decorated[i] = result
                break

    blocks: list[str] = []
    for i, paragraph in enumerate(paragraphs):
        if i == heading_at:
            blocks.append(f"## {heading}")
        blocks.append(decorated.get(i, paragraph))
    body = "\n\n".join(blocks) + "\n"

    lede = sentences(paragraphs[0])
    title = primary.title
    standfirst = lede[0]
    # The haystack is everything a reader sees as article text (title, standfirst,
    # heading, paragraphs as rendered), so uniqueness holds whatever digest matches on.
    haystack = normalise("\n".join([title, standfirst, heading, *paragraphs]))
    span_sources = [s for i, p in enumerate(paragraphs) if i not in decorated for s in sentences(p)]
    taken: list[tuple[int, int]] = []

    day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAY_SPAN))
    stem = f"a{index:05d}-{slugify(title)[:50].rstrip('-')}"
    article_topics = sorted(rng.sample(list(topics), rng.randint(2, 4)))

    quotes = []
    callout_at = rng.randrange(2)
    for k in range(2):
        quotes.append(
            {
                "text": pick_span(rng, span_sources, haystack, taken),
                "speaker": rng.choice(people),
                "callout": k == callout_at,
            }
        )

    notes = []
    for _ in range(2):
        kind = rng.choice(NOTE_KINDS)
        other = rng.choice(corpus)
        note: dict[str, Any] = {
            "anchor": pick_span(rng, span_sources, haystack, taken),
            "kind": kind,
            "text": rng.choice(sentences(rng.choice(other.paragraphs))),
            "sources": [
                {"title": src.title, "url": src.url}
                for src in rng.sample(list(corpus), rng.randint(1, 2))
            ],
        }
        if kind == "fact-check":
            note["rating"] = rng.choice(RATINGS)
        notes.append(note)

    events: list[dict[str, Any]] = []
    for k in range(rng.randint(1, 2)):
        if rng.random() < 0.3:
            shared = rng.choice(pool)
            if any(e["id"] == shared.id for e in events):
                continue
            events.append({"date": shared.date, "title": shared.title, "id": shared.id})
        else:
            when = day - dt.timedelta(days=rng.randrange(0, 400))
            events.append(
                {
                    "date": fuzzy_date(rng, when),
                    "title": rng.choice(sources).title,
                    "id": f"ev-a{index:05d}-{k}",
                }
            )

    related = sorted(
        {j for j in (rng.randrange(n) for _ in range(rng.randint(0, 2))) if j != index}
    )
    sidecar: dict[str, Any] = {
        # Not the lede: the standfirst already repeats it on the article page.
        "summary": " ".join(sentences(paragraphs[1])[:2]),
        "topics": article_topics,
        "quotes": quotes,
        "notes": notes,
        "events": events,
        "related": related,  # indexes for now; the caller turns them into stems
    }
    front_matter = {
        "title": title,
        "date": day,
        "section": rng.choice(SECTIONS),
        "standfirst": standfirst,
        "source": "Wikinews",
        "source_url": primary.url,
    }
    return Article(stem, front_matter, body, sidecar, sum(len(p.split()) for p in paragraphs))


# ---------------------------------------------------------------------------------------
# Writing


# libyaml's emitter is a port of the pure-Python one and gave byte-identical output on
# every file of a 1,000-article site; it is ~6x faster, which matters at N = 10,000.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data: Any) -> str:
    """YAML as an editor would write it: block style, key order kept, Unicode as is."""
    text: str = yaml.dump(
        data,
        Dumper=_DUMPER,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def digest_site_toml(title: str) -> str:
    """The structure of the repository's site.toml, for a benchmark site."""
    return f"""[site]
title = "{title}"
description = "Synthetic annotated news digest for benchmarks"
base_url = "{BASE_URL}"
language = "en"
timezone = "Europe/Berlin"
author = "The benchmark desk"
cname = ""

[build]
output = "_site"
theme = "default"
per_page = 10

[markdown]
allow_html = false

[search]
enabled = false

[extra]
"""


def installed_hugo_version() -> tuple[int, int] | None:
    """(major, minor) of the hugo on PATH, or None when there is none."""
    exe = shutil.which("hugo")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"v(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else None


def hugo_toml(version: tuple[int, int] | None) -> str:
    """hugo.toml with the keys the installed Hugo understands.

    Hugo 0.128 moved `paginate` to `[pagination] pagerSize` and 0.125 moved `rssLimit`
    to `[services.rss] limit`; old keys are deprecated (and later removed) upstream,
    new ones are ignored by old versions. Without a hugo on PATH assume Debian's
    (0.111 in bookworm). The feed limit keeps Hugo's feeds the size of digest's instead
    of every article in every feed.
    """
    version = version or (0, 111)
    new_pagination = version >= (0, 128)
    new_rss = version >= (0, 125)
    top = [
        f'baseURL = "{BASE_URL}"',
        'title = "Bench Digest"',
        'languageCode = "en"',
        "enableRobotsTXT = true",
    ]
    if not new_pagination:
        top.append("paginate = 10")
    if not new_rss:
        top.append("rssLimit = 20")
    tables = ["[taxonomies]", '  tag = "tags"']
    if new_pagination:
        tables += ["", "[pagination]", "  pagerSize = 10"]
    if new_rss:
        tables += ["", "[services.rss]", "  limit = 20"]
    return "\n".join(top) + "\n\n" + "\n".join(tables) + "\n"


HUGO_LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="{{ .Site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ .Site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
</head>
<body>
<header><a href="{{ "" | relURL }}">{{ .Site.Title }}</a> ·
<a href="{{ "tags/" | relURL }}">Tags</a></header>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
""",
    "_default/single.html": """{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time></p>
<ul>{{ range .GetTerms "tags" }}
<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ .Content }}
</article>
{{ end }}
""",
    "_default/list.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
{{ end }}
""",
    "_default/taxonomy.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
""",
    "_default/term.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Pages }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<time>{{ .Date.Format "2006-01-02" }}</time></li>{{ end }}</ul>
{{ end }}
""",
    # Every regular page is a post, so the index pages them all directly: the usual
    # `.Paginate (where .Site.RegularPages "Section" "posts")` re-runs the `where` for
    # each of the N/10 pager pages, which made Hugo's index O(N^2) (14 of 20 CPU-seconds
    # at N = 5,000 with Hugo 0.111) and the reference needlessly slow.
    "index.html": """{{ define "main" }}
{{ $pager := .Paginate .Site.RegularPages }}
<ul>{{ range $pager.Pages }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<time>{{ .Date.Format "2006-01-02" }}</time><p>{{ .Params.standfirst }}</p></li>{{ end }}</ul>
{{ template "_internal/pagination.html" . }}
{{ end }}
""",
}


def prepare_dir(path: Path, force: bool) -> None:
    """Create an empty output folder; refuse to mix with an earlier site unless forced."""
    if path.exists() and any(path.iterdir()):
        if not force:
            raise SystemExit(f"error: {path} is not empty; pass --force to replace it")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


# What a --plain sidecar keeps: the topics (Hugo's tags) and the summary (which run.py's
# one-sidecar rebuild edits).
PLAIN_SIDECAR_KEYS = ("summary", "topics")


def generate(
    n: int,
    out_dir: Path,
    *,
    seed: int = 1,
    corpus_dir: Path | None = None,
    hugo_dir: Path | None = None,
    force: bool = False,
    plain: bool = False,
) -> GenerationReport:
    """Write a digest site of n annotated articles (and the Hugo twin if asked).

    With `plain`, the same articles and topics, but each sidecar keeps only its topics
    and summary, and the people registry is empty: no quotes, notes, events or related
    articles, so no person pages. What digest then builds is close to what the Hugo twin
    builds (article, topic and index pages), which tells the cost of the annotations
    apart from the rest."""
    started = time.perf_counter()
    rng = Random(seed)
    corpus = load_corpus(find_corpus(corpus_dir))
    topics = make_topics()
    people = make_people(rng)
    pool = make_event_pool(rng, corpus, size=max(10, min(60, n // 20)))
    topic_slugs, people_slugs = sorted(topics), sorted(people)

    articles = [make_article(i, n, rng, corpus, topic_slugs, people_slugs, pool) for i in range(n)]
    stems = [a.stem for a in articles]

    prepare_dir(out_dir, force)
    (out_dir / "site.toml").write_text(digest_site_toml("Bench Digest"), encoding="utf-8")
    content = out_dir / "content"
    article_dir = content / "articles"
    article_dir.mkdir(parents=True)
    (content / "topics.yaml").write_text(dump_yaml(topics), encoding="utf-8")
    (content / "people.yaml").write_text(dump_yaml({} if plain else people), encoding="utf-8")

    report = GenerationReport(articles=n)
    for article in articles:
        article.sidecar["related"] = [stems[j] for j in article.sidecar["related"]]
        sidecar = ({key: article.sidecar[key] for key in PLAIN_SIDECAR_KEYS} if plain
                   else article.sidecar)
        (article_dir / f"{article.stem}.md").write_text(
            f"---\n{dump_yaml(article.front_matter)}---\n\n{article.body}", encoding="utf-8"
        )
        (article_dir / f"{article.stem}.yaml").write_text(dump_yaml(sidecar), encoding="utf-8")
        report.words += article.words

    if hugo_dir is not None:
        version = installed_hugo_version()
        config = hugo_toml(version)
        report.hugo_pagination_key = "pagerSize" if "pagerSize" in config else "paginate"
        prepare_dir(hugo_dir, force)
        (hugo_dir / "hugo.toml").write_text(config, encoding="utf-8")
        for rel, text in HUGO_LAYOUTS.items():
            target = hugo_dir / "layouts" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        posts = hugo_dir / "content" / "posts"
        posts.mkdir(parents=True)
        for article in articles:
            front = {
                "title": article.front_matter["title"],
                "date": article.front_matter["date"],
                "tags": article.sidecar["topics"],
                "standfirst": article.front_matter["standfirst"],
            }
            (posts / f"{article.stem}.md").write_text(
                f"---\n{dump_yaml(front)}---\n\n{article.body}", encoding="utf-8"
            )

    report.seconds = time.perf_counter() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of articles")
    parser.add_argument("out_dir", type=Path, help="folder for the digest site")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help=f"Wikinews corpus folder (default {SHARED_CORPUS})",
    )
    parser.add_argument(
        "--hugo",
        type=Path,
        default=None,
        metavar="HUGO_DIR",
        help="also write the same articles as a plain Hugo site here",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace OUT_DIR / HUGO_DIR if they are not empty"
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="sidecars with topics and summary only, no people: the annotations left out",
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    report = generate(
        args.n,
        args.out_dir,
        seed=args.seed,
        corpus_dir=args.corpus,
        hugo_dir=args.hugo,
        force=args.force,
        plain=args.plain,
    )
    print(
        f"wrote {report.articles} articles ({report.words} words, "
        f"{report.words / report.articles:.0f} per article) in {report.seconds:.2f} s"
        + (f"; hugo pagination key: {report.hugo_pagination_key}" if args.hugo else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
