"""The pipeline: discover -> load & validate -> annotate -> render -> write.

Read it top to bottom: `analyse` is everything `digest check` runs; `build` adds
rendering and writing.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from digest import __version__, urls
from digest.annotate import AnnotatedArticle
from digest.articles import ArticleResult, process_article
from digest.cache import BuildCache, content_hash
from digest.config import SiteConfig, load_config
from digest.errors import ContentError, Problem, sort_problems
from digest.feeds import feed_files
from digest.lock import build_lock
from digest.model import Person, Site
from digest.progress import Progress
from digest.render import PageMemo, RenderContext, SiteRenderer
from digest.search import index_site
from digest.sitemap import sitemap_files
from digest.sources import SourceSet, SourceText, discover
from digest.templates import Theme, hashed_name, make_environment, resolve_theme, static_files
from digest.timeline import timeline_file
from digest.validate import load_registries, validate_site
from digest.writer import OutputFile, SiteWriter, check_output_dir, write_site

log = logging.getLogger(__name__)
PARALLEL_THRESHOLD = 48


@dataclass(frozen=True, slots=True)
class Analysis:
    """A site read, validated and annotated: what `check` reports on, what `build` renders."""

    config: SiteConfig
    site: Site
    annotated: dict[str, AnnotatedArticle]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True, slots=True)
class BuildReport:
    output: Path
    files: int
    articles: int
    warnings: list[Problem]
    seconds: float


def _process_chunk(args: tuple[list[tuple[SourceText, SourceText | None]], SiteConfig,
                                dict[str, Person]]) -> list[ArticleResult]:
    chunk, config, people = args
    return [process_article(source, sidecar, config, people) for source, sidecar in chunk]


def _usable_jobs(jobs: int) -> int:
    """Forking a process that runs other threads (as `digest serve` does) can deadlock
    the child, so worker processes are used from the main thread only."""
    return jobs if threading.current_thread() is threading.main_thread() else 1


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def process_articles(config: SiteConfig, sources: SourceSet, people: dict[str, Person],
                     registry_text: str, cache: BuildCache | None = None, jobs: int = 1
                     ) -> list[ArticleResult]:
    """Every article through `articles.process_article`: from the cache when its inputs
    are unchanged, else in a pool of `jobs` processes when there is enough to do."""
    settings = repr((config.base_url, config.timezone, config.allow_html))
    results: dict[str, ArticleResult] = {}
    todo: list[tuple[SourceText, SourceText | None]] = []
    keys: dict[str, str] = {}
    for source in sources.articles:
        sidecar = sources.sidecars.get(Path(source.src_rel).stem)
        key = content_hash(settings, registry_text, source.text,
                           sidecar.src_rel if sidecar else "", sidecar.text if sidecar else "")
        keys[source.src_rel] = key
        cached = cache.get(source.src_rel, key) if cache else None
        if isinstance(cached, ArticleResult):
            results[source.src_rel] = cached
        else:
            todo.append((source, sidecar))
    for result in _run(todo, config, people, jobs):
        results[result.src_rel] = result
        if cache:
            cache.put(result.src_rel, keys[result.src_rel], result)
    return [results[s.src_rel] for s in sources.articles]


def _run(todo: list[tuple[SourceText, SourceText | None]], config: SiteConfig,
         people: dict[str, Person], jobs: int) -> list[ArticleResult]:
    progress = Progress(len(todo), "Reading articles")
    size = 64 if jobs <= 1 else max(8, min(64, len(todo) // (jobs * 4)))
    chunks = [(todo[i:i + size], config, people) for i in range(0, len(todo), size)]
    results: list[ArticleResult] = []
    try:
        # Processes pay off only past a few dozen articles: starting workers and
        # shipping results back costs more than rendering a handful.
        if jobs <= 1 or len(todo) < PARALLEL_THRESHOLD:
            for chunk in chunks:
                results += _process_chunk(chunk)
                progress.advance(len(chunk[0]))
            return results
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for done in pool.map(_process_chunk, chunks):
                results += done
                progress.advance(len(done))
        return results
    finally:
        progress.close()


def analyse(root: Path, *, base_url: str | None = None, drafts: bool = False,
            jobs: int = 0, use_cache: bool = True) -> Analysis:
    """Read, validate and annotate the site at `root`; collect every problem."""
    config = load_config(root, base_url)
    sources, problems = discover(config)
    return analyse_sources(config, sources, problems, drafts=drafts, jobs=jobs,
                           use_cache=use_cache)


def analyse_sources(config: SiteConfig, sources: SourceSet, problems: list[Problem], *,
                    drafts: bool, jobs: int, use_cache: bool,
                    cache: BuildCache | None = None) -> Analysis:
    """`analyse` for sources already read; `cache` replaces the one in .digest-cache/."""
    topics, people = load_registries(sources, problems)
    persistent = cache is None
    if cache is None and use_cache:
        cache = BuildCache(config.root, "articles")
    registry_text = sources.people.text if sources.people else ""
    jobs = _usable_jobs(jobs or config.jobs or default_jobs())
    results = process_articles(config, sources, people, registry_text, cache, jobs)
    site = validate_site(config, sources, results, topics, people, drafts, problems)
    annotated = {r.article.slug: r.annotated for r in results
                 if r.article is not None and r.annotated is not None}
    analysis = Analysis(config, site, annotated, sort_problems(problems))
    if cache is not None and not analysis.errors:
        if persistent:
            cache.save()
        else:
            cache.roll()
    return analysis


_WORKER_RENDERER: SiteRenderer | None = None


def _render_article_chunk(slugs: list[str]) -> list[OutputFile]:
    assert _WORKER_RENDERER is not None  # set before the pool forks
    return list(_WORKER_RENDERER.article_pages(slugs))


def _render_pages(ctx: RenderContext, jobs: int, memo: PageMemo | None
                  ) -> Iterator[OutputFile]:
    """Every page; article pages in forked workers when there are enough of them, while
    this process renders the index pages."""
    global _WORKER_RENDERER
    renderer = SiteRenderer(ctx, memo)
    slugs = [a.slug for a in ctx.site.articles]
    jobs = _usable_jobs(jobs)
    if jobs <= 1 or len(slugs) < PARALLEL_THRESHOLD or sys.platform != "linux":
        yield from renderer.other_pages()
        yield from renderer.article_pages(slugs)
        return
    _WORKER_RENDERER = renderer
    size = max(16, len(slugs) // (jobs * 4))
    chunks = [slugs[i:i + size] for i in range(0, len(slugs), size)]
    progress = Progress(len(slugs), "Rendering pages")
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(
                "fork")) as pool:
            futures = [pool.submit(_render_article_chunk, chunk) for chunk in chunks]
            yield from renderer.other_pages()
            for future in futures:
                pages = future.result()
                progress.advance(len(pages))
                yield from pages
    finally:
        _WORKER_RENDERER = None
        progress.close()


def theme_fingerprint(theme: Theme, config: SiteConfig, extra: object) -> str:
    """What every page depends on besides its own values: templates, config, version."""
    parts: list[str | bytes] = [__version__, repr(config), repr(extra)]
    for folder in theme.template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [path.as_posix(), path.read_bytes()]
    return content_hash(*parts)


def render_files(analysis: Analysis, jobs: int = 1,
                 reuse: Callable[[str], PageMemo] | None = None) -> SiteWriter:
    """Every output file of the site, collected by the one writer.

    `reuse` turns the theme fingerprint into a PageMemo of the previous build's pages,
    so unchanged pages are not rendered again."""
    config = analysis.config
    links = urls.Urls(config.base_url)
    theme = resolve_theme(config.root, config.theme)
    statics = static_files(theme)
    assets = {name: hashed_name(name, data) for name, data in statics.items()}

    def asset(name: str) -> str:
        return links.href("static/" + assets[name])

    env = make_environment(theme, filters={}, globals_={
        "site": config, "url": links.href, "absolute_url": links.absolute, "asset": asset,
        "nav": [("Home", links.href("")), ("Topics", links.href("topics/")),
                ("People", links.href("people/")), ("Quotes", links.href("quotes/")),
                ("Chronology", links.href("chronology/"))]
        + ([("Search", links.href("search/"))] if config.search else [])
        + [(p.title, links.href(urls.page_rel(p.slug))) for p in analysis.site.pages],
    })
    writer = SiteWriter()
    ctx = RenderContext(analysis.site, analysis.annotated, env, links)
    memo = None
    if reuse is not None:
        memo = reuse(theme_fingerprint(theme, config, (env.globals["nav"], assets)))
    for output in _render_pages(ctx, jobs, memo):
        writer.add(output)
    for output in feed_files(analysis.site, analysis.annotated, links):
        writer.add(output)
    writer.add(timeline_file(analysis.site, links))
    # The sitemap lists every HTML page written so far, so it comes last.
    page_rels = [d.removesuffix("index.html") for d in sorted(writer.files)
                 if d.endswith(".html")]
    for output in sitemap_files(analysis.site, links, page_rels):
        writer.add(output)
    for name, data in sorted(statics.items()):
        writer.add(OutputFile("static/" + assets[name], data, f"theme static {name}"))
    writer.add(OutputFile(".nojekyll", b"", "GitHub Pages marker"))
    if config.cname:
        writer.add(OutputFile("CNAME", config.cname.encode() + b"\n", "site.toml cname"))
    return writer


def _inputs_fingerprint(config: SiteConfig, sources: SourceSet, options: object) -> str:
    """Everything a build reads: when it is unchanged, so is the site."""
    theme = resolve_theme(config.root, config.theme)
    parts: list[str | bytes] = [__version__, repr(config), repr(options)]
    for source in (*sources.articles, *sources.sidecars.values(), sources.topics,
                   sources.people, *sources.pages, *sources.editions):
        if source is not None:
            parts += [source.src_rel, source.text]
    for folder in (*theme.template_dirs, *theme.static_dirs):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [path.as_posix(), path.read_bytes()]
    return content_hash(*parts)


def _manifest(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file, to notice edits to a built site."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            found[path.relative_to(folder).as_posix()] = (info.st_size, info.st_mtime_ns)
    return found


def _output_unchanged(folder: Path, manifest: dict[str, tuple[int, int]]) -> bool:
    return folder.is_dir() and _manifest(folder) == manifest


def _memo_from_output(cache: BuildCache, target: Path, fingerprint: str) -> PageMemo:
    """Reuse pages of the last build into `target`, if the files there are still ours."""
    table = cache.get(str(target), "") or {}

    def load(dest: str) -> bytes | None:
        try:
            data = (target / dest).read_bytes()
        except OSError:
            return None
        return data if content_hash(data) == table[dest][1] else None

    return PageMemo(fingerprint, {d: key for d, (key, _) in table.items()}, load)


def build(root: Path, *, base_url: str | None = None, output: Path | None = None,
          drafts: bool = False, strict: bool = False, jobs: int = 0,
          use_cache: bool = True) -> BuildReport:
    """Build the site at `root` into its output folder; on any error, write nothing."""
    with build_lock(root):  # one build of a site at a time: cache and output swap
        return _build(root, base_url=base_url, output=output, drafts=drafts, strict=strict,
                      jobs=jobs, use_cache=use_cache)


def _build(root: Path, *, base_url: str | None, output: Path | None, drafts: bool,
           strict: bool, jobs: int, use_cache: bool) -> BuildReport:
    started = time.perf_counter()
    config = load_config(root, base_url)
    target = Path(os.path.abspath(output)) if output else config.output_dir
    check_output_dir(target, config.root)
    sources, problems = discover(config)
    state = BuildCache(config.root, "state") if use_cache else None
    inputs = _inputs_fingerprint(config, sources, (drafts, strict, str(target)))
    if state is not None and not problems:
        previous = state.get(str(target), inputs)
        if previous is not None and _output_unchanged(target, previous["manifest"]):
            log.debug("nothing changed since the last build")
            return BuildReport(target, 0, previous["articles"], previous["warnings"],
                               time.perf_counter() - started)
    analysis = analyse_sources(config, sources, problems, drafts=drafts, jobs=jobs,
                               use_cache=use_cache)
    if analysis.errors or (strict and analysis.warnings):
        raise ContentError(analysis.problems)
    pages_cache = BuildCache(analysis.config.root, "pages") if use_cache else None
    writer = render_files(analysis, jobs or analysis.config.jobs or default_jobs(),
                          reuse=(lambda fp: _memo_from_output(pages_cache, target, fp))
                          if pages_cache else None)
    count = write_site(writer.files, target,
                       before_swap=lambda staging: index_site(staging, analysis.config))
    if pages_cache is not None:
        pages_cache.put(str(target), "", {d: (f.key, content_hash(f.content))
                                          for d, f in writer.files.items() if f.key})
        pages_cache.save()
    if state is not None:
        state.put(str(target), inputs, {"manifest": _manifest(target),
                                        "articles": len(analysis.site.articles),
                                        "warnings": analysis.warnings})
        state.save()
    seconds = time.perf_counter() - started
    log.debug("built %d files (%d articles) into %s in %.2f s", count,
             len(analysis.site.articles), target, seconds)
    return BuildReport(target, count, len(analysis.site.articles), analysis.warnings, seconds)
