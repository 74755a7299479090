"""Work spread over processes: articles through their pipeline, article pages rendered.

Workers are forked (on Linux) so they inherit the site model instead of receiving it;
they are used from the main thread only, since forking a process that runs other
threads (`digest serve`) can deadlock the child.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from digest.articles import ArticleResult, process_article
from digest.cache import BuildCache, content_hash
from digest.collector import plain_data_arriving, set_aside
from digest.config import SiteConfig
from digest.errors import Problem
from digest.feeds import PackedEntry
from digest.interrupts import ctrl_c_held, ctrl_c_ignored
from digest.markdown import engine_name
from digest.model import Person
from digest.progress import Progress
from digest.render import SiteRenderer
from digest.sources import (
    PendingSource,
    SourceSet,
    SourceText,
    UnreadSource,
    read_pending,
    read_unread,
    stem_of,
)
from digest.writer import OutputFile

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

PARALLEL_THRESHOLD = 48
RENDER_CHUNK = 250
FEED_CHUNK = 48  # feed entries per task: about 30 ms of work


Readable = SourceText | PendingSource
# An article's result and the digests of its two files ("" for no sidecar).
Outcome = tuple[ArticleResult, str, str]


class LateReadFailed(Exception):
    """A file discovery left to be read later (pending, or known to the source index)
    could not be read when its article was analysed, or had changed meanwhile (saved
    during the build or check, say): `pipeline.analyse_found` discovers again, reading
    every file, so that what is analysed is the files as they are now, and a problem is
    reported as discovery reports it."""


def _process_chunk(args: tuple[list[tuple[Readable, Readable | None]], SiteConfig,
                                dict[str, Person]]) -> list[Outcome]:
    chunk, config, people = args
    outcomes: list[Outcome] = []
    for source, sidecar in chunk:
        # Read here, in the worker, when discovery left them (a cold build). Raised in a
        # worker, LateReadFailed reaches the build's process where it reads the results.
        text = read_pending(source, config) if isinstance(source, PendingSource) else source
        side = read_pending(sidecar, config) if isinstance(sidecar, PendingSource) else sidecar
        if isinstance(text, Problem) or isinstance(side, Problem):
            raise LateReadFailed
        outcomes.append((process_article(text, side, config, people), text.digest,
                         side.digest if side is not None else ""))
    return outcomes


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _start_worker(parent: int) -> None:
    """In each worker: ignore Ctrl-C (blocked since the fork, so none got through
    before this), and die with the main process, whatever ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform == "linux":
        import ctypes  # here, in the worker: a build that forks none never needs it

        # Killed (or out of memory), the main process would leave its workers waiting for
        # work forever, holding the build lock they inherited.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it died before the line above
            os._exit(1)


@contextmanager
def worker_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `jobs` worker processes, forked on Linux, that leave Ctrl-C to this one.

    A terminal sends Ctrl-C to every process of the build. Workers that took it each
    printed a KeyboardInterrupt traceback when it found them waiting for work, and one
    that dies while holding the pool's task queue can leave the others waiting on it.
    Here only this process stops: on any exception from the start of the pool on
    (KeyboardInterrupt included) the chunks not handed to a worker yet are cancelled,
    and the pool waits for those the workers hold (the one each runs, and up to
    `jobs` + 1 queued ahead), with Ctrl-C ignored: interrupted, that wait lost track of
    the workers, and the process waited for them forever at exit."""
    # Imported here: a build that forks no worker (most rebuilds after an edit) is spared
    # loading multiprocessing and its executor, about 20 ms.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                               initializer=_start_worker, initargs=(os.getpid(),))
    try:
        with ctrl_c_held():
            pool.submit(int).result()  # the workers start (fork) now, with Ctrl-C blocked
        yield pool
    except BaseException:
        with ctrl_c_ignored():
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    with ctrl_c_held():  # the workers are idle: they exit at once
        pool.shutdown(wait=True)


def usable_jobs(jobs: int) -> int:
    """Forking a process that runs other threads (as `digest serve` does) can deadlock
    the child, so worker processes are used from the main thread only."""
    return jobs if threading.current_thread() is threading.main_thread() else 1


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _input_key(common: str, digest: str, sidecar_rel: str, sidecar_digest: str) -> str:
    """The hash of an article's inputs: its two files (by their digests; "" for no
    sidecar) and `common` (the hash of the settings and the people registry, made once
    per build rather than hashed into every article's key)."""
    return content_hash(common, digest, sidecar_rel, sidecar_digest)


def process_articles(config: SiteConfig, sources: SourceSet, people: dict[str, Person],
                     people_digest: str,
                     cache: BuildCache | None = None, jobs: int = 1
                     ) -> tuple[list[ArticleResult], dict[str, str], dict[str, str]]:
    """Every article through `articles.process_article`: from the cache when its inputs
    are unchanged, else in a pool of `jobs` processes when there is enough to do.

    Also returns each article's input key (by source path): a hash of everything its
    result was made from; and the digests of the files discovery left pending (by source
    path), read here. An article whose files discovery left unread is read here if it is
    not in the cache. A file left unread or pending that cannot be read (or has changed)
    raises LateReadFailed."""
    settings = repr((config.base_url, config.timezone, config.allow_html, engine_name()))
    common = content_hash(settings, people_digest)
    results: dict[str, ArticleResult] = {}
    todo: list[tuple[Readable, Readable | None]] = []
    keys: dict[str, str] = {}
    for source in sources.articles:
        sidecar = sources.sidecars.get(stem_of(source.src_rel))
        if not isinstance(source, PendingSource) and not isinstance(sidecar, PendingSource):
            key = _input_key(common, source.digest, sidecar.src_rel if sidecar else "",
                             sidecar.digest if sidecar else "")
            keys[source.src_rel] = key
            cached = cache.get(source.src_rel, key) if cache else None
            if isinstance(cached, ArticleResult):
                results[source.src_rel] = cached
                continue
        # Otherwise nothing is cached for it (which is why discovery left it pending).
        text = read_unread(source, config) if isinstance(source, UnreadSource) else source
        side = read_unread(sidecar, config) if isinstance(sidecar, UnreadSource) else sidecar
        if isinstance(text, Problem) or isinstance(side, Problem):
            raise LateReadFailed
        todo.append((text, side))
    read: dict[str, str] = {}
    for (source, sidecar), (result, digest, sidecar_digest) in zip(
            todo, _run(todo, config, people, jobs), strict=True):
        if isinstance(source, PendingSource):
            read[source.src_rel] = digest
        if isinstance(sidecar, PendingSource):
            read[sidecar.src_rel] = sidecar_digest
        key = keys.get(result.src_rel) or _input_key(
            common, digest, sidecar.src_rel if sidecar else "", sidecar_digest)
        keys[result.src_rel] = key
        results[result.src_rel] = result
        if cache:
            cache.put(result.src_rel, key, result)
    return ([results[s.src_rel] for s in sources.articles if s.src_rel in results], keys,
            read)


def _run(todo: list[tuple[Readable, Readable | None]], config: SiteConfig,
         people: dict[str, Person], jobs: int) -> list[Outcome]:
    progress = Progress(len(todo), "Reading articles")
    size = 64 if jobs <= 1 else max(8, min(64, len(todo) // (jobs * 4)))
    chunks = [(todo[i:i + size], config, people) for i in range(0, len(todo), size)]
    results: list[Outcome] = []
    try:
        # Processes pay off only past a few dozen articles: starting workers and
        # shipping results back costs more than rendering a handful.
        if jobs <= 1 or len(todo) < PARALLEL_THRESHOLD:
            for chunk in chunks:
                results += _process_chunk(chunk)
                progress.advance(len(chunk[0]))
            return results
        set_aside()
        # Raised here, LateReadFailed stops the pool: the chunks not started are
        # cancelled, since the build discovers and analyses again.
        with worker_pool(jobs) as pool, plain_data_arriving():
            for done in pool.map(_process_chunk, chunks):
                results += done
                progress.advance(len(done))
        return results
    finally:
        progress.close()


class OutputSink(Protocol):
    """Where pages go: the in-memory SiteWriter or the streaming StagedSite. `write`
    runs where the page was rendered (perhaps a worker), `record` in this process."""

    def write(self, output: OutputFile) -> Any: ...

    def record(self, written: Any) -> None: ...


_WORKER: tuple[SiteRenderer, OutputSink] | None = None


def _render_article_chunk(slugs: list[str]) -> list[Any]:
    assert _WORKER is not None  # set before the pool forks
    renderer, sink = _WORKER
    # Written here, in the worker: only a small record travels back, not the page.
    return [sink.write(page) for page in renderer.article_pages(slugs)]


def _feed_entry_chunk(slugs: list[str]) -> list[PackedEntry]:
    assert _WORKER is not None
    return _WORKER[0].feed_entries(slugs)


def _failed(futures: tuple[Future[Any], ...]) -> bool:
    """Whether a task a worker ran has raised."""
    return any(f.done() and not f.cancelled() and f.exception() is not None for f in futures)


def render_pages(renderer: SiteRenderer, jobs: int, sink: OutputSink) -> None:
    """Every page into `sink`; article pages in `jobs` - 1 forked workers when there
    are enough of them, while this process renders the other pages, then takes back
    the article pages no worker has started."""
    global _WORKER
    # After an edit most article pages are the previous build's: only the rest decide
    # whether forking workers pays (at 10,000 articles, forking to check their keys cost
    # more than checking them here).
    reused, slugs = renderer.split_reusable([a.slug for a in renderer.site.articles])
    jobs = usable_jobs(jobs)
    if jobs <= 1 or len(slugs) < PARALLEL_THRESHOLD or sys.platform != "linux":
        for page in renderer.other_pages():
            sink.record(sink.write(page))
        for page in itertools.chain(reused, renderer.article_pages(slugs)):
            sink.record(sink.write(page))
        return
    # One article page is rendered here before the workers fork: they inherit the
    # templates it loaded instead of each compiling them (the default theme's article,
    # base and macros templates take 47 ms to compile), and the compiled article
    # template reaches the build cache from here.
    for page in renderer.article_pages(slugs[:1]):
        sink.record(sink.write(page))
    slugs = slugs[1:]
    _WORKER = (renderer, sink)
    # At most RENDER_CHUNK pages a chunk (about a quarter of a second): after Ctrl-C
    # the pool waits for the chunks the workers hold.
    size = max(16, min(RENDER_CHUNK, len(slugs) // (jobs * 4)))
    chunks = [slugs[i:i + size] for i in range(0, len(slugs), size)]
    progress = Progress(len(slugs), "Rendering pages")
    set_aside()
    try:
        # The feed entries the feeds will need are made by the workers too (the feeds
        # themselves are put together after the pages, by this process).
        missing = renderer.missing_feed_entries()
        feed_chunks = [missing[i:i + FEED_CHUNK] for i in range(0, len(missing), FEED_CHUNK)]
        # This process renders too (the other pages, then the chunks no worker has
        # started): `jobs` processes in all, so one worker fewer than the analysis has
        # (there this process only collects results). With a worker per core, three
        # processes took turns on two cores: at 10,000 articles a cold build's median
        # was 0.2-0.5 s longer (of 12.4-13.0 s) and took 0.3-1.0 s more CPU; at 1,000
        # the two were even.
        with worker_pool(jobs - 1) as pool:
            futures = [pool.submit(_render_article_chunk, chunk) for chunk in chunks]
            feed_futures = [pool.submit(_feed_entry_chunk, chunk) for chunk in feed_chunks]
            for page in itertools.chain(renderer.other_pages(), reused):
                sink.record(sink.write(page))
            # Done with its own share, this process takes back the chunks no worker has
            # started (a task not yet handed to a worker can be cancelled), last first:
            # on a small site it finished its pages long before the workers, and waited.
            # A worker's failure stops it: the results below raise it.
            every = (*futures, *feed_futures)
            entries: dict[int, list[PackedEntry]] = {}
            pages: dict[int, list[Any]] = {}
            for i in reversed(range(len(feed_chunks))):
                if _failed(every):
                    break
                if feed_futures[i].cancel():
                    entries[i] = renderer.feed_entries(feed_chunks[i])
            for i in reversed(range(len(chunks))):
                if _failed(every):
                    break
                if futures[i].cancel():
                    pages[i] = [sink.write(page) for page in renderer.article_pages(chunks[i])]
                    progress.advance(len(pages[i]))
            for i, future in enumerate(futures):
                if i in pages:
                    written = pages[i]
                else:
                    written = future.result()
                    progress.advance(len(written))
                for item in written:
                    sink.record(item)
            for i, chunk in enumerate(feed_chunks):
                renderer.keep_feed_entries(
                    chunk, entries[i] if i in entries else feed_futures[i].result())
    finally:
        _WORKER = None
        progress.close()
