#!/usr/bin/env python3
"""Where a build's time goes: `digest build` in this process, timed per phase.

    python benchmarks/phases.py SITE [--output DIR] [--jobs N] [--cold] [--profile N]
                                     [--timeline]

Wraps the pipeline's phases (discovery, the articles' analysis, site validation,
saving the caches, listing pages, article pages, feeds, timeline, sitemap, the output
manifest) with timers and prints the wall seconds of each call, in the order they
ended. With `--cold` the site's `.digest-cache/` is removed first. With `--profile N`
the build runs under cProfile and the N functions with the most time of their own are
printed too, then the same time summed per module (in a forked worker only the main
process is profiled).

Phases overlap: listing pages are rendered in the main process while the article
workers render article pages, so the rendering phase is not the sum of its parts.
`--timeline` shows how: each phase's start and end, in seconds from the build's start,
and when the worker pools' tasks of each kind finished (first and last), so that time
spent in one process while the others wait stands out.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import functools
import pstats
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from digest import build as build_module  # noqa: E402
from digest import parallel, pipeline, render  # noqa: E402
from digest.cache import BuildCache  # noqa: E402

Timings = list[tuple[str, float, float]]  # phase, start and end (perf_counter)
TaskEnds = dict[str, list[float]]  # the function a pool ran -> when each call finished


def _timed(name: str, function: Callable[..., Any], timings: Timings) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = function(*args, **kwargs)
            if name == "listing pages":  # a generator: time it to its end
                result = list(result)
            return result
        finally:
            timings.append((name, started, time.perf_counter()))
    return timed


def watch_pools(task_ends: TaskEnds) -> None:
    """Note when each task of the build's worker pools finishes (by its function)."""
    make_pool = parallel.worker_pool

    @contextlib.contextmanager
    def worker_pool(jobs: int) -> Iterator[Any]:
        with make_pool(jobs) as pool:
            submit = pool.submit

            def watched(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
                future = submit(function, *args, **kwargs)
                # pool.map submits partial(its own chunk runner, the function mapped)
                named = function
                while isinstance(named, functools.partial):
                    named = (named.args[0] if named.args and callable(named.args[0])
                             else named.func)
                ends = task_ends.setdefault(getattr(named, "__name__", repr(named)), [])
                future.add_done_callback(lambda _: ends.append(time.perf_counter()))
                return future
            pool.submit = watched  # type: ignore[method-assign]
            yield pool
    parallel.worker_pool = worker_pool  # type: ignore[assignment]


def instrument(timings: Timings) -> None:
    """Put timers around the phases (module attributes are replaced in this process)."""
    for module, attribute, name in [
        (build_module, "discover", "discovery"),
        (build_module, "manifest", "output manifest"),
        (build_module, "inputs_fingerprint", "inputs fingerprint"),
        (pipeline, "process_articles", "articles (load, check, annotate)"),
        (pipeline, "validate_site", "site validation"),
        (pipeline, "analyse_sources", "analysis in all"),
        (pipeline, "render_pages", "pages (listing and article)"),
        (pipeline, "render_files", "rendering in all"),
    ]:
        setattr(module, attribute, _timed(name, getattr(module, attribute), timings))
    renderer = render.SiteRenderer
    for attribute, name in [("other_pages", "listing pages"), ("feeds", "feeds"),
                            ("timeline", "timeline"), ("sitemap", "sitemap")]:
        setattr(renderer, attribute, _timed(name, getattr(renderer, attribute), timings))
    BuildCache.save = _timed("cache save", BuildCache.save, timings)  # type: ignore[method-assign]


def per_module(stats: pstats.Stats) -> list[tuple[float, str]]:
    """Own time summed per source file (built-ins by name)."""
    totals: collections.Counter[str] = collections.Counter()
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        where = filename.split("site-packages/")[-1].replace(str(REPO_ROOT) + "/", "")
        totals[function if filename == "~" else where] += row[2]
    return [(seconds, where) for where, seconds in totals.most_common()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="a site folder (holding site.toml)")
    parser.add_argument("--output", type=Path, help="build here instead of the site's output")
    parser.add_argument("--jobs", type=int, default=0, help="as digest build --jobs")
    parser.add_argument("--cold", action="store_true", help="remove .digest-cache/ first")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile, and print the N costliest functions")
    parser.add_argument("--timeline", action="store_true",
                        help="also print when each phase and the workers' tasks ended")
    args = parser.parse_args(argv)
    root = args.site.resolve()
    if args.cold:
        shutil.rmtree(root / ".digest-cache", ignore_errors=True)
    timings: Timings = []
    instrument(timings)
    task_ends: TaskEnds = {}
    if args.timeline:
        watch_pools(task_ends)
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = build_module.build(root, output=args.output, jobs=args.jobs)
    if profiler is not None:
        profiler.disable()
    total = time.perf_counter() - started
    print(f"build: {total:.3f} s, {report.files} files written, {report.articles} articles")
    for name, start, end in timings:
        print(f"{end - start:9.3f} s  {name}")
    if args.timeline:
        print("\nTimeline (seconds from the build's start):")
        lines = [(start, f"{start - started:7.3f} - {end - started:7.3f}  {name}")
                 for name, start, end in timings]
        lines += [(min(ends), f"{min(ends) - started:7.3f} - {max(ends) - started:7.3f}  "
                   f"{len(ends)} {name} tasks finished (first - last)")
                  for name, ends in task_ends.items() if ends]
        for _, line in sorted(lines):
            print(line)
    if profiler is not None:
        stats = pstats.Stats(profiler)
        print(f"\nThe {args.profile} functions with the most time of their own:")
        stats.sort_stats("tottime").print_stats(args.profile)
        print("Own time per module:")
        for seconds, where in per_module(stats)[:args.profile]:
            print(f"{seconds:9.3f} s  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
