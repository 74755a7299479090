"""Macro output rendered once per build (and kept by `digest serve` between
rebuilds): the `once` template global.

The same card, quote or event shows on many pages: an article's card on the home and
edition pages and on each of its topics' pages, a quote on its topics', its speaker's
and the quotes page. At 5,000 articles the topic pages alone showed 60,000 such
fragments, each a Jinja macro call with a dozen escapes. `{{ once(card, a, 3) }}` calls
the macro the first time and returns the same HTML afterwards; `{{ once_each(card,
articles, 3) }}` does so for each article of a list, joined.

Arguments are matched by identity: the view objects templates receive are made once per
build and shared between the pages that show them (hashing them by value would cost
about as much as rendering them), and small numbers, booleans and the text constants of
templates are single objects in Python. An equal value that is another object only
costs a second rendering. Each entry keeps its arguments alive, so an identity is never
reused by another object while the memo holds it.

A macro's output must depend on its arguments and the environment's globals only, which
holds for macros imported without context (Jinja's default for `{% from ... import %}`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import markupsafe


class FragmentMemo:
    """What `once` returned so far in this build; `clear` frees it (unless kept).

    `digest serve` keeps one memo (`kept=True`) between rebuilds, together with the
    template environment (so the macros are the same objects) and the view objects of
    everything an edit did not touch: a rebuild then renders again only the fragments of
    what changed. A kept memo is not freed by `clear`; `next_build` drops what the
    build before the last did not ask for, unless that build ended with `keep_unused`."""

    def __init__(self, kept: bool = False) -> None:
        self.kept = kept
        self._done: dict[tuple[int, ...], tuple[tuple[object, ...], Any]] = {}
        self._before: dict[tuple[int, ...], tuple[tuple[object, ...], Any]] = {}

    def __call__(self, macro: Any, *args: object, **kwargs: object) -> Any:
        key = (id(macro), *map(id, args))
        if kwargs:
            key += (-1, *(id(part) for item in sorted(kwargs.items()) for part in item))
        found = self._done.get(key)
        if found is None:
            found = self._missing(key, macro, args, kwargs)
        return found[1]

    def each(self, macro: Any, items: Iterable[object], *args: object) -> markupsafe.Markup:
        """`once(macro, item, *args)` for each item, joined: the `once_each` global. A
        list of cards, quotes or events asks for its fragments in one call from the
        template instead of one per item; each template call (Jinja's `context.call`,
        then escaping its result) cost more than finding the fragment, and the topic
        pages alone ask for 125,000 of them at 10,000 articles. Shares its entries
        with `__call__` (the same key for the same arguments)."""
        done = self._done
        macro_id, tail = id(macro), tuple(map(id, args))
        parts = []
        for item in items:
            key = (macro_id, id(item), *tail)
            found = done.get(key)
            if found is None:
                found = self._missing(key, macro, (item, *args), {})
            parts.append(found[1])
        return markupsafe.Markup("".join(parts))

    def _missing(self, key: tuple[int, ...], macro: Any, args: tuple[object, ...],
                 kwargs: dict[str, object]) -> tuple[tuple[object, ...], Any]:
        """A fragment not asked for yet in this build: the last build's, else rendered."""
        found = self._before.pop(key, None) if self._before else None
        if found is None:
            found = self._render(macro, args, kwargs)
        self._done[key] = found
        return found

    @staticmethod
    def _render(macro: Any, args: tuple[object, ...], kwargs: dict[str, object]
                ) -> tuple[tuple[object, ...], Any]:
        """A fragment rendered, and kept with its arguments (so that their identities
        stay taken while the entry lives). The only place one is rendered."""
        return (macro, args, kwargs), macro(*args, **kwargs)

    def __len__(self) -> int:
        return len(self._done)

    def clear(self) -> None:
        """Free the memo between pages that share no fragment (unless it is kept)."""
        if not self.kept:
            self._done.clear()

    def drop(self) -> None:
        """Free everything, kept or not (the memo is not used again)."""
        self._done.clear()
        self._before.clear()

    def keep_unused(self) -> None:
        """End a build that rendered no listing (an edit shown on its own page only):
        the fragments it did not ask for are on the pages it reused, so they count as
        asked for, and stay for the next build that renders those pages."""
        self._before.update(self._done)
        self._done, self._before = self._before, {}

    def next_build(self) -> None:
        """Begin a build: the last build's fragments are found again while the same
        objects are passed; the ones not asked for are dropped at the next call."""
        self._before, self._done = self._done, {}
