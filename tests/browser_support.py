"""Browser-test helpers: build the demo, serve it under /digest/, drive Debian's Chromium.

Run as a script to refresh the README screenshots:
    python tests/browser_support.py docs/screenshots
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
BASE_PATH = "/digest/"

# One page of each type of the demo site, by site-relative URL.
ARTICLE = "articles/russia-rejects-foreign-troops-as-security-guarantees/"
PAGES = {
    "home": "",
    "edition": "digests/2025-09-05/",
    "article": ARTICLE,
    "topics": "topics/",
    "topic": "topics/russia-ukraine-war/",
    "people": "people/",
    "person": "people/dmitry-peskov/",
    "quotes": "quotes/",
    "chronology": "chronology/",
    "page": "about/",
    "search": "search/",
    "404": "404.html",
}


def require(available: bool, reason: str) -> None:
    """Skip when a browser tool is missing, but fail when CI is set: CI must run them."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def require_browser() -> None:
    require(CHROMIUM.is_file(), f"{CHROMIUM} is missing (apt-get install chromium)")
    require(
        importlib.util.find_spec("playwright") is not None,
        "Playwright is missing (pip install playwright; never `playwright install`)",
    )


def require_axe() -> None:
    require(AXE_JS.is_file(), f"{AXE_JS.relative_to(REPO_ROOT)} is missing (run npm ci)")


def build_demo(output: Path) -> Path:
    """Build the demo site into `output` with its search page and Pagefind index.

    Until the build renders search.html and calls digest.search.index_site itself,
    this adds both (with the build's own template environment); once it does, the
    additions step aside.
    """
    import digest.pipeline as pipeline_module
    from digest import search
    from digest.build import build
    from digest.config import load_config
    from digest.urls import Urls
    from digest.views import PageMeta

    environments = []
    make_environment = pipeline_module.make_environment

    def keep_environment(*args: Any, **kwargs: Any) -> Any:
        environments.append(make_environment(*args, **kwargs))
        return environments[-1]

    with mock.patch.object(pipeline_module, "make_environment", keep_environment):
        build(REPO_ROOT, output=output)
    config = load_config(REPO_ROOT)
    search_page = output / "search" / "index.html"
    if config.search and not search_page.exists():
        meta = PageMeta(
            "Search",
            config.description,
            "search/",
            "search",
            Urls(config.base_url).absolute("search/"),
        )
        search_page.parent.mkdir(parents=True, exist_ok=True)
        search_page.write_text(
            environments[-1].get_template("search.html").render(page=meta), encoding="utf-8"
        )
    if config.search and not (output / search.BUNDLE_DIR).is_dir():
        search.index_site(output, config)
    return output


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on a free port of 127.0.0.1; yield its root URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def demo_server(tmp: Path) -> Iterator[str]:
    """Build the demo into tmp/digest and serve tmp; yield the site URL ending in /digest/."""
    build_demo(tmp / BASE_PATH.strip("/"))
    with serve(tmp) as root:
        yield root + BASE_PATH


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, headless and offline."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the loaded page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})).violations",
        AXE_TAGS,
    )


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{targets}]")
    return "\n".join(lines)


def has_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )


def take_readme_screenshots(site_url: str, folder: Path) -> list[Path]:
    """The PNGs the README shows: article wide and phone, chronology, a topic page."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = [  # name, page, viewport width and height, pixel ratio, note to open
        ("article-wide.png", ARTICLE, 1280, 1440, 1, None),
        ("article-phone.png", ARTICLE, 375, 812, 2, "note-1"),
        ("chronology.png", "chronology/", 1280, 1000, 1, None),
        ("topic.png", "topics/russia-ukraine-war/", 1280, 1000, 1, None),
    ]
    paths = []
    with chromium() as browser:
        for name, rel, width, height, scale, note in shots:
            context = browser.new_context(
                viewport={"width": width, "height": height},
                color_scheme="light",
                device_scale_factor=scale,
                has_touch=width < 600,
            )
            page = context.new_page()
            page.goto(site_url + rel)
            if note:
                page.locator(f"label[for=toggle-{note}]").tap()
                page.evaluate(
                    "(id) => window.scrollTo(0, document.getElementById(id)"
                    ".getBoundingClientRect().top + window.scrollY - 200)",
                    f"passage-{note}",
                )
            path = folder / name
            page.screenshot(path=str(path))
            paths.append(path)
            context.close()
    return paths


def main(argv: list[str]) -> int:
    import tempfile

    folder = Path(argv[1] if len(argv) > 1 else REPO_ROOT / "docs" / "screenshots").resolve()
    with tempfile.TemporaryDirectory() as tmp, demo_server(Path(tmp)) as site_url:
        for path in take_readme_screenshots(site_url, folder):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
