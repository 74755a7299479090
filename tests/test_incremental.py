"""Rebuilds that write only what changed: in-place updates and page keys."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.build import build
from digest.pagekeys import ValueHasher
from digest.targets import KEPT, table_name

from .conftest import MINIMAL_SITE

NO_SEARCH = MINIMAL_SITE["site.toml"] + "\n[search]\nenabled = false\n"
SECOND_MD = MINIMAL_SITE["content/articles/talks.md"].replace(
    "Kremlin rejects foreign troops", "Second story").replace("2025-09-05", "2025-09-06")


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _inodes(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def test_an_edit_replaces_only_the_changed_files_in_place(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": NO_SEARCH, "content/articles/second.md": SECOND_MD})
    out = root / "_site"
    build(root, output=out)
    before = _inodes(out)
    sidecar = root / "content/articles/talks.yaml"
    sidecar.write_text(sidecar.read_text().replace("rejected", "refused"))
    assert build(root, output=out).files == len(before)
    after = _inodes(out)
    changed = sorted(d for d in after if after[d] != before[d])
    # The summary is shown on the article page only (feeds carry the body).
    assert changed == ["articles/talks/index.html"]
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_an_update_removes_pages_the_site_no_longer_has(make_site, tmp_path: Path) -> None:
    root = make_site({"site.toml": NO_SEARCH, "content/articles/second.md": SECOND_MD})
    out = root / "_site"
    build(root, output=out)
    assert (out / "articles/second/index.html").is_file()
    (root / "content/articles/second.md").unlink()
    build(root, output=out)
    assert not (out / "articles/second").exists()  # the page and its emptied folder
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_a_topic_page_follows_an_article_with_no_events(make_site, tmp_path: Path) -> None:
    # The demo's articles all have events, and events carry their article's topics and
    # keys: this page can only learn of the edit from the key of its member article.
    root = make_site({"site.toml": NO_SEARCH, "content/articles/second.md": SECOND_MD,
                      "content/articles/second.yaml": "topics: [war]\n"})
    out = root / "_site"
    build(root, output=out)
    article = root / "content/articles/second.md"
    article.write_text(article.read_text().replace("Second story", "Another story"))
    build(root, output=out)
    assert b"Another story" in (out / "topics/war/index.html").read_bytes()
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_a_site_touched_by_hand_is_rebuilt_whole(make_site) -> None:
    root = make_site({"site.toml": NO_SEARCH})
    out = root / "_site"
    build(root, output=out)
    (out / "stray.html").write_text("left by hand")
    (out / "elsewhere").symlink_to("/etc")
    sidecar = root / "content/articles/talks.yaml"
    sidecar.write_text(sidecar.read_text().replace("rejected", "refused"))
    build(root, output=out)
    # Not trusted as the previous build's output: staged whole and swapped in.
    assert not (out / "stray.html").exists()
    assert not os.path.lexists(out / "elsewhere")
    assert "refused" in (out / "articles/talks/index.html").read_text()


@dataclass(frozen=True)
class _Card:
    title: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class _Page:
    cards: tuple[_Card, ...]
    body: str


def test_texts_hashes_tell_every_split_of_the_same_characters_apart() -> None:
    from digest.cache import texts_hash

    splits = [[], [""], ["", ""], ["ab"], ["a", "b"], ["a\0b"], ["a\0", "b"], ["a", "\0b"],
              ["1:a"], ["1:a", ""], ["\0"], ["", "\0"]]
    hashes = [texts_hash(parts) for parts in splits]
    assert len(set(hashes)) == len(splits)
    assert texts_hash(iter(["a", "b"])) == texts_hash(("a", "b")) == hashes[4]


def test_page_keys_follow_values_not_objects() -> None:
    hasher = ValueHasher()
    page = _Page((_Card("A", ("x",)), _Card("B", ())), "<p>hi</p>")
    same = _Page((_Card("A", ("x",)), _Card("B", ())), "<p>hi</p>")
    assert hasher.hash(page) == ValueHasher().hash(same)
    assert hasher.hash(page) != hasher.hash(_Page((_Card("A", ("y",)), _Card("B", ())),
                                                  "<p>hi</p>"))
    assert hasher.hash(("a",)) != hasher.hash((b"a",))
    assert hasher.hash({"page": page}) == hasher.hash({"page": same})
    items = [1, 2]
    first = hasher.hash(items)
    items.append(3)  # lists are hashed again each time: they may change
    assert hasher.hash(items) != first


def test_page_keys_of_named_tuple_views_follow_their_values_and_types() -> None:
    from digest.views import LinkView, Pager

    hasher = ValueHasher()
    link = LinkView("Kyiv", "/topics/kyiv/")
    assert hasher.hash(link) == hasher.hash(link) == ValueHasher().hash(
        LinkView("Kyiv", "/topics/kyiv/"))
    assert hasher.hash(link) != hasher.hash(LinkView("Kyiv", "/topics/kiev/"))
    # Equal fields, other view (or a plain tuple): another key.
    assert hasher.hash(Pager(1, 2, "", "")) != hasher.hash((1, 2, "", ""))
    assert hasher.hash({"links": (link,)}) == hasher.hash(
        {"links": (LinkView("Kyiv", "/topics/kyiv/"),)})


def test_page_keys_of_mutable_values_follow_their_changes() -> None:
    from dataclasses import dataclass

    @dataclass(slots=True)  # no weak reference, not a named tuple: never remembered
    class Mutable:
        items: list[int]

    hasher = ValueHasher()
    value = Mutable([1])
    first = hasher.hash(value)
    value.items.append(2)
    assert hasher.hash(value) != first


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# Edits whose effects reach pages of other articles: each must show wherever it should
# after a rebuild that reuses pages, exactly as in a build from nothing.
DEMO_EDITS = [
    # The title of an article shown as a related card and on shared events' entries.
    ("content/articles/russias-navalny-airlifted-to-germany.md",
     "title: \"Russia's Navalny airlifted to Germany\"",
     "title: \"Navalny flown to Berlin\""),
    # A person's role, shown with their quotes in other articles.
    ("content/people.yaml", "role: Kremlin spokesman (press secretary of the President of "
     "Russia)", "role: Kremlin press secretary"),
    # A topic title, shown on every card that carries the topic.
    ("content/topics.yaml", "title: Russia–Ukraine war", "title: War in Ukraine"),
    # One sidecar's copy of an event shared by id with another article.
    ("content/articles/russias-navalny-airlifted-to-germany.yaml",
     "text: The plane diverts to Omsk", "text: The aircraft diverts to Omsk"),
    # The title of an article that another one does not list as related, but shares
    # an event with (the event's entry on that page links to it by title).
    ("content/articles/russia-rejects-foreign-troops-as-security-guarantees.md",
     'title: "Russia rejects foreign troops as security guarantees for Ukraine"',
     'title: "Kremlin rejects foreign troops"'),
    # The text of that shared event, given in only one of its two sidecars.
    ("content/articles/russia-rejects-foreign-troops-as-security-guarantees.yaml",
     "Russia annexes Ukraine's Crimea", "Russia annexes Crimea"),
    # The section of an article, on its cards in topic and person pages.
    ("content/articles/ukrainian-president-rejects-prime-ministers-resignation.md",
     "section: Politics", "section: Government"),
    # A quote's context, on the quotes page and its speaker's page.
    ("content/articles/iran-admits-downing-ukrainian-jet.yaml",
     "context: Ukraine's demands after Iran's admission.",
     "context: What Ukraine demanded after Iran's admission."),
    # An article's summary: on its own page only (listings show no summary).
    ("content/articles/iran-admits-downing-ukrainian-jet.yaml", "and blamed human error.",
     "and blamed a human error."),
    # An article joins a topic whose other articles are older: the topic page's
    # last modification in the sitemap moves to this article's.
    ("content/articles/russia-rejects-foreign-troops-as-security-guarantees.yaml",
     "topics: [russia-ukraine-war, security-guarantees, peace-talks, north-korea]",
     "topics: [russia-ukraine-war, security-guarantees, peace-talks, north-korea, iran]"),
    # A quote given to another speaker, whose other quotes are older: the same for
    # the speaker's page.
    ("content/articles/russia-rejects-foreign-troops-as-security-guarantees.yaml",
     "speaker: dmitry-peskov", "speaker: volodymyr-zelensky"),
    # An article updated later: its page says so, the sitemap dates it and every page
    # listing it (its topics', its speakers').
    ("content/articles/russia-rejects-foreign-troops-as-security-guarantees.md",
     "date: 2025-09-05\n", "date: 2025-09-05\nupdated: 2025-09-07T10:00:00+02:00\n"),
    # An edition's title, on its page and on the home page listing it.
    ("content/digests/2019-12-21.yaml", 'title: "Trump impeached"',
     'title: "The House impeaches Trump"'),
    # An article moves to another day: it leaves one edition for another.
    ("content/articles/iran-admits-downing-ukrainian-jet.md", "date: 2020-01-13",
     "date: 2019-12-21"),
    # A new topic, used by no article yet: a page of its own, in the sitemap and index.
    ("content/topics.yaml", "security-guarantees:\n",
     "new-topic:\n  title: A topic with no article yet\nsecurity-guarantees:\n"),
    # A page moves to another address: the sitemap follows.
    ("content/pages/methodology.md", "title: Methodology\n",
     "title: Methodology\nslug: how-we-work\n"),
    # An article becomes a draft: it leaves the site, its cards and shared events.
    ("content/articles/russias-navalny-airlifted-to-germany.md", "\n---\n",
     "\ndraft: true\n---\n"),
    # An article published later on the day it shares with another (since the move
    # above): the two change places on their edition and every listing, while nothing
    # that their cards show changes.
    ("content/articles/iran-admits-downing-ukrainian-jet.md", "date: 2019-12-21\n",
     "date: 2019-12-21T20:00:00\n"),
    # A speaker's only quote in an article given to another: the first speaker's page
    # no longer lists it.
    ("content/articles/iran-admits-downing-ukrainian-jet.yaml", "speaker: hassan-rouhani",
     "speaker: volodymyr-zelensky"),
]


def test_rebuilds_that_reuse_pages_equal_builds_from_nothing(monkeypatch, tmp_path: Path
                                                             ) -> None:
    import shutil

    # Files count as settled at once, so that each build after the first leaves the
    # files not edited unread (the source index), as builds of a real site do.
    monkeypatch.setattr("digest.sourceindex.SETTLED_NS", -10**18)

    from .conftest import REPO_ROOT

    for search in (False, True):  # in-place updates, and whole staged sites
        root = tmp_path / f"demo-{search}"
        root.mkdir()
        toml = (REPO_ROOT / "site.toml").read_text()
        if not search:
            toml = toml.replace("[search]\nenabled = true", "[search]\nenabled = false")
            assert "enabled = false" in toml
        (root / "site.toml").write_text(toml)
        shutil.copytree(REPO_ROOT / "content", root / "content")
        out = root / "_site"
        build(root, output=out)
        for number, (rel, old, new) in enumerate(DEMO_EDITS):
            _replace(root / rel, old, new)
            build(root, output=out)
            fresh = tmp_path / f"fresh-{search}-{number}"
            build(root, output=fresh, use_cache=False)
            assert _tree(out) == _tree(fresh), (search, rel, new)


def test_serve_rebuilds_that_keep_views_equal_fresh_builds(tmp_path: Path) -> None:
    from digest.serve import build_in_memory

    from .conftest import ServedDemo

    served = ServedDemo(tmp_path)
    served.rebuild()
    for rel, old, new in DEMO_EDITS:
        _replace(served.root / rel, old, new)
        state = served.rebuild()
        fresh = build_in_memory(served.root, False)
        assert dict(state.files) == dict(fresh.files), (rel, new)


def _demo_copy(folder: Path) -> Path:
    import shutil

    from .conftest import REPO_ROOT

    root = folder / "demo"
    root.mkdir()
    toml = (REPO_ROOT / "site.toml").read_text()
    (root / "site.toml").write_text(toml.replace("[search]\nenabled = true",
                                                 "[search]\nenabled = false"))
    shutil.copytree(REPO_ROOT / "content", root / "content")
    return root


def _count_keys(monkeypatch) -> tuple[list[str], list[str]]:
    """The slugs of the article pages keyed, and the kinds of the other pages keyed by
    their inputs, from now on."""
    from digest.render import SiteRenderer

    article_keys: list[str] = []
    input_keys: list[str] = []
    make_article_key, make_input_key = SiteRenderer.article_page_key, SiteRenderer._input_key

    def article_page_key(self: SiteRenderer, article: Any) -> str:
        article_keys.append(article.slug)
        return make_article_key(self, article)

    def input_key(self: SiteRenderer, *parts: str) -> str:
        input_keys.append(parts[0])
        return make_input_key(self, *parts)

    monkeypatch.setattr(SiteRenderer, "article_page_key", article_page_key)
    monkeypatch.setattr(SiteRenderer, "_input_key", input_key)
    return article_keys, input_keys


def test_build_keys_again_only_the_pages_an_edit_can_change(monkeypatch, tmp_path: Path
                                                            ) -> None:
    """`digest build` keeps what its page keys were made from (keystate.py): after an
    edit it keys the pages that may show it, as `digest serve` does, and the site is the
    one a build from nothing makes."""
    root = _demo_copy(tmp_path)
    out = root / "_site"
    article_keys, input_keys = _count_keys(monkeypatch)
    build(root, output=out)
    assert len(set(article_keys)) == 7 and "sitemap" in input_keys
    assert (root / ".digest-cache" / f"{table_name('keys', out)}.pickle").is_file()
    sidecar = root / "content/articles/iran-admits-downing-ukrainian-jet.yaml"
    # A summary: shown on its article's page (and in the feeds) only.
    article_keys.clear(), input_keys.clear()
    _replace(sidecar, "and blamed human error.", "and blamed a human error.")
    build(root, output=out)
    assert b"blamed a human error" in (
        out / "articles/iran-admits-downing-ukrainian-jet/index.html").read_bytes()
    assert article_keys == ["iran-admits-downing-ukrainian-jet"]
    assert set(input_keys) == {"feed"}
    # A quote's context: the listings showing the article's quotes, and the article
    # pages showing its card or sharing an event with it.
    article_keys.clear(), input_keys.clear()
    _replace(sidecar, "context: Ukraine's demands after Iran's admission.",
             "context: What Ukraine demanded after Iran's admission.")
    build(root, output=out)
    assert sorted(article_keys) == ["iran-admits-downing-ukrainian-jet",
                                    "ukrainian-president-rejects-prime-ministers-resignation"]
    assert {"topic.html", "person.html", "quotes.html"} <= set(input_keys)
    fresh = tmp_path / "fresh"
    build(root, output=fresh, use_cache=False)
    assert _tree(out) == _tree(fresh)


def test_build_keys_every_page_without_the_last_builds_key_inputs(monkeypatch,
                                                                  tmp_path: Path) -> None:
    """Kept key inputs describe one build's pages: with the table lost, every page is
    keyed again (and the site is still right)."""
    root = _demo_copy(tmp_path)
    out = root / "_site"
    article_keys, _ = _count_keys(monkeypatch)
    sidecar = root / "content/articles/iran-admits-downing-ukrainian-jet.yaml"
    build(root, output=out)
    (root / ".digest-cache" / f"{table_name('keys', out)}.pickle").unlink()
    article_keys.clear()
    _replace(sidecar, "and blamed human error.", "and blamed a human error.")
    build(root, output=out)
    assert len(set(article_keys)) == 7
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_a_build_into_another_folder_leaves_the_sites_state(monkeypatch,
                                                            tmp_path: Path) -> None:
    """Each output folder has its own state (targets.py): after a build elsewhere (a
    preview), the next build of the site keys only what the edit changed, and
    rewrites only the files that changed."""
    root = _demo_copy(tmp_path)
    out = root / "_site"
    article_keys, _ = _count_keys(monkeypatch)
    sidecar = root / "content/articles/iran-admits-downing-ukrainian-jet.yaml"
    build(root, output=out)
    before = _inodes(out)
    build(root, output=tmp_path / "preview")
    article_keys.clear()
    _replace(sidecar, "and blamed human error.", "and blamed a human error.")
    build(root, output=out)
    assert article_keys == ["iran-admits-downing-ukrainian-jet"]
    after = _inodes(out)
    changed = sorted(d for d in after if after[d] != before[d])
    # The summary shows on its page and in the feeds that carry the article.
    assert [d for d in changed if not d.endswith(("feed.xml", "feed.json"))] == [
        "articles/iran-admits-downing-ukrainian-jet/index.html"]
    assert "feed.xml" in changed and len(changed) < len(after) // 4
    build(root, output=tmp_path / "fresh", use_cache=False)
    assert _tree(out) == _tree(tmp_path / "fresh")
    # The preview's own state is kept too: it is updated in place as well.
    article_keys.clear()
    build(root, output=tmp_path / "preview")
    assert article_keys == ["iran-admits-downing-ukrainian-jet"]
    assert _tree(tmp_path / "preview") == _tree(out)


def test_the_state_of_the_folders_built_longest_ago_is_removed(tmp_path: Path) -> None:
    root = _demo_copy(tmp_path)
    cache = root / ".digest-cache"
    cache.mkdir()
    for kind in ("output", "keys"):  # the one-folder tables of earlier versions
        (cache / f"{kind}.pickle").write_bytes(b"old")
        (cache / f"{kind}.seal").write_bytes(b"old")
    folders = [tmp_path / f"out{i}" for i in range(KEPT + 1)]
    for folder in folders:
        build(root, output=folder)
    kept = sorted(p.name for p in cache.iterdir()
                  if p.name.startswith(("output", "keys")))
    assert kept == sorted(f"{table_name(kind, folder)}.{suffix}" for folder in folders[1:]
                          for kind in ("output", "keys") for suffix in ("pickle", "seal"))


def test_the_folder_just_built_keeps_its_state_whatever_the_times(tmp_path: Path) -> None:
    from digest.targets import prune

    cache = tmp_path / ".digest-cache"
    cache.mkdir()
    current, *others = [tmp_path / f"out{i}" for i in range(KEPT + 1)]
    for age, folder in enumerate([current, *others]):
        for kind in ("output", "keys"):
            table = cache / f"{table_name(kind, folder)}.pickle"
            table.write_bytes(b"state")
            os.utime(table, ns=(age, age))  # `current` the oldest of all
    prune(tmp_path, current)
    kept = {p.name.split(".")[0] for p in cache.iterdir()}
    assert kept == {table_name(kind, folder) for folder in (current, *others[1:])
                    for kind in ("output", "keys")}


def test_kept_listings_round_trip() -> None:
    """What keystate keeps of each article for the listings reads back as it was,
    separators in a title (a YAML escape can write them) and empty lists included."""
    import datetime as dt

    from digest.changes import ListedArticle
    from digest.keystate import _Listed, _listing

    day = dt.date(2020, 1, 13)
    for listed in (ListedArticle("Iran admits it", day, ("iran", "civil-aviation"),
                                 ("hassan-rouhani",)),
                   ListedArticle("No topics, no quotes", day, (), ()),
                   ListedArticle("A \x1f and a \x1e", day, ("iran",), ()),
                   ListedArticle("An empty speaker", day, (), ("",))):
        kept = _listing(listed)
        assert _Listed({"slug": kept})["slug"] == listed
        assert isinstance(kept, str) == ("\x1f" not in listed.title
                                         and "\x1e" not in listed.title
                                         and "" not in listed.speakers)


def test_serve_keys_again_only_the_pages_an_edit_can_change(monkeypatch, tmp_path: Path
                                                            ) -> None:
    """After an edit that changes no input pages share, digest serve makes the keys of
    the pages showing what changed, and takes the others' from its last build."""
    from .conftest import ServedDemo

    article_keys, input_keys = _count_keys(monkeypatch)
    served = ServedDemo(tmp_path)
    served.rebuild()
    assert len(set(article_keys)) == 7 and "sitemap" in input_keys
    # A summary: shown on its article's page (and in the feeds) only.
    article_keys.clear(), input_keys.clear()
    _replace(served.root / "content/articles/iran-admits-downing-ukrainian-jet.yaml",
             "and blamed human error.", "and blamed a human error.")
    assert b"blamed a human error" in served.rebuild().files[
        "articles/iran-admits-downing-ukrainian-jet/index.html"]
    assert article_keys == ["iran-admits-downing-ukrainian-jet"]
    assert set(input_keys) == {"feed"}
    # A quote's context: on the listings that show the article's quotes, and on the
    # page of the one article relating to it (which shows its card) and the pages of
    # the articles sharing an event with it (which show its title).
    article_keys.clear(), input_keys.clear()
    _replace(served.root / "content/articles/iran-admits-downing-ukrainian-jet.yaml",
             "context: Ukraine's demands after Iran's admission.",
             "context: What Ukraine demanded after Iran's admission.")
    served.rebuild()
    assert sorted(article_keys) == ["iran-admits-downing-ukrainian-jet",
                                    "ukrainian-president-rejects-prime-ministers-resignation"]
    assert {"topic.html", "person.html", "quotes.html"} <= set(input_keys)
    assert "sitemap" not in input_keys  # it dates pages by updates, topics and speakers


def test_serve_follows_the_registries_of_a_site_whose_articles_are_all_drafts(
        tmp_path: Path) -> None:
    """With no article on the site no page is keyed, but serve still keeps the views of
    topic and person pages: an edited registry must reach them (found by review)."""
    from digest.serve import build_in_memory

    from .conftest import ServedDemo

    served = ServedDemo(tmp_path)
    for article in (served.root / "content/articles").glob("*.md"):
        _replace(article, "\n---\n", "\ndraft: true\n---\n")
    served.rebuild()
    for rel, old, new in [("content/topics.yaml", "title: Iran", "title: Persia"),
                          ("content/people.yaml", "name: Hassan Rouhani", "name: H. Rouhani")]:
        _replace(served.root / rel, old, new)
        state = served.rebuild()
        assert dict(state.files) == dict(build_in_memory(served.root, False).files), rel


def test_a_rebuild_makes_again_only_the_feed_entries_of_edited_articles(
        monkeypatch, tmp_path: Path) -> None:
    from digest import feeds

    root = _demo_copy(tmp_path)
    out = root / "_site"
    made: list[str] = []  # feed bodies made
    entries: list[str] = []  # Atom entries made
    make, make_entry = feeds.feed_body_html, feeds._make_atom_entry

    def counted(annotated: Any, allow_html: bool) -> str:
        made.append(annotated.article.slug)
        return make(annotated, allow_html)

    def counted_entry(site: Any, annotated: Any, links: Any) -> str:
        entries.append(annotated.article.slug)
        return make_entry(site, annotated, links)
    monkeypatch.setattr(feeds, "feed_body_html", counted)
    monkeypatch.setattr(feeds, "_make_atom_entry", counted_entry)

    def clear_memos() -> None:  # as in a new process, which each `digest build` is
        feeds._FEED_BODIES.clear()
        feeds._ENTRIES.clear()
        made.clear()
        entries.clear()
    build(root, output=out)
    slugs = sorted(p.stem for p in (root / "content/articles").glob("*.md"))
    assert sorted(made) == sorted(entries) == slugs  # the demo's feeds show every article
    sidecar = root / "content/articles/iran-admits-downing-ukrainian-jet.yaml"
    clear_memos()
    _replace(sidecar, "and blamed human error.", "and blamed a human error.")
    build(root, output=out)
    assert made == entries == ["iran-admits-downing-ukrainian-jet"]
    # The entries kept are those of the articles as they are now.
    clear_memos()
    build(root, output=tmp_path / "elsewhere")
    assert made == entries == []
    # A topic's new title is in its articles' Atom entries, not in their bodies.
    clear_memos()
    _replace(root / "content/topics.yaml", "title: Iran", "title: Persia")
    build(root, output=out)
    assert made == []
    assert entries == ["iran-admits-downing-ukrainian-jet"]
    assert b'label="Persia"' in (out / "feed.xml").read_bytes()
    # The site's title is in no entry (an entry credits the byline): none is made.
    clear_memos()
    _replace(root / "site.toml", 'title = "', 'title = "The ')
    build(root, output=out)
    assert made == entries == []
    # Without the store, a rebuild makes every entry its feeds show again.
    clear_memos()
    (root / ".digest-cache" / "feeds.pickle").unlink()
    _replace(sidecar, "and blamed a human error.", "and blamed human error.")
    build(root, output=out)
    assert sorted(made) == sorted(entries) == slugs
    fresh = tmp_path / "fresh"
    build(root, output=fresh, use_cache=False)
    assert _tree(out) == _tree(fresh)


def test_the_entries_of_feeds_kept_as_they_were_stay_in_the_store(
        monkeypatch, tmp_path: Path) -> None:
    from digest import feeds, feedstore

    from .conftest import write_files
    from .test_faults import big_site

    # 60 articles: the site's feeds show the newest 50, a war and a peace topic 30 each.
    root = big_site(tmp_path / "site", 60)
    write_files(root, {"content/topics.yaml": MINIMAL_SITE["content/topics.yaml"]
                       + "peace:\n  title: Peace\n"})
    for i in range(30, 60):
        _replace(root / f"content/articles/story-{i:03d}.yaml", "topics: [war]",
                 "topics: [peace]")
    out = tmp_path / "out"
    made: list[str] = []
    make = feeds.feed_body_html

    def counted(annotated: Any, allow_html: bool) -> str:
        made.append(annotated.article.slug)
        return make(annotated, allow_html)
    monkeypatch.setattr(feeds, "feed_body_html", counted)
    unpacked: list[str] = []  # stored entries made known to the feeds
    remember = feedstore.remember_feed_entry_html

    def counted_recall(annotated: Any, *args: Any) -> None:
        unpacked.append(annotated.article.slug)
        remember(annotated, *args)
    monkeypatch.setattr(feedstore, "remember_feed_entry_html", counted_recall)

    def edit_and_build(slug: str) -> list[str]:
        feeds._FEED_BODIES.clear()  # as in a new process, which each `digest build` is
        feeds._ENTRIES.clear()
        made.clear()
        unpacked.clear()
        _replace(root / f"content/articles/{slug}.yaml", "summary: ", "summary: Edited. ")
        build(root, output=out, jobs=1)  # (entries made in workers are not counted)
        return sorted(made)

    build(root, output=out, jobs=1)
    assert len(made) == 60
    # story-036 (9 January) is too old for the site's feeds: only the peace feed is made
    # again, from the stored entries but its own; the others' entries are kept unmade.
    assert edit_and_build("story-036") == ["story-036"]
    assert len(unpacked) == 29  # the peace feed's other articles, not every feed's
    # So the war feed, made again next, finds every entry but the edited one's stored.
    assert edit_and_build("story-000") == ["story-000"]
    fresh = tmp_path / "fresh"
    build(root, output=fresh, use_cache=False)
    assert _tree(out) == _tree(fresh)
