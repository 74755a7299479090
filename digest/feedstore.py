"""Feed entry bodies kept between builds in `.digest-cache/feeds.pickle`.

A feed entry's body (the article's text with highlights and notes as footnotes) is made
only for the articles a feed shows (`feeds.feed_entry_html`). A build that edits one of
them makes its feeds again, which need every entry: made from nothing that was 50 to
200 bodies, 0.5 ms each, a tenth of a one-sidecar build at 1,000 articles. Bodies are
kept by article slug, trusted only under the article's input key (its files, the
registries and the settings: everything a body is made from). The code that makes them
counts too: the file's header names digest's version and the cache format, so a change
to how bodies are made (`annotate.feed_body_html`, `feeds.absolute_feed_html`) between
releases must raise `cache.FORMAT`, as for the articles' cache.
"""

from __future__ import annotations

from pathlib import Path

from digest.annotate import AnnotatedArticle
from digest.cache import BuildCache
from digest.feeds import remember_feed_entry_html
from digest.urls import Urls


class FeedBodyStore:
    """Opened by the first build step that needs a feed body; `save` keeps the bodies of
    every article recalled or kept (a build that makes no feed leaves the file as it
    was)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: BuildCache | None = None

    def _opened(self) -> BuildCache:
        if self._cache is None:
            self._cache = BuildCache(self.root, "feeds")
        return self._cache

    def recall(self, annotated: list[AnnotatedArticle], keys: dict[str, str],
               allow_html: bool, links: Urls) -> list[AnnotatedArticle]:
        """Make the bodies stored under the articles' current input keys known to
        `feeds.feed_entry_html`; return the articles that have none."""
        cache = self._opened()
        missing = []
        for item in annotated:
            key = keys.get(item.article.slug)
            stored = cache.get(item.article.slug, key) if key else None
            if isinstance(stored, str):
                remember_feed_entry_html(item, allow_html, links, stored)
            else:
                missing.append(item)
        return missing

    def keep(self, annotated: AnnotatedArticle, keys: dict[str, str], html: str) -> None:
        if key := keys.get(annotated.article.slug):
            self._opened().put(annotated.article.slug, key, html)

    def save(self) -> None:
        if self._cache is not None:
            self._cache.save()
