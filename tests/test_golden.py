"""Golden output: a small fixture site must build exactly the files in tests/golden/site/.

After an intended change to the output, run `pytest tests/test_golden.py --update-golden`
and review the diff of tests/golden/site/ like any other change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from digest.build import build

from .conftest import MINIMAL_SITE, write_files

GOLDEN = Path(__file__).parent / "golden" / "site"

FIXTURE = {
    **MINIMAL_SITE,
    "site.toml": MINIMAL_SITE["site.toml"].replace('base_url = "https://example.org/"',
                                                   'base_url = "https://example.org/brief/"')
    + "\n[search]\nenabled = false\n",
    "content/pages/about.md": "---\ntitle: About\n---\n\nA *test* digest.\n",
    "content/digests/2025-09-05.yaml": "title: Friday\nintro: The Kremlin's answer.\n",
}


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_fixture_site_matches_golden_files(tmp_path: Path, update_golden: bool) -> None:
    root = write_files(tmp_path / "site", FIXTURE)
    out = tmp_path / "out"
    build(root, output=out, use_cache=False)
    built = _tree(out)
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    golden = _tree(GOLDEN)
    assert sorted(built) == sorted(golden)
    for rel, data in built.items():
        assert data == golden[rel], f"{rel} differs from tests/golden/site/{rel}"
