"""Page reuse: the previous build's pages, and keys for pages not keyed by inputs.

A page's key must change whenever its bytes could, and be cheap to compute for every
page of the site on every rebuild. Most pages are keyed by their inputs (see
`render.SiteRenderer`); the few others (plain pages, search, and any page a renderer
gives no key) by everything their template receives, hashed as a tree (a Merkle
hash): each view object is hashed once, from its fields and the hashes of the views
inside it. `ViewCache` keeps views between `digest serve`'s rebuilds.
"""

from __future__ import annotations

import hashlib
import pickle
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, TypeVar

import jinja2

from digest.cache import content_hash
from digest.fragments import FragmentMemo
from digest.writer import OutputFile

if TYPE_CHECKING:
    from digest.changes import KeyInputs
    from digest.validate import MergeMemo

T = TypeVar("T")
_SCALARS = (str, int, float, bool, type(None), bytes)


class ValueHasher:
    """Hashes of view values. The hash of each view object (immutable, so it cannot
    change) is remembered with the object: a frozen dataclass by a weak reference, so
    that the memo keeps no page alive and an id reused by a new object after the old
    one died is noticed; a named tuple (views.py), which takes no weak reference, by
    the object itself, kept alive as long as the hasher (one build, whose views live
    that long anyway), so that its id cannot be reused meanwhile."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[weakref.ref[object], bytes]] = {}
        self._kept: dict[int, tuple[object, bytes]] = {}
        self._fields: dict[type, tuple[str, ...]] = {}

    def hash(self, value: object) -> bytes:
        known = self._memo.get(id(value))
        if known is not None and known[0]() is value:
            return known[1]
        kept = self._kept.get(id(value))
        if kept is not None and kept[0] is value:
            return kept[1]
        kind = type(value)
        if kind in _SCALARS:
            return pickle.dumps(value, protocol=5)
        # Scalars go into their container's hash as they are (pickle tells a str from
        # the bytes of a hash), other values as `_nested` gives them. Inlined rather
        # than a helper: this runs for every value of every page.
        scalars, hash_of = _SCALARS, self._nested
        if kind is tuple or kind is list:
            parts: list[object] = [kind.__name__]  # type: ignore[attr-defined]
            parts += [v if type(v) in scalars else hash_of(v)
                      for v in value]  # type: ignore[attr-defined]
        elif kind is dict:
            parts = ["dict"]
            for k, v in sorted(value.items()):  # type: ignore[attr-defined]
                parts += [k if type(k) in scalars else hash_of(k),
                          v if type(v) in scalars else hash_of(v)]
        elif is_dataclass(value) or hasattr(kind, "_fields"):  # a dataclass, a named tuple
            names = self._fields.get(kind)
            if names is None:
                names = self._fields[kind] = (
                    kind._fields if hasattr(kind, "_fields")  # type: ignore[attr-defined]
                    else tuple(f.name for f in fields(value)))
            parts = [kind.__qualname__]
            for name in names:
                v = getattr(value, name)
                parts.append(v if type(v) in scalars else hash_of(v))
        else:  # anything else a template might get: hashed by its pickled bytes
            return hashlib.sha256(pickle.dumps(value, protocol=5)).digest()[:20]
        digest = hashlib.sha256(pickle.dumps(parts, protocol=5)).digest()[:20]
        if hasattr(kind, "__weakref__"):  # dataclasses; not tuples, lists or dicts
            self._memo[id(value)] = (weakref.ref(value), digest)
        elif kind is not tuple and hasattr(kind, "_fields"):  # named tuples
            self._kept[id(value)] = (value, digest)
        return digest

    def _nested(self, value: object) -> tuple[object, ...]:
        """A non-scalar inside a container: a tuple of scalars as it is (the (type,
        link) pairs of a page's meta tags: thousands per build, not worth a hash each),
        anything else by its hash. The two shapes cannot be mistaken for each other."""
        if type(value) is tuple and all(type(v) in _SCALARS for v in value):
            return ("=", value)
        return (self.hash(value),)


@dataclass(slots=True)
class PageMemo:
    """Pages of the previous build, reused when what they are rendered from is unchanged.

    A page's key hashes its template's name and every value the template receives;
    `fingerprint` covers the theme files, the config and digest's version.
    `previous` maps each page of the previous build to (key, content hash). With
    `load`, a reused page carries its old bytes (`digest serve` keeps them in memory);
    without, it carries only its hash and the writer keeps the live file.
    """

    fingerprint: str
    previous: dict[str, tuple[str, str]] = field(default_factory=dict)
    load: Callable[[str], bytes | None] | None = None
    hasher: ValueHasher = field(default_factory=ValueHasher)
    # What the previous build's keys were made from (None when unknown: `digest serve`'s
    # first build, or `digest build` without kept key inputs), and the same of this build
    # once made (see changes.py and keystate.py).
    inputs: KeyInputs | None = None
    keep_inputs: bool = False
    made_inputs: KeyInputs | None = None

    def key(self, template: str, values: dict[str, object]) -> str:
        return content_hash(self.fingerprint, template, self.hasher.hash(values))

    def reuse(self, dest: str, key: str, source: str) -> OutputFile | None:
        known = self.previous.get(dest)
        if known is None or known[0] != key:
            return None
        if self.load is None:
            return OutputFile(dest, None, source, key, known[1])
        old = self.load(dest)
        return OutputFile(dest, old, source, key) if old is not None else None

    def kept(self, dest: str, source: str) -> OutputFile | None:
        """The previous build's page under the key it had, for a page whose key is known
        to be unchanged without making it again (see changes.py)."""
        known = self.previous.get(dest)
        return self.reuse(dest, known[0], source) if known is not None else None


class ViewCache:
    """View objects kept from one rebuild of `digest serve` to the next, by what they
    are made from (input keys), under one fingerprint (theme, config, version).

    A rebuild after a one-file edit then meets the very objects of the last build for
    everything the edit did not touch, and builds only the views of what it did."""

    def __init__(self) -> None:
        self.fingerprint = ""
        self._old: dict[tuple[object, ...], object] = {}
        self._new: dict[tuple[object, ...], object] = {}
        # The template environment and its `once` memo (see fragments.FragmentMemo),
        # kept under the same fingerprint, which covers everything the environment holds.
        self.templates: tuple[jinja2.Environment, FragmentMemo] | None = None
        # The last merged chronology (validate.merge_chronology): it holds no view, so
        # it does not depend on the fingerprint.
        self.merges: MergeMemo = {}

    def start(self, fingerprint: str) -> None:
        """Begin a build; a new fingerprint makes every kept view stale."""
        if fingerprint != self.fingerprint:
            if self.templates is not None:
                # Emptied now: the environment and the memo hold each other (through
                # the `once` global and the macros), so dropping them leaves a cycle,
                # freed only by a full collection, which serve defers (collector.py).
                self.templates[1].drop()
            self.fingerprint, self._old, self.templates = fingerprint, {}, None
        self._new = {}

    def get(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        found = self._new.get(key)
        if found is None:
            found = self._old.get(key)
            if found is None:
                found = make()
            self._new[key] = found
        return found  # type: ignore[return-value]

    def finish(self, keep_unused: bool = False) -> None:
        """Keep what this build used; the rest is dropped, unless `keep_unused` (a
        build that rendered no listing page: the pages it reused still show the rest).

        Only views whose inputs changed are left behind by a build that renders them
        again, so what is kept stays about one build's worth."""
        if keep_unused:
            self._old.update(self._new)
            self._new = {}
        else:
            self._old, self._new = self._new, {}
