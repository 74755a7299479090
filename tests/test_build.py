"""End-to-end builds: pages, links, base path, determinism, failure safety."""

from __future__ import annotations

import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from digest.build import build
from digest.errors import ContentError, OutputError

from .conftest import MINIMAL_SITE, REPO_ROOT


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for key in ("href", "src"):
            if values.get(key) and not (tag == "link" and values.get("rel") == "canonical"):
                self.links.append(values[key] or "")


def _parse(path: Path) -> _LinkCollector:
    collector = _LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def broken_links(site_dir: Path, base_path: str) -> list[str]:
    """Every internal href/src of every page that misses its file or #fragment."""
    pages = {p: _parse(p) for p in site_dir.rglob("*.html")}
    problems = []
    for page, parsed in sorted(pages.items()):
        page_url = "/" + page.relative_to(site_dir).as_posix()
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            if not parts.path:  # same-page fragment
                target = page
            else:
                if not parts.path.startswith(base_path):
                    problems.append(f"{page_url}: {link} escapes the base path {base_path}")
                    continue
                rel = unquote(parts.path[len(base_path):])
                target = site_dir / rel
                if parts.path.endswith("/"):
                    target = target / "index.html"
            if not target.is_file():
                problems.append(f"{page_url}: {link} -> missing {target}")
                continue
            if parts.fragment:
                ids = pages[target].ids if target in pages else set()
                if parts.fragment not in ids:
                    problems.append(f"{page_url}: {link} -> no id '{parts.fragment}'")
    return problems


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "site"
    build(REPO_ROOT, output=out)
    return out


def test_demo_has_every_page_kind(demo_site: Path) -> None:
    expected = [
        "index.html", "404.html", ".nojekyll", "topics/index.html", "people/index.html",
        "quotes/index.html", "chronology/index.html", "about/index.html",
        "articles/russia-rejects-foreign-troops-as-security-guarantees/index.html",
        "topics/russia-ukraine-war/index.html", "people/dmitry-peskov/index.html",
        "digests/2025-09-05/index.html",
    ]
    missing = [rel for rel in expected if not (demo_site / rel).exists()]
    assert missing == []


def test_demo_article_shows_annotations(demo_site: Path) -> None:
    html = (demo_site / "articles/russia-rejects-foreign-troops-as-security-guarantees/"
            "index.html").read_text()
    assert html.count('<figure class="callout">') >= 2
    assert '<mark id="peskov-definitely-not" class="quote"' in html
    for kind in ("context", "fact-check", "correction", "analysis"):
        assert f'class="sidenote note-{kind}"' in html
    assert "Vladimir Putin</a>, President of Russia" in html


def test_demo_links_resolve(demo_site: Path) -> None:
    assert broken_links(demo_site, "/digest/") == []


def test_demo_chronology_merges_and_shows_precisions(demo_site: Path) -> None:
    html = (demo_site / "chronology/index.html").read_text()
    assert re.search(r"<time datetime=\"\d{4}\">\d{4}</time>", html), "year-only event"
    assert re.search(r"<time datetime=\"\d{4}-\d{2}\">c\. [A-Z][a-z]+ \d{4}</time>", html)
    assert "6 August 2024 – 26 April 2025" in html
    merged = re.findall(r'<li class="event[^"]*" id="event-navalny-poisoning-2020">.*?</li>',
                        html, re.S)
    assert len(merged) == 1
    assert merged[0].count('href="/digest/articles/') == 2


def test_base_path_is_honoured(make_site) -> None:
    root = make_site()
    out = root / "_site"
    build(root, base_url="https://example.github.io/repo/", output=out)
    assert broken_links(out, "/repo/") == []
    html = (out / "articles/talks/index.html").read_text()
    assert 'href="/repo/topics/war/"' in html
    assert 'href="/topics/' not in html


def test_builds_are_byte_identical(make_site, tmp_path: Path) -> None:
    root = make_site()
    first, second = tmp_path / "one", tmp_path / "two"
    build(root, output=first)
    build(root, output=second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_failed_build_keeps_previous_site(make_site) -> None:
    root = make_site()
    out = root / "_site"
    build(root, output=out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (root / "content/articles/talks.yaml").write_text("quotes:\n  - text: Absolutely yes\n"
                                                      "    speaker: dmitry-peskov\n")
    with pytest.raises(ContentError) as caught:
        build(root, output=out)
    assert "content/articles/talks.yaml:2:11: error: quote not found in the article" in str(
        caught.value.message)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    leftovers = [p.name for p in root.iterdir()
                 if p.name.startswith((".digest-staging", ".digest-old"))]
    assert leftovers == []


def test_output_may_not_be_the_project(make_site) -> None:
    root = make_site()
    with pytest.raises(OutputError, match="is the project root or contains it"):
        build(root, output=root)
    (root / "out" / "content").mkdir(parents=True)
    with pytest.raises(OutputError, match="holds site.toml or content/"):
        build(root, output=root / "out")


def test_drafts_are_left_out_unless_asked(make_site) -> None:
    root = make_site({"content/articles/draft.md": "---\ntitle: Draft\ndate: 2025-09-06\n"
                      "draft: true\n---\n\nNot yet.\n"})
    out = root / "_site"
    build(root, output=out)
    assert not (out / "articles/draft").exists()
    build(root, output=out, drafts=True)
    assert (out / "articles/draft/index.html").is_file()


def test_killed_swap_is_recovered(make_site) -> None:
    root = make_site()
    out = root / "_site"
    build(root, output=out)
    # Simulate a build killed between its two renames: the old site sits aside.
    aside = root / ".digest-old-_site-x"
    os.rename(out, aside)
    build(root, output=out)
    assert (out / "index.html").is_file()
    assert not aside.exists()


def test_demo_builds_from_a_copy_without_theme_folder(tmp_path: Path) -> None:
    root = tmp_path / "copy"
    root.mkdir()
    shutil.copy(REPO_ROOT / "site.toml", root)
    shutil.copytree(REPO_ROOT / "content", root / "content")
    report = build(root)
    assert report.articles >= 5


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _sixty_articles() -> dict[str, str]:
    """The minimal site's article 60 times over: enough for worker processes."""
    files = {f"content/articles/a{i}.md": MINIMAL_SITE["content/articles/talks.md"]
             .replace("date: 2025-09-05", f"date: 2025-09-{1 + i % 28:02d}")
             for i in range(60)}
    files.update({f"content/articles/a{i}.yaml": MINIMAL_SITE["content/articles/talks.yaml"]
                  for i in range(60)})
    return files


def test_jobs_and_cache_do_not_change_output(make_site, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.cache

    # The articles' cache is written by a forked process, as on a large site.
    monkeypatch.setattr(digest.cache, "BACKGROUND_ENTRIES", 10)
    root = make_site(_sixty_articles())
    build(root, output=tmp_path / "serial", jobs=1, use_cache=False)
    build(root, output=tmp_path / "parallel", jobs=2, use_cache=False)
    build(root, output=tmp_path / "cold-cache", jobs=2)
    build(root, output=tmp_path / "warm-cache", jobs=2)
    serial = _tree(tmp_path / "serial")
    assert len(serial) > 60
    for other in ("parallel", "cold-cache", "warm-cache"):
        assert _tree(tmp_path / other) == serial, other
    # Rebuilds that reuse some article pages: one edit (rendered here), then fifty
    # (rendered by workers, the other ten reused), each equal to a build from nothing.
    for edited in (1, 50):
        for i in range(edited):
            article = root / f"content/articles/a{i}.md"
            article.write_text(article.read_text().replace("Istanbul", f"Istanbul {edited}"))
        build(root, output=tmp_path / "warm-cache", jobs=2)
        build(root, output=tmp_path / f"fresh-{edited}", jobs=1, use_cache=False)
        assert _tree(tmp_path / "warm-cache") == _tree(tmp_path / f"fresh-{edited}"), edited


def test_pages_are_rendered_by_one_worker_fewer_than_the_jobs(
        make_site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    from collections.abc import Iterator
    from typing import Any

    import digest.parallel

    # The analysis's pool has a worker per job (the build's process only collects what
    # they send back); pages are rendered by the build's process too, beside one worker
    # fewer, so that no more processes than jobs compete for the cores.
    sizes: list[int] = []
    real_pool = digest.parallel.worker_pool

    @contextlib.contextmanager
    def counted_pool(jobs: int) -> Iterator[Any]:
        sizes.append(jobs)
        with real_pool(jobs) as pool:
            yield pool

    root = make_site(_sixty_articles())
    build(root, output=tmp_path / "serial", jobs=1, use_cache=False)
    monkeypatch.setattr(digest.parallel, "worker_pool", counted_pool)
    build(root, output=tmp_path / "three", jobs=3, use_cache=False)
    build(root, output=tmp_path / "two", jobs=2, use_cache=False)
    assert sizes == [3, 2, 2, 1]
    serial = _tree(tmp_path / "serial")
    assert _tree(tmp_path / "three") == serial and _tree(tmp_path / "two") == serial


def test_the_build_takes_back_the_chunks_no_worker_started(
        make_site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    from collections.abc import Callable, Iterable, Iterator
    from concurrent.futures import Future
    from typing import Any

    import digest.parallel
    import digest.render

    submitted: list[str] = []

    class Pending(Future):  # type: ignore[type-arg]
        def result(self, timeout: float | None = None) -> Any:
            return super().result(timeout=1)  # a chunk left to the idle workers: fail

    class IdleWorkers:
        """A pool whose workers start no task: every chunk stays pending."""

        def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
            submitted.append(function.__name__)
            return Pending()

        def map(self, function: Callable[..., Any], items: Iterable[Any]) -> Iterator[Any]:
            return map(function, items)  # the articles are read as without workers

    @contextlib.contextmanager
    def idle_pool(jobs: int) -> Iterator[IdleWorkers]:
        yield IdleWorkers()

    root = make_site(_sixty_articles())
    build(root, output=tmp_path / "serial", jobs=1, use_cache=False)
    monkeypatch.setattr(digest.parallel, "worker_pool", idle_pool)
    build(root, output=tmp_path / "taken-back", jobs=2, use_cache=False)
    # Every article page and feed entry was handed to the pool, then made here.
    assert set(submitted) == {"_render_article_chunk", "_feed_entry_chunk"}
    assert _tree(tmp_path / "taken-back") == _tree(tmp_path / "serial")

    # A chunk that failed in a worker stops the taking back: its error is the build's.
    class OneFailed(IdleWorkers):
        def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
            future = super().submit(function, *args)
            if len(submitted) == 1:
                future.set_exception(RuntimeError("a worker failed"))
            return future

    @contextlib.contextmanager
    def failing_pool(jobs: int) -> Iterator[IdleWorkers]:
        yield OneFailed()

    submitted.clear()
    monkeypatch.setattr(digest.parallel, "worker_pool", failing_pool)
    taken: list[str] = []
    monkeypatch.setattr(digest.render.SiteRenderer, "feed_entries",
                        lambda self, slugs: taken.extend(slugs))
    with pytest.raises(RuntimeError, match="a worker failed"):
        build(root, output=tmp_path / "failed", jobs=2, use_cache=False)
    assert taken == [] and not (tmp_path / "failed").exists()


def test_corrupt_or_foreign_cache_is_rebuilt(make_site, tmp_path: Path) -> None:
    root = make_site()
    build(root, output=tmp_path / "first")
    cache = root / ".digest-cache" / "articles.pickle"
    assert cache.is_file()
    for damage in (b"", cache.read_bytes()[:100], b"not a pickle at all",
                   b"\x80\x04\x95" + b"\x00" * 50):
        cache.write_bytes(damage)
        build(root, output=tmp_path / "again")
        assert _tree(tmp_path / "again") == _tree(tmp_path / "first")
    import pickle

    with cache.open("wb") as handle:  # a cache written by another version of digest
        pickle.dump("digest-cache 1 0.0.0 py3.11", handle)
        pickle.dump({"content/articles/talks.md": ("x", "poison")}, handle)
    build(root, output=tmp_path / "third")
    assert _tree(tmp_path / "third") == _tree(tmp_path / "first")


def test_unchanged_site_is_not_rebuilt(make_site) -> None:
    root = make_site()
    out = root / "_site"
    first = build(root, output=out)
    assert first.files > 10
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build(root, output=out)
    assert again.files == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
    (out / "quotes" / "index.html").unlink()  # someone touched the built site
    assert build(root, output=out).files == first.files
    (root / "content/articles/talks.yaml").write_text(
        MINIMAL_SITE["content/articles/talks.yaml"].replace("rejected", "refused"))
    assert build(root, output=out).files == first.files
    assert "refused foreign troops" in (out / "articles/talks/index.html").read_text()


def test_unchanged_files_keep_their_modification_time(make_site) -> None:
    root = make_site()
    out = root / "_site"
    build(root, output=out)
    page = out / "articles/talks/index.html"
    quotes = out / "quotes/index.html"
    os.utime(page, ns=(1_000_000_000, 1_000_000_000))
    os.utime(quotes, ns=(1_000_000_000, 1_000_000_000))
    (root / "content/articles/talks.yaml").write_text(
        MINIMAL_SITE["content/articles/talks.yaml"].replace("rejected", "refused"))
    build(root, output=out)
    assert page.stat().st_mtime_ns != 1_000_000_000  # its summary changed
    assert "refused" in page.read_text()
    assert quotes.stat().st_mtime_ns == 1_000_000_000  # same bytes: not rewritten


def test_compiled_templates_are_kept_in_the_build_cache(make_site, tmp_path: Path) -> None:
    from digest import templates

    root = make_site()
    build(root, output=tmp_path / "first")
    assert (root / ".digest-cache/templates.pickle").is_file()
    templates._BYTECODE._store.clear()  # as in a new process
    compiled = templates._BYTECODE.compiled
    (root / "content/articles/talks.yaml").write_text(
        MINIMAL_SITE["content/articles/talks.yaml"].replace("rejected", "refused"))
    build(root, output=tmp_path / "first")
    assert templates._BYTECODE.compiled == compiled  # every template came from the cache
    (root / "themes/default/templates").mkdir(parents=True)
    (root / "themes/default/templates/article.html").write_text(
        '{% extends "default/article.html" %}')
    build(root, output=tmp_path / "first")
    assert templates._BYTECODE.compiled == compiled + 1  # the new template is compiled


def test_ctrl_c_while_the_cache_writer_works_stops_the_build_cleanly(
        make_site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The forked writer of the articles' cache takes its time, then presses Ctrl-C for
    # the build, which by then (most likely) has rendered the site and waits for it:
    # the build stops, after the writer is done, with no staging folder left and the
    # site from before untouched.
    import signal

    import digest.cache

    files = {f"content/articles/a{i}.md": MINIMAL_SITE["content/articles/talks.md"]
             for i in range(60)}
    files.update({f"content/articles/a{i}.yaml": MINIMAL_SITE["content/articles/talks.yaml"]
                  for i in range(60)})
    root = make_site(files)
    out = tmp_path / "out"
    build(root, output=out, jobs=2, use_cache=False)
    before = _tree(out)
    monkeypatch.setattr(digest.cache, "BACKGROUND_ENTRIES", 10)
    write_table = digest.cache.BuildCache._write_table

    def pressing_write_table(self: digest.cache.BuildCache, key: bytes) -> str | None:
        time.sleep(1.0)
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(0.3)
        return write_table(self, key)

    monkeypatch.setattr(digest.cache.BuildCache, "_write_table", pressing_write_table)
    with pytest.raises(KeyboardInterrupt):
        build(root, output=out, jobs=2)
    assert [p.name for p in tmp_path.iterdir()
            if p.name.startswith((".digest-staging", ".digest-old"))] == []
    assert _tree(out) == before
    assert len(digest.cache.BuildCache(root, "articles")._old) == 61  # written in full


@pytest.mark.parametrize("background", [False, True], ids=["written here", "forked writer"])
@pytest.mark.parametrize("failure", ["none", "article.html", "home.html", "strict"])
def test_the_article_cache_is_saved_unless_an_article_has_an_error(
        make_site, tmp_path: Path, failure: str, background: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The cache is saved once the articles are analysed, before pages are rendered: the
    # articles' results do not depend on the theme or on --strict. A large table is
    # written by a forked process, which the build waits for however it ends.
    import digest.cache

    monkeypatch.setattr(digest.cache, "BACKGROUND_ENTRIES", 10 if background else 10**9)
    if background:  # a slow writer: the build must wait for it, not leave it running
        write_table = digest.cache.BuildCache._write_table

        def slow_write_table(self: digest.cache.BuildCache, key: bytes) -> str | None:
            time.sleep(0.3)
            return write_table(self, key)

        monkeypatch.setattr(digest.cache.BuildCache, "_write_table", slow_write_table)
    files = {f"content/articles/a{i}.md": MINIMAL_SITE["content/articles/talks.md"]
             for i in range(60)}  # enough for worker processes
    files.update({f"content/articles/a{i}.yaml": MINIMAL_SITE["content/articles/talks.yaml"]
                  for i in range(60)})
    root = make_site(files)
    cache = root / ".digest-cache/articles.pickle"
    if failure.endswith(".html"):  # fails in the workers, or here before they end
        (root / "themes/default/templates").mkdir(parents=True)
        (root / "themes/default/templates" / failure).write_text("{{ nothing.here }}")
        with pytest.raises(Exception, match="'nothing' is undefined"):
            build(root, output=tmp_path / "out", jobs=2)
    elif failure == "strict":
        (root / "content/articles/lone.md").write_text(MINIMAL_SITE["content/articles/talks.md"]
                                                       .replace("talks", "lone"))
        with pytest.raises(ContentError, match="article has no sidecar"):
            build(root, output=tmp_path / "out", jobs=2, strict=True)
    else:
        build(root, output=tmp_path / "out", jobs=2)
    assert cache.is_file()
    articles = len(list((root / "content/articles").glob("*.md")))
    assert len(digest.cache.BuildCache(root, "articles")._old) == articles >= 61
    (root / "content/articles/a0.md").write_text("---\ntitle: [unclosed\n---\n")
    cache.unlink()
    with pytest.raises(ContentError, match="YAML syntax error"):
        build(root, output=tmp_path / "out", jobs=2)
    assert not cache.exists()


def test_builds_load_only_the_modules_their_work_needs(make_site, tmp_path: Path) -> None:
    # Each build command starts a new Python: what it imports is paid on every rebuild.
    # A build with nothing to do stops before the pipeline; one that forks no worker
    # (a few articles, as after an edit) does not load multiprocessing, and one whose
    # Markdown the fast engine renders all of does not load the reference engine.
    import subprocess
    import sys

    root = make_site()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from digest.build import build\n"
        f"build(Path({str(root)!r}), output=Path({str(tmp_path / 'out')!r}), jobs=2)\n"
        "print(sorted(m for m in ('digest.pipeline', 'multiprocessing', 'jinja2',"
        " 'markdown_it', 'nh3')"
        " if m in sys.modules))\n")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)]
    assert runs == ["['digest.pipeline', 'jinja2']\n", "[]\n"]


def test_templates_the_page_workers_use_reach_the_build_cache(make_site, tmp_path: Path
                                                              ) -> None:
    # The workers fork after this process has rendered one article page, so the article
    # template is compiled here, once, and kept (compiled by each worker, it was lost).
    from digest import templates

    files = {f"content/articles/a{i}.md": MINIMAL_SITE["content/articles/talks.md"]
             for i in range(60)}
    root = make_site(files)
    templates._BYTECODE._store.clear()  # as in a new process
    build(root, output=tmp_path / "first", jobs=2)
    templates._BYTECODE._store.clear()
    compiled = templates._BYTECODE.compiled
    build(root, output=tmp_path / "second", jobs=1)  # every page rendered in this process
    assert templates._BYTECODE.compiled == compiled


def test_a_note_s_raw_html_shows_wherever_the_note_does_when_the_site_allows_it(
        make_site, tmp_path: Path) -> None:
    # The note's inline HTML is made when the article is read and kept for its page's
    # list of notes: made without the site's allow_html, the list lost the markup.
    root = make_site({
        "site.toml": MINIMAL_SITE["site.toml"] + "\n[markdown]\nallow_html = true\n",
        "content/articles/talks.yaml": MINIMAL_SITE["content/articles/talks.yaml"].replace(
            "text: Twenty-six nations", "text: <kbd>Twenty-six</kbd> nations")})
    build(root, output=tmp_path / "out")
    page = (tmp_path / "out/articles/talks/index.html").read_text()
    assert page.count("<kbd>Twenty-six</kbd> nations") == 2  # side note, list of notes
