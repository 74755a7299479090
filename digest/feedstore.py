"""Feed entries kept between builds in `.digest-cache/feeds.pickle`.

A feed entry (the article's text with highlights and notes as footnotes, as the JSON
Feed's body and inside its Atom entry) is made only for the articles a feed shows
(`feeds.feed_entry_html`, `feeds.atom_entry`). A build that edits one of them makes its
feeds again, which need every entry: made from nothing that was 50 to 200 entries, 0.6 ms
each, a tenth of a one-sidecar build at 1,000 articles. Entries are kept by article slug
as `feeds.PackedEntry`s, trusted only under the article's input key (its files, the
people registry and the settings: everything a body is made from) and, for the Atom
entry, under its `feeds.atom_entry_context` (topic titles, the settings it shows). The
code that makes them counts too: the file's header names digest's version and the cache
format, so a change to how entries are made (`annotate.feed_body_html`,
`feeds.absolute_feed_html`, `feeds.atom_entry`) between releases must raise
`cache.FORMAT`, as for the articles' cache.
"""

from __future__ import annotations

from pathlib import Path

from digest.annotate import AnnotatedArticle
from digest.cache import BuildCache
from digest.feeds import (
    PackedEntry,
    atom_entry_context,
    remember_atom_entry,
    remember_feed_entry_html,
)
from digest.model import Site
from digest.urls import Urls


class FeedEntryStore:
    """Opened by the first build step that needs a feed entry; `save` keeps the entries
    of every article recalled or kept (a build that makes no feed leaves the file as it
    was)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: BuildCache | None = None

    def _opened(self) -> BuildCache:
        if self._cache is None:
            self._cache = BuildCache(self.root, "feeds")
        return self._cache

    def recall(self, annotated: list[AnnotatedArticle], keys: dict[str, str], site: Site,
               links: Urls) -> list[AnnotatedArticle]:
        """Make the entries stored under the articles' current input keys known to
        `feeds` (still packed: most are not unpacked in a build that makes a few feeds),
        the Atom entry only under its current context; return the articles that lack
        either."""
        cache = self._opened()
        allow_html = site.config.allow_html
        missing = []
        for item in annotated:
            key = keys.get(item.article.slug)
            stored = cache.get(item.article.slug, key) if key else None
            if not (isinstance(stored, tuple) and len(stored) == 2
                    and isinstance(stored[1], PackedEntry)):
                missing.append(item)
                continue
            remember_feed_entry_html(item, allow_html, links, stored[1])
            if stored[0] == atom_entry_context(site, item.article, links):
                remember_atom_entry(site, item, links, stored[1])
            else:  # a topic retitled, say: the body holds, the Atom entry is made again
                missing.append(item)
        return missing

    def retain(self, slugs: list[str], keys: dict[str, str]) -> None:
        """Keep the stored entries of these articles under their current input keys for
        the next build, without making them known to `feeds` (no feed made now shows
        them)."""
        cache = self._opened()
        for slug in slugs:
            if key := keys.get(slug):
                cache.get(slug, key)

    def keep(self, annotated: AnnotatedArticle, keys: dict[str, str], site: Site,
             links: Urls, entry: PackedEntry) -> None:
        if key := keys.get(annotated.article.slug):
            context = atom_entry_context(site, annotated.article, links)
            self._opened().put(annotated.article.slug, key, (context, entry))

    def save(self) -> None:
        if self._cache is not None:
            self._cache.save()
