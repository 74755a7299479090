"""Slugs: the one rule for turning titles into URL-safe names, and checking given ones."""

from __future__ import annotations

import re
import unicodedata

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Names that a slug may not take because they would collide with files the site
# (or the host) owns, or that operating systems treat specially.
RESERVED_SLUGS = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
     *(f"lpt{i}" for i in range(1, 10))}
)
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l",
     "Ł": "l", "œ": "oe", "Œ": "oe", "þ": "th", "ð": "d", "ı": "i"}
)


def slugify(title: str, max_length: int = 80) -> str:
    """A URL-safe name: "Peskov: 'Definitely not'" -> "peskov-definitely-not"."""
    folded = unicodedata.normalize("NFKD", title.translate(_TRANSLITERATE))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = re.sub(r"['’]", "", ascii_text)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or "untitled"


def slug_problem(value: str) -> str | None:
    """Return why `value` is not a valid slug, or None when it is."""
    if not SLUG_RE.match(value):
        return f"'{value}' is not a valid slug (use lower-case letters, digits and hyphens)"
    if value in RESERVED_SLUGS:
        return f"'{value}' is a reserved name"
    return None
