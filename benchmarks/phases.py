#!/usr/bin/env python3
"""Where a build's time goes: `digest build` in this process, timed per phase.

    python benchmarks/phases.py SITE [--output DIR] [--jobs N] [--cold] [--profile N]

Wraps the pipeline's phases (discovery, the articles' analysis, site validation,
saving the caches, listing pages, article pages, feeds, timeline, sitemap, the output
manifest) with timers and prints the wall seconds of each call, in the order they
ended. With `--cold` the site's `.digest-cache/` is removed first. With `--profile N`
the build runs under cProfile and the N functions with the most time of their own are
printed too, then the same time summed per module (in a forked worker only the main
process is profiled).

Phases overlap: listing pages are rendered in the main process while the article
workers render article pages, so the rendering phase is not the sum of its parts.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from digest import build as build_module  # noqa: E402
from digest import pipeline, render  # noqa: E402
from digest.cache import BuildCache  # noqa: E402

Timings = list[tuple[str, float]]


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
            timings.append((name, time.perf_counter() - started))
    return timed


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
    args = parser.parse_args(argv)
    root = args.site.resolve()
    if args.cold:
        shutil.rmtree(root / ".digest-cache", ignore_errors=True)
    timings: Timings = []
    instrument(timings)
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = build_module.build(root, output=args.output, jobs=args.jobs)
    if profiler is not None:
        profiler.disable()
    total = time.perf_counter() - started
    print(f"build: {total:.3f} s, {report.files} files written, {report.articles} articles")
    for name, seconds in timings:
        print(f"{seconds:9.3f} s  {name}")
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
