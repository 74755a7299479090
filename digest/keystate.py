"""What `digest build` keeps between builds of its page keys' inputs (`KeyInputs`) and
of its merged chronology, in `.digest-cache/keys-*.pickle` (one per output folder: see
targets.py).

With them a build after an edit keys again only the pages the edit can have changed,
as `digest serve` does (see changes.py), instead of every page of the site: at 10,000
articles, keying every article and listing page again, merging the chronology and
reading every article for the sitemap took a fifth of a one-sidecar rebuild.

They describe one build's pages, so they are trusted only with exactly those pages:
each build draws a new token, kept both here and in the output's state (build.py); a
build whose output state holds another token (a build that stopped between the two
saves, a lost table) finds none, and keys every page as before.

Records are kept as strings and plain tuples: pickling a named tuple runs Python code
for each (its `__getnewargs__`), and at 10,000 articles writing the table took 0.1 s
that way. The merged chronology is kept pickled on its own, and written back as it was
while it is the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path

from digest.cache import BuildCache
from digest.changes import KeyInputs, ListedArticle
from digest.collector import plain_data_arriving
from digest.dates import FuzzyDate
from digest.model import Article, ChronologyEntry
from digest.targets import table_name
from digest.validate import MergeMemo

_Plain = tuple[object, ...]
# Control characters, in YAML text only as escapes: fields, and the items of a list.
_SEP, _ITEM = "\x1f", "\x1e"


def _listing(article: Article | ListedArticle) -> str | ListedArticle:
    """What the listings show of an article, as one string when none of its parts holds
    a separator (a string pickles at a tenth of the cost of a record with a date)."""
    listed = article if isinstance(article, ListedArticle) else ListedArticle(
        article.title, article.date, article.topics,
        tuple(dict.fromkeys(q.speaker for q in article.quotes)))
    texts = (listed.title, *listed.topics, *listed.speakers)
    if any(_SEP in text or _ITEM in text for text in texts) or "" in texts[1:]:
        return listed
    return _SEP.join((listed.date.isoformat(), listed.title, _ITEM.join(listed.topics),
                      _ITEM.join(listed.speakers)))


class _Listed(Mapping[str, ListedArticle]):
    """The last build's articles as the listings showed them, made into records only
    when asked for (the few an edit changed)."""

    def __init__(self, kept: dict[str, str | ListedArticle]) -> None:
        self.kept = kept

    def __getitem__(self, slug: str) -> ListedArticle:
        found = self.kept[slug]
        if isinstance(found, ListedArticle):
            return found
        day, title, topics, speakers = found.split(_SEP)
        return ListedArticle(title, dt.date.fromisoformat(day),
                             tuple(topics.split(_ITEM)) if topics else (),
                             tuple(speakers.split(_ITEM)) if speakers else ())

    def __contains__(self, slug: object) -> bool:
        return slug in self.kept

    def __iter__(self) -> Iterator[str]:
        return iter(self.kept)

    def __len__(self) -> int:
        return len(self.kept)


def _plain_entry(entry: ChronologyEntry) -> _Plain:
    return (entry.key, tuple(entry.date), entry.title,
            tuple(entry.end) if entry.end is not None else None, *entry[4:])


def _entry(plain: _Plain) -> ChronologyEntry:
    key, date, title, end, *rest = plain
    return ChronologyEntry(key, FuzzyDate(*date), title,  # type: ignore[arg-type, misc]
                           FuzzyDate(*end) if end is not None else None,  # type: ignore[misc]
                           *rest)  # type: ignore[arg-type]


class KeyState:
    """The table, opened once per build: `load` before the analysis, `save` after the
    output is in place."""

    def __init__(self, root: Path, target: Path) -> None:
        self.cache = BuildCache(root, table_name("keys", target))
        self.target = str(target)
        self._loaded: KeyInputs | None = None
        self._listed: dict[str, str | ListedArticle] = {}
        # The merged chronology kept, pickled: written back as it is while unchanged.
        self._merged: tuple[object, tuple[ChronologyEntry, ...], bytes] | None = None

    def load(self, token: str) -> tuple[KeyInputs | None, MergeMemo]:
        """The KeyInputs and merge memo kept by the build that drew `token`; (None, an
        empty memo) when there are none for it."""
        stored = self.cache.get(self.target, token) if token else None
        if not (isinstance(stored, tuple) and len(stored) == 3
                and isinstance(stored[0], KeyInputs) and isinstance(stored[1], dict)):
            return None, {}
        inputs, listed, merged = stored
        self._listed = listed
        self._loaded = dataclasses.replace(inputs, articles=_Listed(listed))
        merges: MergeMemo = {}
        if merged is not None:
            made, blob = merged
            with plain_data_arriving():
                chronology = tuple(_entry(e) for e in pickle.loads(blob))
            self._merged = (made, chronology, blob)
            merges["chronology"] = (made, chronology)
        return self._loaded, merges

    def save(self, token: str, inputs: KeyInputs | None, merges: MergeMemo) -> None:
        """Keep what this build's page keys were made from, under its `token` (the
        articles themselves are in the articles' cache: only what the listings show of
        each is kept here, taken from the last build for each article not changed).
        Without KeyInputs (no page keyed) nothing is kept."""
        if inputs is not None:
            last = self._loaded.article_keys if self._loaded is not None else {}
            listed = {slug: self._listed[slug] if slug in self._listed
                      and last.get(slug) == inputs.article_keys.get(slug)
                      else _listing(article)
                      for slug, article in inputs.articles.items()}
            merge = merges.get("chronology")
            merged = None
            if merge is not None:
                kept = self._merged
                blob = (kept[2] if kept is not None and kept[1] is merge[1]
                        else pickle.dumps(tuple(_plain_entry(e) for e in merge[1]),
                                          protocol=pickle.HIGHEST_PROTOCOL))
                merged = (merge[0], blob)
            self.cache.put(self.target, token,
                           (dataclasses.replace(inputs, articles={}), listed, merged))
        self.cache.save()


def new_token() -> str:
    """A build's token: drawn afresh, so that no two builds share one."""
    return secrets.token_hex(16)
