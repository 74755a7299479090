"""URL shapes: the only place that decides where a page lives."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Urls:
    """Turns site-relative paths ('articles/x/') into links under the base path."""

    base_url: str

    @cached_property
    def base_path(self) -> str:
        # Asked for by every link of every page: split the URL once.
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def href(self, rel: str) -> str:
        """A root-relative link honouring the base path: '/digest/articles/x/'."""
        return self.base_path + rel.lstrip("/")

    def absolute(self, rel: str) -> str:
        """An absolute URL for feeds, canonical links and structured data."""
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + rel.lstrip("/")


def dest_of(rel: str) -> str:
    """The output file of a site-relative URL: 'articles/x/' -> 'articles/x/index.html'."""
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


def article_rel(slug: str) -> str:
    return f"articles/{slug}/"


def topic_rel(slug: str) -> str:
    return f"topics/{slug}/"


def person_rel(slug: str) -> str:
    return f"people/{slug}/"


def edition_rel(day: str) -> str:
    return f"digests/{day}/"


def page_rel(slug: str) -> str:
    return f"{slug}/"


def home_rel(page: int) -> str:
    """Page 1 of the home listing is the root; later ones live under page/N/."""
    return "" if page == 1 else f"page/{page}/"
