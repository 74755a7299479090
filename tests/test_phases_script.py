"""benchmarks/phases.py: the per-phase timer used to profile before optimising."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
