"""Feed entry bodies kept between builds in `.digest-cache/feeds.pickle`.

A feed entry's body (the article's text with highlights and notes as footnotes) is made
only for the articles a feed shows (`feeds.feed_entry_html`). A build that edits one of
them makes its feeds again, which need every entry: made from nothing that was 50 to
200 bodies, 0.5 ms each, a tenth of a one-sidecar build at 1,000 articles. Bodies are
kept by article slug, trusted only under the article's input key (its files, the
registries and the settings: everything a body is made from).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from digest.annotate import AnnotatedArticle
from digest.cache import BuildCache
from digest.feeds import feed_entry_html, remember_feed_entry_html
from digest.urls import Urls


class FeedBodyStore:
    """Opened by the first feed a build makes; `save` keeps the bodies of every article
    in a feed (a build that makes no feed leaves the file as it was)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: BuildCache | None = None

    def fill(self, annotated: Iterable[AnnotatedArticle], keys: dict[str, str],
             allow_html: bool, links: Urls) -> None:
        """Make the bodies of `annotated` known to `feed_entry_html`: those stored under
        the same input key as they are, the others made and stored."""
        if self._cache is None:
            self._cache = BuildCache(self.root, "feeds")
        cache = self._cache
        for item in annotated:
            slug = item.article.slug
            key = keys.get(slug)
            if not key:
                continue
            stored = cache.get(slug, key)
            if isinstance(stored, str):
                remember_feed_entry_html(item, allow_html, links, stored)
            else:
                cache.put(slug, key, feed_entry_html(item, allow_html, links))

    def save(self) -> None:
        if self._cache is not None:
            self._cache.save()
