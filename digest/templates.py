"""The Jinja environment: strict, autoescaped, themed, with filters in one table."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import markupsafe

from digest.themefiles import BUILTIN_THEMES, Theme


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates, kept for the life of the process. `digest serve` makes a new
    environment whenever the theme or settings change, and compiling the theme again
    cost 0.2 s each time; Jinja checks each entry against its template's source, so an
    edit recompiles."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}
        self.compiled = 0  # templates compiled (not found here) since made

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (data := self._store.get(bucket.key)) is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()
        self.compiled += 1


_BYTECODE = _MemoryBytecodeCache()


def load_compiled(root: Path) -> dict[str, bytes]:
    """Compiled templates from the site's build cache, so that a build does not compile
    the theme again (0.1-0.2 s of each build); returns what the cache held. Compiled
    code is run when loaded, so it is kept in the signed cache like everything else
    there, never in a plain file."""
    from digest.cache import BuildCache  # not needed by `digest serve`'s rebuilds

    found = {key: data for key, data in BuildCache(root, "templates").values().items()
             if isinstance(data, bytes)}
    for key, data in found.items():
        _BYTECODE._store.setdefault(key, data)
    return found


def save_compiled(root: Path, loaded: dict[str, bytes]) -> None:
    """Keep the compiled templates in the site's build cache when it lacked some."""
    from digest.cache import BuildCache

    if _BYTECODE._store != loaded:
        cache = BuildCache(root, "templates")
        for key, data in _BYTECODE._store.items():
            cache.put(key, "", data)
        cache.save()


def _replace_chain(text: str) -> str:
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


# markupsafe's own escaping of a str (in C from its speedups; markupsafe 3 names it
# `_escape_inner`); the chain of replaces above is the same table, for markupsafe 2.
_escape_str = getattr(markupsafe, "_escape_inner", _replace_chain)


def output_escape(value: object) -> str:
    """What `{{ value }}` writes: markupsafe's escaping, without wrapping the result in
    Markup. A page has 150-300 of these, and making each Markup (a Python-level
    constructor) took half of the escaping's time. The value goes straight into the
    page's text, never into an expression, so its type does not matter: every place
    that gathers output into a value (macros, `{% set %}` blocks, filter blocks)
    marks the whole text safe when autoescape is on."""
    kind = type(value)
    if kind is str:  # exactly str, as markupsafe.escape checks
        return _escape_str(value)  # type: ignore[no-any-return]
    if kind is markupsafe.Markup:  # a macro's output: safe already, and Markup's
        return value  # type: ignore[return-value]  # __html__ is itself
    return markupsafe.escape(value)


class _Template(jinja2.Template):
    """A template whose `{{ ... }}` output is escaped by `output_escape`.

    Compiled template code writes `escape(...)` around each value it outputs (and
    nowhere else), looking `escape` up in its module's namespace, which is the
    namespace made here."""

    @classmethod
    def _from_namespace(cls, environment: jinja2.Environment, namespace: dict[str, object],
                        globals: dict[str, object]) -> jinja2.Template:  # noqa: A002
        namespace["escape"] = output_escape
        return super()._from_namespace(environment, namespace, globals)  # type: ignore[misc]


class _Environment(jinja2.Environment):
    """An environment whose globals are set once, before any template is loaded.

    Jinja makes each template's globals a ChainMap over the environment's, so that a
    global added later reaches templates already loaded. Every page render then copies
    that ChainMap and compares its keys with the context's, in Python: 7-12% of rendering
    an article page. Here the environment's globals are complete before the first
    template is loaded (`make_environment`), and never change, so a plain dict holds
    the same."""

    def make_globals(self, d: Mapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **d} if d else dict(self.globals)


def make_environment(theme: Theme, filters: dict[str, object],
                     globals_: dict[str, object]) -> jinja2.Environment:
    """StrictUndefined and autoescape on; `default/...` always names the built-in theme."""
    loader = jinja2.ChoiceLoader([
        jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(
            BUILTIN_THEMES / "default" / "templates")}),
        jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
    ])
    env = _Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_BYTECODE,
        # An environment lives for one build, or under `digest serve` while the theme
        # fingerprint (which hashes every template) is unchanged: a template cannot
        # change within it, and checking (a stat of each template a page uses, at every
        # page) was 3% of an article page.
        auto_reload=False,
    )
    env.template_class = _Template
    env.filters.update(filters)  # type: ignore[arg-type]
    env.globals.update(globals_)
    return env


def render_bytes(template: jinja2.Template, **values: object) -> bytes:
    """The template rendered and encoded as UTF-8, a batch of pieces at a time.

    `template.render(...).encode()` holds the list of every piece, the joined text and
    its encoding at once; at 10,000 articles the quotes page is 14 MB of HTML, and that
    was the peak of a build's memory."""
    out = io.BytesIO()
    pieces = template.generate(**values)
    while batch := list(itertools.islice(pieces, 4096)):
        out.write("".join(batch).encode("utf-8"))
    return out.getvalue()
