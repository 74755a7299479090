"""Client-side search: index a built site with Pagefind.

The build calls `index_site` on its staging folder just before it swaps the folder in.
Only elements marked `data-pagefind-body` (the article pages) are indexed; the search
page template loads the bundle from `<base path>pagefind/`.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from digest.cache import CACHE_DIR, content_hash
from digest.config import SiteConfig
from digest.errors import DigestError

log = logging.getLogger(__name__)

BUNDLE_DIR = "pagefind"
# Side-note chrome and pull quotes repeat text or are controls, not content.
EXCLUDE_SELECTORS = ", ".join(
    [
        ".note-toggle",
        ".note-ref",
        ".note-number",
        ".callout",
        ".print-notes",
    ]
)
TIMEOUT_SECONDS = 300


def pagefind_executable() -> Path:
    """The Pagefind binary: $PAGEFIND_BINARY_PATH, the `pagefind[bin]` wheel, or PATH."""
    env_path = os.environ.get("PAGEFIND_BINARY_PATH")
    if env_path:
        return Path(env_path)
    try:
        from pagefind_bin import get_executable  # the binary shipped by `pagefind[bin]`

        return Path(get_executable())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if found:
        return Path(found)
    raise DigestError(
        "search: the Pagefind binary was not found; install it with "
        "pip install 'pagefind[bin]', or set [search] enabled = false "
        "in site.toml"
    )


def _indexed_pages_hash(folder: Path, executable: Path) -> str:
    """What the index depends on: every HTML page Pagefind reads, and Pagefind itself."""
    parts: list[str | bytes] = [str(executable), EXCLUDE_SELECTORS]
    for page in sorted(folder.rglob("*.html")):
        parts += [page.relative_to(folder).as_posix(), page.read_bytes()]
    return content_hash(*parts)


def index_site(folder: Path, config: SiteConfig) -> None:
    """Write the Pagefind index of the built site in `folder` to `folder/pagefind/`.

    Pagefind orders some of its files differently on every run (its issue #638), so an
    index is kept in .digest-cache/ and reused while the pages it was made from are
    unchanged: the same input then gives byte-identical files, and rebuilds are faster.
    """
    if not config.search:
        return
    executable = pagefind_executable()
    key = _indexed_pages_hash(folder, executable)
    cached = config.root / CACHE_DIR / "pagefind" / key
    shutil.rmtree(folder / BUNDLE_DIR, ignore_errors=True)  # an index of older pages
    if cached.is_dir():
        shutil.copytree(cached, folder / BUNDLE_DIR)
        return
    _run_pagefind(folder, executable)
    try:
        shutil.rmtree(cached.parent, ignore_errors=True)
        shutil.copytree(folder / BUNDLE_DIR, cached)
    except OSError as exc:
        log.warning("could not cache the search index: %s", exc)


def _run_pagefind(folder: Path, executable: Path) -> None:
    import subprocess  # here: every build imports this module, few index a site

    command = [
        str(executable),
        "--site",
        str(folder),
        "--output-subdir",
        BUNDLE_DIR,
        "--exclude-selectors",
        EXCLUDE_SELECTORS,
        "--silent",
    ]
    log.debug("indexing %s: %s", folder, " ".join(command))
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DigestError(
            f"search: Pagefind could not run: {exc}; set [search] "
            "enabled = false in site.toml to build without search"
        ) from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise DigestError(
            f"search: Pagefind failed (exit {result.returncode}): "
            f"{detail[-1] if detail else 'no output'}; set [search] "
            "enabled = false in site.toml to build without search"
        )
