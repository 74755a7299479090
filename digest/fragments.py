"""Macro output rendered once per build: the `once` template global.

The same card, quote or event shows on many pages: an article's card on the home and
edition pages and on each of its topics' pages, a quote on its topics', its speaker's
and the quotes page. At 5,000 articles the topic pages alone showed 60,000 such
fragments, each a Jinja macro call with a dozen escapes. `{{ once(card, a, 3) }}` calls
the macro the first time and returns the same HTML afterwards.

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

from typing import Any


class FragmentMemo:
    """What `once` returned so far in this build; `clear` frees it."""

    def __init__(self) -> None:
        self._done: dict[tuple[int, ...], tuple[tuple[object, ...], Any]] = {}

    def __call__(self, macro: Any, *args: object, **kwargs: object) -> Any:
        key = (id(macro), *map(id, args))
        if kwargs:
            key += (-1, *(id(part) for item in sorted(kwargs.items()) for part in item))
        found = self._done.get(key)
        if found is not None:
            return found[1]
        html = macro(*args, **kwargs)
        self._done[key] = ((macro, args, kwargs), html)
        return html

    def __len__(self) -> int:
        return len(self._done)

    def clear(self) -> None:
        self._done.clear()
