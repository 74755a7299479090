"""The built demo in a real browser: accessibility, search, side notes, small screens.

Drives Debian's Chromium through Playwright against the demo built into a temporary
folder and served under /digest/, the base path of site.toml. Missing tools skip these
tests, except under CI (the CI variable set), where they fail.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from .browser_support import (
    ARTICLE,
    ARTIFACTS,
    PAGES,
    chromium,
    demo_server,
    describe_violations,
    has_horizontal_scroll,
    require_axe,
    require_browser,
    run_axe,
)

# Registered in pyproject's [tool.pytest.ini_options] markers; until then, don't warn.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    with demo_server(tmp_path_factory.mktemp("served")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site_url: str) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Open pages in fresh contexts: new_page(width=..., scheme=..., js=...)."""
    contexts = []

    def open_page(
        width: int = 1280,
        height: int = 900,
        scheme: str = "light",
        js: bool = True,
        touch: bool = False,
    ) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            java_script_enabled=js,
            has_touch=touch,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def goto(page: Any, site_url: str, rel: str, js: bool = True) -> None:
    """Load a page; on the search page, wait until the script has shown the form."""
    response = page.goto(site_url + rel)
    assert response is not None and response.ok, rel
    if rel == PAGES["search"] and js:
        page.wait_for_selector("#search-form:not([hidden])", timeout=5000)


def test_no_axe_violations_on_any_page_type(site_url: str, new_page: Any) -> None:
    require_axe()
    page = new_page()
    failures = {}
    for kind, rel in PAGES.items():
        goto(page, site_url, rel)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            if violations := run_axe(page):
                failures[f"{kind} ({scheme})"] = describe_violations(violations)
        page.emulate_media(color_scheme="light")
    assert failures == {}


def test_no_axe_violations_with_a_note_open_on_a_phone(site_url: str, new_page: Any) -> None:
    require_axe()
    page = new_page(width=375, touch=True)
    goto(page, site_url, ARTICLE)
    page.locator("label[for=toggle-note-1]").tap()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert describe_violations(run_axe(page)) == "", scheme


def test_dark_scheme_changes_colours(site_url: str, new_page: Any) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page = new_page(scheme=scheme)
        goto(page, site_url, ARTICLE)
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert colours["light"] != colours["dark"]


def test_search_finds_a_person_under_the_base_path(site_url: str, new_page: Any) -> None:
    page = new_page()
    goto(page, site_url, PAGES["search"])
    page.fill("#search-q", "Peskov")
    link = page.locator(f'#search-results a[href="/digest/{ARTICLE}"]')
    link.wait_for(timeout=5000)
    assert "found" in page.locator("#search-status").inner_text()
    link.click()
    page.wait_for_url(f"**/digest/{ARTICLE}")
    assert page.locator("h1").inner_text().startswith("Russia rejects foreign troops")


def test_search_filters_by_person_and_topic(site_url: str, new_page: Any) -> None:
    page = new_page()
    goto(page, site_url, PAGES["search"])
    page.get_by_text("Filter by person or topic").click()
    page.get_by_label("Dmitry Peskov").check()
    page.locator("#search-results li").first.wait_for(timeout=5000)
    hrefs = page.locator("#search-results h2 a").evaluate_all("links => links.map(a => a.href)")
    assert [h.split("/digest/", 1)[1] for h in hrefs] == [ARTICLE]
    assert "person=Dmitry+Peskov" in page.url  # the filtered search can be shared
    page.get_by_label("Dmitry Peskov").uncheck()
    page.get_by_label("Trump impeachment").check()
    page.wait_for_function("document.querySelectorAll('#search-results li').length >= 2")
    hrefs = page.locator("#search-results h2 a").evaluate_all("links => links.map(a => a.href)")
    assert all("/digest/articles/" in h for h in hrefs) and ARTICLE not in "".join(hrefs)


def test_search_page_without_javascript_points_elsewhere(site_url: str, new_page: Any) -> None:
    page = new_page(js=False)
    goto(page, site_url, PAGES["search"], js=False)
    message = page.locator("#search-nojs")
    assert message.is_visible() and "JavaScript" in message.inner_text()
    assert message.locator('a[href="/digest/topics/"]').count() == 1
    assert message.locator('a[href="/digest/people/"]').count() == 1
    assert not page.locator("#search-form").is_visible()


def test_side_notes_open_by_tapping_on_a_phone_without_javascript(
    site_url: str, new_page: Any
) -> None:
    page = new_page(width=375, js=False, touch=True)
    goto(page, site_url, ARTICLE, js=False)
    note = page.locator("#note-1")
    assert not note.is_visible()
    page.locator("label[for=toggle-note-1]").tap()
    assert note.is_visible()
    box = note.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    page.locator("label[for=toggle-note-1]").tap()
    assert not note.is_visible()


def test_side_notes_sit_in_the_margin_beside_their_passage(site_url: str, new_page: Any) -> None:
    page = new_page(width=1280)
    goto(page, site_url, ARTICLE)
    body = page.locator(".article .body").bounding_box()
    assert body is not None
    previous_bottom = 0.0
    for note in page.locator(".sidenote").all():
        note_id = note.get_attribute("id")
        box = note.bounding_box()
        mark = page.locator(f"#passage-{note_id}").bounding_box()
        assert box is not None and mark is not None
        assert box["x"] >= body["x"] + body["width"], f"{note_id} overlaps the text"
        assert box["x"] + box["width"] <= 1280, f"{note_id} runs off the screen"
        assert box["y"] >= previous_bottom, f"{note_id} overlaps the note above it"
        # Beside its passage: starts on the passage's last line, or below an earlier note.
        assert box["y"] - (mark["y"] + mark["height"]) < 60 or box["y"] - previous_bottom < 40
        previous_bottom = box["y"] + box["height"]


def test_highlights_and_notes_link_both_ways(site_url: str, new_page: Any) -> None:
    page = new_page(width=1280)
    goto(page, site_url, ARTICLE)
    page.locator("#ref-note-2").click()
    assert page.evaluate("location.hash") == "#note-2"
    page.locator("#note-2 .note-number").click()
    assert page.evaluate("location.hash") == "#ref-note-2"


def test_no_horizontal_scrolling_on_small_screens(site_url: str, new_page: Any) -> None:
    page = new_page(width=320, height=700, touch=True)
    scrolling = []
    for kind, rel in PAGES.items():
        goto(page, site_url, rel)
        if kind == "article":  # with every note open, too
            for label in page.locator("label.note-toggle").all():
                label.tap()
        for width in (320, 375):
            page.set_viewport_size({"width": width, "height": 700})
            if has_horizontal_scroll(page):
                scrolling.append(f"{kind} at {width} px")
        page.set_viewport_size({"width": 320, "height": 700})
    assert scrolling == []


def test_keyboard_skip_link_and_visible_focus(site_url: str, new_page: Any) -> None:
    page = new_page()
    goto(page, site_url, ARTICLE)
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.is_visible() and (skip.bounding_box() or {"y": -1})["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.tagName") == "A" and outline != "none"


def test_screenshots_of_the_article(site_url: str, new_page: Any) -> None:
    """Test artifacts for a person to look at: the first screens of an article."""
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {
        "article-wide.png": (1280, 1400, "light"),
        "article-phone.png": (375, 1400, "light"),
        "article-dark.png": (1280, 1400, "dark"),
    }
    for name, (width, height, scheme) in shots.items():
        page = new_page(width=width, height=height, scheme=scheme)
        goto(page, site_url, ARTICLE)
        page.screenshot(path=str(ARTIFACTS / name))
        assert (ARTIFACTS / name).stat().st_size > 10_000
