"""`digest build`: the pipeline (digest.pipeline) from a site to its output folder, with
the cache, the writing through a staging folder and the skipping of builds that have
nothing to do.

The pipeline is imported only once a build has something to do: a build whose inputs
did not change then reads the site and stops, without loading the Markdown engines,
Jinja and the rest (0.1 s of its 0.4 s at 1,000 articles).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from digest.cache import BuildCache
from digest.collector import fewer_collections
from digest.config import load_config
from digest.errors import ContentError, Problem
from digest.forked import ForkedCall
from digest.incremental import inputs_fingerprint, manifest, updated_manifest
from digest.interrupts import ctrl_c_held, ctrl_c_ignored
from digest.lock import build_lock
from digest.sourceindex import SourceIndex, nothing_cached
from digest.sources import (
    Found,
    PendingSource,
    Source,
    SourceSet,
    UnreadSource,
    discover,
)
from digest.targets import prune as prune_targets
from digest.targets import table_name
from digest.writer import StagedSite, check_output_dir

log = logging.getLogger(__name__)


class BuildReport(NamedTuple):
    """What a build did: where, how many files and articles, its warnings, how long."""

    output: Path
    files: int
    articles: int
    warnings: list[Problem]
    seconds: float


def build(root: Path, *, base_url: str | None = None, output: Path | None = None,
          drafts: bool = False, strict: bool = False, jobs: int = 0,
          use_cache: bool = True) -> BuildReport:
    """Build the site at `root` into its output folder; on any error, write nothing."""
    # One build of a site at a time (cache and output swap), with fewer collections.
    with build_lock(root), fewer_collections():
        return _build(root, base_url=base_url, output=output, drafts=drafts, strict=strict,
                      jobs=jobs, use_cache=use_cache)


def _read(sources: SourceSet, digests: dict[str, str]) -> SourceSet:
    """`sources` with each file left pending known by its digest, as the analysis read it."""
    def known(source: Found) -> Source:
        if isinstance(source, PendingSource):
            return UnreadSource(source.src_rel, source.path, digests[source.src_rel],
                                source.stamp)
        return source

    return sources._replace(
        articles=tuple(known(s) for s in sources.articles),
        sidecars={stem: known(s) for stem, s in sources.sidecars.items()})


def _wait_for(waits: list[Callable[[], None]]) -> None:
    """Call each (they may be called again), with Ctrl-C held back until all have
    returned. A press that comes as the hold begins, or before it, is raised only after
    they have been called (with Ctrl-C ignored then)."""
    try:
        with ctrl_c_held():
            for wait in waits:
                wait()
    except KeyboardInterrupt:
        with ctrl_c_ignored():
            for wait in waits:
                wait()
        raise


def _build(root: Path, *, base_url: str | None, output: Path | None, drafts: bool,
           strict: bool, jobs: int, use_cache: bool) -> BuildReport:
    started = time.perf_counter()
    config = load_config(root, base_url)
    target = Path(os.path.abspath(output)) if output else config.output_dir
    check_output_dir(target, config.root)
    state = BuildCache(config.root, table_name("output", target)) if use_cache else None
    # What the previous build wrote, trusted only while the live site is untouched: the
    # live site's files are listed by a forked copy while this process reads the sources.
    previous = state.get(str(target), "") if state is not None else None
    with ForkedCall(functools.partial(manifest, target)) if previous is not None \
            else contextlib.nullcontext() as live_site:
        # Articles and sidecars whose stat is unchanged since a build read them are not
        # read again.
        index = SourceIndex(config.root) if use_cache else None
        # With nothing cached of any article (a cold build), every article is analysed:
        # its files are read where it is, by the worker processes, side by side, rather
        # than all by this process before the workers start (at 10,000 articles that
        # reading took 0.3-0.7 s, the workers idle).
        sources, problems = discover(config, index=index,
                                     defer=nothing_cached(config.root, use_cache))
        pending = sources.pending()
        if index is not None and not pending:
            index.save()
            # Let go of its table (20,000 entries at 10,000 articles): kept to the end,
            # it raised the build's peak memory by 8 MiB.
            index = None
        # With files pending, what the build reads is known after the analysis.
        inputs = None if pending else inputs_fingerprint(config, sources,
                                                         (drafts, strict, str(target)))
        live = live_site.result() if live_site is not None else None
    if previous is None or live is None or live != previous["manifest"]:
        previous = None
    elif inputs is not None and previous["inputs"] == inputs and not problems:
        log.debug("nothing changed since the last build")
        return BuildReport(target, 0, previous["articles"], previous["warnings"],
                           time.perf_counter() - started)
    # Only now: see the module's docstring.
    from digest import pipeline
    from digest.feedstore import FeedEntryStore
    from digest.keystate import KeyState, new_token
    from digest.pagekeys import PageMemo
    from digest.parallel import default_jobs
    from digest.search import index_site
    from digest.templates import load_compiled, save_compiled

    compiled = load_compiled(config.root) if use_cache else {}
    # What the previous build's page keys were made from: only the pages an edit can
    # have changed are keyed again (see keystate.py).
    keys = KeyState(config.root, target) if state is not None else None
    kept_inputs, merges = (keys.load(previous.get("token", ""))
                           if keys is not None and previous is not None else (None, {}))
    memos: list[PageMemo] = []

    def page_memo(fingerprint: str) -> PageMemo:
        memos.append(PageMemo(fingerprint, before or {}, inputs=kept_inputs,
                              keep_inputs=True))
        return memos[-1]

    # A large cache of the articles is written by another process while pages render;
    # the build waits for it whatever happens (a Ctrl-C meanwhile comes after the wait).
    cache_writers: list[Callable[[], None]] = []
    try:
        def analyse(sources: SourceSet, problems: list[Problem]) -> pipeline.Analysis:
            return pipeline.analyse_sources(config, sources, problems, drafts=drafts,
                                            jobs=jobs, use_cache=use_cache,
                                            merge_memo=merges if keys is not None else None,
                                            background_waits=cache_writers)

        found = sources
        analysis, sources = pipeline.analyse_found(config, index, sources, problems, analyse)
        index = None
        if sources is not found:  # discovered again, read whole: its own inputs
            inputs = None
        if analysis.errors or (strict and analysis.warnings):
            raise ContentError(analysis.problems)
        if inputs is None and state is not None:
            # Without errors every file left pending was read.
            inputs = inputs_fingerprint(config, _read(sources, analysis.read_digests),
                                        (drafts, strict, str(target)))
        del sources  # every article's text: not needed past the analysis
        before: dict[str, tuple[str, str]] | None = previous["files"] if previous else None
        # The search index needs the whole site in one folder, so it rules out an update.
        site = StagedSite(target, {d: h for d, (_, h) in before.items()} if before else None,
                          update=before is not None and not analysis.config.search)
        feed_store = FeedEntryStore(config.root) if use_cache else None
        try:
            pipeline.render_files(analysis, jobs or analysis.config.jobs or default_jobs(),
                         # Keys are made on every build, so that the next one can reuse.
                         reuse=page_memo if state else None,
                         writer=site, feed_store=feed_store)
            _wait_for(cache_writers)
        except BaseException:
            with ctrl_c_ignored():  # a second Ctrl-C must not leave half a staging folder
                site.discard()
            raise
    finally:
        _wait_for(cache_writers)
    count = site.commit(None if site.update
                        else lambda staging: index_site(staging, analysis.config))
    if state is not None:
        after = (updated_manifest(target, live, site.changed(), site.removed())
                 if site.update and live is not None else manifest(target))
        token = new_token()
        state.put(str(target), "", {"inputs": inputs, "manifest": after,
                                    "files": site.digests(),
                                    "articles": len(analysis.site.articles),
                                    "warnings": analysis.warnings, "token": token})
        state.save()
        if keys is not None:
            keys.save(token, memos[-1].made_inputs if memos else None, merges)
        prune_targets(config.root, target)
        save_compiled(config.root, compiled)
        if feed_store is not None:
            feed_store.save()
    seconds = time.perf_counter() - started
    log.debug("built %d files (%d articles, %d written) into %s in %.2f s", count,
              len(analysis.site.articles), len(site.changed()), target, seconds)
    return BuildReport(target, count, len(analysis.site.articles), analysis.warnings, seconds)
