"""`digest serve` in a real browser: an open page reloads itself after an edit, shows
the build problems in an overlay after a broken edit, and recovers after the fix.

Drives Debian's Chromium through Playwright from PyPI (never `playwright install`).
Skips when either is missing, but fails when CI is set: CI must run these.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.serve import DevServer
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.test_serve import (
    ARTICLE_URL,
    BROKEN_AT,
    BROKEN_SIDECAR,
    SIDECAR,
    make_demo_site,
    running,
    save,
    sidecar,
)

TIMEOUT_MS = 10_000
OVERLAY = "digest-error-overlay"


def _require(available: bool, reason: str) -> None:
    """Skip without the browser tools, except under CI, where missing them is a failure."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require(CHROMIUM.is_file(), f"{CHROMIUM} is missing (apt-get install chromium)")
    _require(
        importlib.util.find_spec("playwright") is not None,
        "Playwright is missing (pip install playwright; never `playwright install`)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page whose script errors fail the test."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_demo_site(tmp_path / "site")


@pytest.fixture
def server(site: Path) -> Iterator[DevServer]:
    with running(site) as dev:
        assert dev.state.build_id, "the demo site must build"
        yield dev


def _article_url(server: DevServer) -> str:
    return f"http://127.0.0.1:{server.port}{ARTICLE_URL}"


def _wait_for_text(page: Any, text: str) -> None:
    page.wait_for_function("(text) => document.body.innerText.includes(text)", arg=text)


def _mark(page: Any) -> None:
    """Leave a mark in the page's JS state; only a reload removes it."""
    page.evaluate("window.__beforeReload = true")


def _was_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__beforeReload === undefined"))


def test_edit_reloads_a_broken_edit_shows_the_overlay_and_the_fix_recovers(
    page: Any, server: DevServer, site: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(_article_url(server))
    _wait_for_text(page, "First summary text.")

    _mark(page)
    save(site / SIDECAR, sidecar("Second summary text."))
    _wait_for_text(page, "Second summary text.")
    assert _was_reloaded(page)

    _mark(page)
    save(site / SIDECAR, BROKEN_SIDECAR)
    problems = page.locator(f"{OVERLAY} pre")
    expect(problems).to_contain_text(BROKEN_AT)
    expect(page.locator(OVERLAY).get_by_role("alert")).to_be_visible()
    assert not _was_reloaded(page), "a failed build must not reload the page"
    assert "Second summary text." in page.locator("main").inner_text()

    page.locator(OVERLAY).get_by_role("button", name="Dismiss").click()
    expect(page.locator(OVERLAY)).to_have_count(0)

    save(site / SIDECAR, sidecar("Fixed summary text."))
    _wait_for_text(page, "Fixed summary text.")
    assert _was_reloaded(page)
    expect(page.locator(OVERLAY)).to_have_count(0)


def test_the_overlay_shows_problem_text_as_text_and_escape_dismisses_it(
    page: Any, server: DevServer, site: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(_article_url(server))
    key = "<img src=x onerror=window.pwned=1>"
    save(site / SIDECAR, f'summary: Fine.\n"{key}": 1\n')
    expect(page.locator(f"{OVERLAY} pre")).to_contain_text(f"{SIDECAR}:2:1: error:")
    expect(page.locator(f"{OVERLAY} pre")).to_contain_text(key)
    assert page.locator(f"{OVERLAY} img").count() == 0
    assert page.evaluate("window.pwned") is None

    page.keyboard.press("Escape")
    expect(page.locator(OVERLAY)).to_have_count(0)


def test_a_page_opened_on_a_failed_first_build_turns_into_the_site_when_fixed(
    page: Any, site: Path
) -> None:
    from playwright.sync_api import expect

    save(site / SIDECAR, BROKEN_SIDECAR)
    with running(site) as server:
        page.goto(_article_url(server))
        expect(page.locator("h1")).to_have_text("The site could not be built")
        expect(page.locator("body > pre")).to_contain_text(BROKEN_AT)
        save(site / SIDECAR, sidecar("Built at last."))
        _wait_for_text(page, "Built at last.")
        expect(page.locator(OVERLAY)).to_have_count(0)
