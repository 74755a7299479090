"""The pipeline: discover -> load & validate -> annotate -> render.

Read it top to bottom: `analyse` is everything `digest check` runs; `render_files`
makes every output file; `digest.build` adds the cache, the writing and the skipping
of builds with nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

import jinja2

from digest import urls
from digest.annotate import AnnotatedArticle
from digest.cache import BuildCache, content_hash
from digest.config import SiteConfig, load_config
from digest.errors import Problem, sort_problems
from digest.feedstore import FeedEntryStore
from digest.fragments import FragmentMemo
from digest.incremental import theme_fingerprint
from digest.model import Site
from digest.pagekeys import PageMemo, ViewCache
from digest.parallel import (
    LateReadFailed,
    OutputSink,
    default_jobs,
    process_articles,
    render_pages,
    usable_jobs,
)
from digest.render import RenderContext, SiteRenderer
from digest.sourceindex import SourceIndex, nothing_cached
from digest.sources import SourceSet, discover
from digest.templates import make_environment
from digest.themefiles import hashed_name, resolve_theme, static_files
from digest.validate import MergeMemo, load_registries, validate_site
from digest.writer import OutputFile, SiteWriter

log = logging.getLogger(__name__)
W = TypeVar("W", bound=OutputSink)


@dataclass(frozen=True, slots=True)
class Analysis:
    """A site read, validated and annotated: what `check` reports on, what `build` renders."""

    config: SiteConfig
    site: Site
    annotated: dict[str, AnnotatedArticle]
    problems: list[Problem]
    # What each article page is made from, for page reuse (see render.article_page_key).
    article_keys: dict[str, str] = field(default_factory=dict)
    registries_key: str = ""
    # The digests of the files discovery left pending (sources.PendingSource), by path.
    read_digests: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def analyse(root: Path, *, base_url: str | None = None, drafts: bool = False,
            jobs: int = 0, use_cache: bool = True) -> Analysis:
    """Read, validate and annotate the site at `root`; collect every problem.

    As `digest build` reads: with the cache, a file whose stat the source index knows is
    not read unless its article must be analysed again, and with nothing cached (a first
    check, or `use_cache=False`) the files are read by the analysis, in its workers."""
    config = load_config(root, base_url)
    index = SourceIndex(config.root) if use_cache else None
    sources, problems = discover(config, index=index, defer=nothing_cached(config.root, use_cache))
    analysis, _ = analyse_found(
        config, index, sources, problems,
        lambda found, problems: analyse_sources(config, found, problems, drafts=drafts,
                                                jobs=jobs, use_cache=use_cache))
    return analysis


def analyse_found(config: SiteConfig, index: SourceIndex | None, sources: SourceSet,
                  problems: list[Problem],
                  analyse: Callable[[SourceSet, list[Problem]], Analysis]
                  ) -> tuple[Analysis, SourceSet]:
    """`analyse(sources, problems)` for what discovery found, and the sources it analysed.

    When a file that discovery left to be read later cannot be read then, or has
    changed meanwhile (parallel.LateReadFailed), discovers again reading every file, and
    analyses that: what is checked or built is then the files as they are now, and a
    file's problem is reported as discovery reports it, by `digest check` and `digest
    build` alike. Otherwise `index` (the one discovery used, if any) learns the digests
    of the pending files the analysis read, and is saved."""
    pending = sources.pending()
    try:
        analysis = analyse(sources, problems)
    except LateReadFailed:
        # Read whole, this discovery leaves nothing for later: the analysis cannot fail
        # so again. The index learns nothing from it (the next build reads the files it
        # does not know, as ever).
        sources, problems = discover(config)
        return analyse(sources, problems), sources
    if index is not None:
        for source in pending:
            if (digest := analysis.read_digests.get(source.src_rel)) is not None:
                index.learn_pending(source, digest)
        index.save()
    return analysis, sources


def analyse_sources(config: SiteConfig, sources: SourceSet, problems: list[Problem], *,
                    drafts: bool, jobs: int, use_cache: bool,
                    cache: BuildCache | None = None,
                    merge_memo: MergeMemo | None = None,
                    background_waits: list[Callable[[], None]] | None = None) -> Analysis:
    """`analyse` for sources already read (or found: sources.PendingSource); `cache`
    replaces the one in .digest-cache/; `merge_memo` keeps the merged chronology
    (validate.merge_chronology). With `background_waits`, a large cache may be written by
    another process while the caller goes on (see BuildCache.save): the caller must call
    what is added to the list. Raises parallel.LateReadFailed as process_articles
    does."""
    topics, people = load_registries(sources, problems)
    persistent = cache is None
    if cache is None and use_cache:
        cache = BuildCache(config.root, "articles")
    # The registries are known by their files' digests, made when they were read.
    people_digest = sources.people.digest if sources.people else ""
    jobs = usable_jobs(jobs or config.jobs or default_jobs())
    results, keys, read = process_articles(config, sources, people, people_digest,
                                           cache, jobs)
    site = validate_site(config, sources, results, topics, people, drafts, problems,
                         merge_memo)
    annotated = {r.article.slug: r.annotated for r in results
                 if r.article is not None and r.annotated is not None}
    article_keys = {r.article.slug: keys[r.src_rel] for r in results
                    if r.article is not None and r.article.slug in site.by_slug}
    # Topic titles show on every article page; people's names are in each article's key.
    registries = content_hash(sources.topics.digest if sources.topics else "", people_digest)
    analysis = Analysis(config, site, annotated, sort_problems(problems), article_keys,
                        registries, read)
    if cache is not None and not analysis.errors:
        if persistent:
            cache.save(background_waits if jobs > 1 else None)
        else:
            cache.roll()
    return analysis


def render_files(analysis: Analysis, jobs: int = 1,
                 reuse: Callable[[str], PageMemo] | None = None,
                 writer: W | None = None, views: ViewCache | None = None,
                 feed_store: FeedEntryStore | None = None) -> W:
    """Every output file of the site, given to `writer` (by default a SiteWriter that
    keeps them in memory).

    `reuse` turns the theme fingerprint into a PageMemo of the previous build's pages,
    so unchanged pages are not rendered again; `feed_store` keeps feed entries
    between builds."""
    config = analysis.config
    links = urls.Urls(config.base_url)
    theme = resolve_theme(config.root, config.theme)
    statics = static_files(theme)
    assets = {name: hashed_name(name, data) for name, data in statics.items()}

    def asset(name: str) -> str:
        return links.href("static/" + assets[name])

    nav = ([("Home", links.href("")), ("Topics", links.href("topics/")),
            ("People", links.href("people/")), ("Quotes", links.href("quotes/")),
            ("Chronology", links.href("chronology/"))]
           + ([("Search", links.href("search/"))] if config.search else [])
           + [(p.title, links.href(urls.page_rel(p.slug))) for p in analysis.site.pages])

    def environment(fragments: FragmentMemo) -> jinja2.Environment:
        return make_environment(theme, filters={}, globals_={
            "once": fragments, "once_each": fragments.each, "site": config,
            "url": links.href, "absolute_url": links.absolute, "asset": asset, "nav": nav})

    fingerprint = ""
    if reuse is not None or views is not None:
        fingerprint = theme_fingerprint(theme, config, (nav, assets))
    if views is not None:
        # `digest serve` keeps the environment while the fingerprint (which covers every
        # global above) holds: its macros stay the same objects, so the `once` memo
        # finds the fragments of the last rebuild.
        views.start(fingerprint)
        if views.templates is None:
            kept = FragmentMemo(kept=True)
            views.templates = (environment(kept), kept)
        env, fragments = views.templates
        fragments.next_build()
    else:
        fragments = FragmentMemo()
        env = environment(fragments)
    if writer is None:
        writer = cast(W, SiteWriter())
    ctx = RenderContext(analysis.site, analysis.annotated, env, links, analysis.article_keys,
                        analysis.registries_key, views, fragments, feed_store)
    renderer = SiteRenderer(ctx, reuse(fingerprint) if reuse is not None else None)
    render_pages(renderer, jobs, writer)
    for output in renderer.feeds():
        writer.add(output)
    writer.add(renderer.timeline())
    if views is not None:
        quiet = renderer.listings_rendered == 0
        views.finish(keep_unused=quiet)
        if quiet:
            fragments.keep_unused()
    # The sitemap lists every HTML page written so far, so it comes last.
    page_rels = [d.removesuffix("index.html") for d in sorted(writer.dests())
                 if d.endswith(".html")]
    for output in renderer.sitemap(page_rels):
        writer.add(output)
    for name, data in sorted(statics.items()):
        writer.add(OutputFile("static/" + assets[name], data, f"theme static {name}"))
    writer.add(OutputFile(".nojekyll", b"", "GitHub Pages marker"))
    if config.cname:
        writer.add(OutputFile("CNAME", config.cname.encode() + b"\n", "site.toml cname"))
    return writer


