"""benchmarks/phases.py: the per-phase timer used to profile before optimising."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import MINIMAL_SITE

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "phases.py"
PHASES = ["discovery", "articles (load, check, annotate)", "site validation",
          "analysis in all", "listing pages", "pages (listing and article)", "feeds",
          "timeline", "sitemap", "rendering in all", "output manifest"]


def test_phases_times_every_phase_of_a_build(make_site, tmp_path: Path) -> None:
    root = make_site(MINIMAL_SITE)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(SCRIPT), str(root), "--output", str(out),
                           "--cold", "--profile", "3"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"build: \d+\.\d{3} s, \d+ files written, 1 articles", lines[0])
    timed = [m.group(1) for line in lines[1:]
             if (m := re.fullmatch(r" *\d+\.\d{3} s  (.+)", line))]
    for phase in PHASES:
        assert phase in timed, phase
    assert "Own time per module:" in done.stdout
    assert (out / "index.html").is_file()


@pytest.mark.skipif(sys.platform != "linux", reason="digest forks its workers on Linux only")
def test_the_timeline_shows_phases_and_the_workers_tasks(tmp_path: Path) -> None:
    # Enough articles for the build to fork workers (parallel.PARALLEL_THRESHOLD is 48).
    site, corpus = tmp_path / "site", SCRIPT.parent.parent / "tests/fixtures/import/wikinews"
    subprocess.run([sys.executable, str(SCRIPT.parent / "generate.py"), "60", str(site),
                    "--corpus", str(corpus)], capture_output=True, text=True, timeout=120,
                   check=True)
    done = subprocess.run([sys.executable, str(SCRIPT), str(site), "--output",
                           str(tmp_path / "out"), "--cold", "--jobs", "2", "--timeline"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    timeline = done.stdout.split("Timeline (seconds from the build's start):\n")[1]
    spans = {m.group(3): (float(m.group(1)), float(m.group(2)))
             for m in re.finditer(r"^ *(\d+\.\d{3}) - +(\d+\.\d{3})  (.+)$", timeline, re.M)}
    for phase in PHASES:
        assert phase in spans, phase
    assert all(start <= end for start, end in spans.values())
    tasks = {name for name in spans if name.endswith("tasks finished (first - last)")}
    assert any(" _process_chunk tasks" in name for name in tasks), tasks
    assert any(" _render_article_chunk tasks" in name for name in tasks), tasks
    # Articles are read before their pages render.
    reading = next(spans[n] for n in tasks if " _process_chunk tasks" in n)
    rendering = next(spans[n] for n in tasks if " _render_article_chunk tasks" in n)
    assert reading[1] <= rendering[0]
