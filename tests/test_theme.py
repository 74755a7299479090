"""Themes: a site overrides single templates, extends the default explicitly, adds static
files; the default theme's own templates stay robust (search on or off, no JavaScript)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digest.build import build
from digest.config import load_config, parse_config
from digest.errors import DigestError
from digest.search import BUNDLE_DIR, index_site, pagefind_executable
from digest.templates import make_environment
from digest.themefiles import resolve_theme
from digest.urls import Urls
from digest.views import PageMeta

from .browser_support import require
from .conftest import MINIMAL_SITE

THEMED_TOML = (
    MINIMAL_SITE["site.toml"].replace(
        'base_url = "https://example.org/"', 'base_url = "https://example.org/brief/"'
    )
    + '\n[build]\ntheme = "house"\n'
)
ARTICLE = "articles/talks/index.html"


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def test_a_site_template_overrides_one_default_template(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "site.toml": THEMED_TOML,
            "themes/house/templates/topics.html": (
                '{% extends "base.html" %}\n'
                "{% block main %}<h1>House topics</h1><p>{{ topics | length }} topic(s)</p>"
                "{% endblock %}\n"
            ),
        }
    )
    out = tmp_path / "out"
    build(root, output=out)
    topics = read(out, "topics/index.html")
    assert "<h1>House topics</h1><p>1 topic(s)</p>" in topics
    assert '<a class="skip-link" href="#main">' in topics  # still the default base.html
    article = read(out, ARTICLE)  # every other page keeps the default templates
    assert 'class="sidenote note-context"' in article and 'class="callout"' in article


def test_a_site_template_extends_the_default_one_and_adds_a_stylesheet(
    make_site, tmp_path: Path
) -> None:
    root = make_site(
        {
            "site.toml": THEMED_TOML,
            "themes/house/templates/article.html": (
                '{% extends "default/article.html" %}\n'
                '{% block head %}<link rel="stylesheet" href="{{ asset(\'house.css\') }}">'
                "{% endblock %}\n"
            ),
            "themes/house/static/house.css": ".article h1 { color: teal; }\n",
        }
    )
    out = tmp_path / "out"
    build(root, output=out)
    article = read(out, ARTICLE)
    link = re.search(
        r'<link rel="stylesheet" href="(/brief/static/house\.[0-9a-f]{10}\.css)">', article
    )
    assert link, "the theme's stylesheet is linked with a content-hashed name"
    assert (
        out / link.group(1).removeprefix("/brief/")
    ).read_text() == ".article h1 { color: teal; }\n"
    assert re.search(r'href="/brief/static/style\.[0-9a-f]{10}\.css"', article)
    # The default article template still renders the body, notes and callouts.
    assert 'class="sidenote note-context"' in article and 'class="callout"' in article
    assert "<h1>Kremlin rejects foreign troops</h1>" in article


def test_a_site_base_template_extends_the_default_base(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "site.toml": THEMED_TOML,
            "themes/house/templates/base.html": (
                '{% extends "default/base.html" %}\n'
                '{% block footer %}<p class="house-footer">House rules apply.</p>{% endblock %}\n'
            ),
        }
    )
    out = tmp_path / "out"
    build(root, output=out)
    for rel in (ARTICLE, "index.html", "topics/index.html", "404.html"):
        assert '<p class="house-footer">House rules apply.</p>' in read(out, rel), rel


def test_theme_static_files_get_content_hashed_names(make_site, tmp_path: Path) -> None:
    names = []
    for colour in ("teal", "navy"):
        root = make_site(
            {
                "site.toml": THEMED_TOML,
                "themes/house/static/house.css": f"body {{ color: {colour}; }}\n",
            }
        )
        out = tmp_path / colour
        build(root, output=out)
        names.append(sorted(p.name for p in (out / "static").glob("house.*.css")))
    assert len(names[0]) == len(names[1]) == 1 and names[0] != names[1]


def test_an_unknown_theme_is_an_error_with_a_hint(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": MINIMAL_SITE["site.toml"] + '\n[build]\ntheme = "nope"\n'})
    with pytest.raises(DigestError, match=r"theme 'nope' not found; create themes/nope/"):
        build(root, output=tmp_path / "out")


def _render_search(tmp_path: Path, enabled: bool) -> str:
    toml = MINIMAL_SITE["site.toml"].replace(
        '"https://example.org/"', '"https://example.org/brief/"'
    )
    config = parse_config(toml + f"\n[search]\nenabled = {str(enabled).lower()}\n", tmp_path)
    links = Urls(config.base_url)
    env = make_environment(
        resolve_theme(tmp_path, "default"),
        {},
        {
            "site": config,
            "url": links.href,
            "absolute_url": links.absolute,
            "asset": lambda name: links.href(f"static/{name}"),
            "nav": [("Home", links.href(""))],
        },
    )
    meta = PageMeta("Search", "", "search/", "search", links.absolute("search/"))
    return env.get_template("search.html").render(page=meta)


def test_search_page_explains_itself_without_javascript(tmp_path: Path) -> None:
    html = _render_search(tmp_path, enabled=True)
    assert 'id="search-nojs"' in html and "needs JavaScript" in html
    assert 'href="/brief/topics/"' in html and 'href="/brief/people/"' in html
    assert 'data-bundle="/brief/pagefind/"' in html and 'data-base="/brief/"' in html
    assert '<script type="module" src="/brief/static/search.js">' in html
    assert re.search(r"<form [^>]*\bhidden\b", html)  # shown by the script only


def test_search_page_with_search_switched_off(tmp_path: Path) -> None:
    html = _render_search(tmp_path, enabled=False)
    assert "Search is switched off" in html and 'href="/brief/topics/"' in html
    assert "<script" not in html and "<form" not in html


def test_article_pages_carry_pagefind_attributes(make_site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(make_site(), output=out)
    article = read(out, ARTICLE)
    assert article.count("data-pagefind-body") == 1
    assert '<a href="/topics/war/" data-pagefind-filter="topic">War</a>' in article
    assert (
        '<a href="/people/dmitry-peskov/" data-pagefind-filter="person">Dmitry Peskov</a>'
        in article
    )
    for rel in ("index.html", "topics/index.html", "people/dmitry-peskov/index.html"):
        assert "data-pagefind-body" not in read(out, rel), rel


def test_index_site_writes_a_pagefind_bundle_of_the_articles(make_site, tmp_path: Path) -> None:
    try:
        pagefind_executable()
    except DigestError:
        require(False, "the Pagefind binary is missing (pip install 'pagefind[bin]')")
    root = make_site()
    out = tmp_path / "out"
    build(root, output=out)
    index_site(out, load_config(root))
    entry = (out / BUNDLE_DIR / "pagefind-entry.json").read_text()
    assert '"page_count":1' in entry  # the article; no index or list page
    assert (out / BUNDLE_DIR / "pagefind.js").is_file()


def test_index_site_does_nothing_when_search_is_off(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": MINIMAL_SITE["site.toml"] + "\n[search]\nenabled = false\n"})
    index_site(tmp_path, load_config(root))
    assert list(tmp_path.iterdir()) == [root]


def test_index_site_names_a_missing_binary(
    make_site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    with pytest.raises(DigestError, match=r"Pagefind could not run: .*enabled = false"):
        index_site(tmp_path, load_config(make_site()))


def test_templates_see_the_environments_globals_under_their_own(tmp_path: Path) -> None:
    # Template globals are a plain dict made when the template is loaded (a ChainMap
    # cost 7-12% of an article page): an environment's globals are all set before that.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/g.html").write_text(
        "{{ site }} {{ shared }} {{ own }}{% from '_m.html' import m %} {{ m() }}")
    (tmp_path / "templates/_m.html").write_text("{% macro m() %}[{{ site }}]{% endmacro %}")
    theme = resolve_theme(tmp_path, "default")
    theme = theme._replace(template_dirs=(tmp_path / "templates", *theme.template_dirs))
    env = make_environment(theme, {}, {"site": "S", "shared": "env"})
    template = env.get_template("g.html", globals={"shared": "template", "own": "O"})
    assert template.render() == "S template O [S]"
    assert env.get_template("_m.html").module.m() == "[S]"
