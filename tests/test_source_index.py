"""The source index: articles and sidecars whose stat is unchanged are not read again."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from digest import sources as sources_module
from digest.config import load_config
from digest.errors import Problem
from digest.pipeline import analyse_sources
from digest.sourceindex import SourceIndex
from digest.sources import (
    PendingSource,
    SourceText,
    UnreadSource,
    discover,
    file_stamp,
    read_pending,
)

from .conftest import MINIMAL_SITE

ARTICLE = "content/articles/talks.md"
SIDECAR = "content/articles/talks.yaml"
MINIMAL_SIDECAR = MINIMAL_SITE[SIDECAR]


@pytest.fixture
def settled(monkeypatch) -> None:
    """Every file counts as written long ago, so a test need not wait two seconds."""
    monkeypatch.setattr("digest.sourceindex.SETTLED_NS", -10**18)


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The files read_source reads, as paths relative to the site."""
    read: list[str] = []
    original = sources_module.read_source

    def counting(path, root, *args, **kwargs):
        read.append(Path(path).relative_to(root).as_posix())
        return original(path, root, *args, **kwargs)

    monkeypatch.setattr(sources_module, "read_source", counting)
    return read


def _discover(root: Path) -> tuple[dict[str, object], list[str]]:
    index = SourceIndex(root)
    found, problems = discover(load_config(root), index=index)
    index.save()
    by_rel = {s.src_rel: s for s in (*found.articles, *found.sidecars.values())}
    return by_rel, [p.format_text() for p in problems]


def test_unchanged_files_are_known_by_their_digest_and_not_read(make_site, settled,
                                                                reads) -> None:
    root = make_site()
    first, problems = _discover(root)
    assert problems == [] and all(isinstance(s, SourceText) for s in first.values())
    assert reads == [ARTICLE, SIDECAR, "content/topics.yaml", "content/people.yaml"]
    reads.clear()
    again, _ = _discover(root)
    assert again == {rel: UnreadSource(rel, str(root / rel), first[rel].digest,  # type: ignore[attr-defined]
                                       file_stamp(os.stat(root / rel)))
                     for rel in (ARTICLE, SIDECAR)}
    # The registries, pages and editions are always read: they are few.
    assert reads == ["content/topics.yaml", "content/people.yaml"]


def test_a_rewritten_file_is_read_again_even_with_its_size_and_time_restored(
        make_site, settled) -> None:
    root = make_site()
    sidecar = root / SIDECAR
    first, _ = _discover(root)
    before = sidecar.stat()
    time.sleep(0.05)  # past the kernel's timestamp granularity
    text = sidecar.read_text(encoding="utf-8")
    sidecar.write_text(text.replace("topics:", "tapics:"), encoding="utf-8")
    os.utime(sidecar, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert sidecar.stat().st_size == before.st_size
    again, _ = _discover(root)
    assert isinstance(again[SIDECAR], SourceText) and b"tapics:" in again[SIDECAR].data
    assert isinstance(again[ARTICLE], UnreadSource)


def test_files_written_just_before_the_build_are_not_learned(make_site, reads) -> None:
    root = make_site()  # written now: within SETTLED_NS of the discovery
    _discover(root)
    reads.clear()
    again, _ = _discover(root)
    assert all(isinstance(s, SourceText) for s in again.values())
    assert reads == [ARTICLE, SIDECAR, "content/topics.yaml", "content/people.yaml"]


def test_a_known_file_over_a_lowered_size_limit_is_reported(make_site, settled) -> None:
    root = make_site()
    _discover(root)
    size = (root / ARTICLE).stat().st_size
    toml = root / "site.toml"
    toml.write_text(toml.read_text() + "\n[build]\nmax_file_size = 100\n")
    found, problems = _discover(root)
    assert ARTICLE not in found
    assert f"{ARTICLE}:1:1: error: file is {size} bytes, over the limit of 100" in problems[0]


def test_a_file_changed_after_discovery_is_read_again_whole(make_site, settled,
                                                           monkeypatch) -> None:
    from digest import pipeline
    from digest.parallel import LateReadFailed

    root = make_site()
    _discover(root)
    config = load_config(root)
    found, problems = discover(config, index=SourceIndex(root))
    assert isinstance(found.articles[0], UnreadSource)
    _replace = (root / ARTICLE).read_text(encoding="utf-8").replace("troops", "soldiers")
    (root / ARTICLE).write_text(_replace, encoding="utf-8")
    (root / SIDECAR).write_text(MINIMAL_SIDECAR + "\n", encoding="utf-8")  # to analyse it
    with pytest.raises(LateReadFailed):
        analyse_sources(config, found, problems, drafts=False, jobs=1, use_cache=False)
    # `digest check` (and build) discover again, reading every file: the article as it is
    # now is checked, and nothing is reported.
    (root / SIDECAR).write_text(MINIMAL_SIDECAR + "\n\n", encoding="utf-8")
    discover_once = pipeline.discover

    def saved_after_discovery(*args, **kwargs):
        found = discover_once(*args, **kwargs)
        if kwargs.get("index") is not None:
            (root / ARTICLE).write_text(_replace.replace("soldiers", "troops abroad"),
                                        encoding="utf-8")
        return found

    monkeypatch.setattr(pipeline, "discover", saved_after_discovery)
    analysis = pipeline.analyse(root)
    assert analysis.problems == []
    assert analysis.site.articles[0].title == "Kremlin rejects foreign troops abroad"


def test_builds_through_the_index_equal_builds_that_read_everything(make_site, settled, reads,
                                                                    tmp_path: Path) -> None:
    from digest.build import build

    root = make_site()
    out = tmp_path / "out"
    build(root, output=out)
    registries = ["content/topics.yaml", "content/people.yaml"]
    # An edited article is read at once; its sidecar, unread then, when it is analysed.
    steps = [(ARTICLE, "troops", "soldiers", [ARTICLE, *registries, SIDECAR]),
             (None, "", "", registries),  # a build with nothing to do reads no article
             # Every article analysed again: its files, left unread, are read then.
             ("content/people.yaml", "role: ", "role: Former ", [*registries, ARTICLE, SIDECAR])]
    for number, (rel, old, new, read) in enumerate(steps):
        if rel is not None:
            path = root / rel
            text = path.read_text(encoding="utf-8")
            assert old in text
            path.write_text(text.replace(old, new), encoding="utf-8")
        reads.clear()
        build(root, output=out)
        assert reads == read
        fresh = tmp_path / f"fresh{number}"
        build(root, output=fresh, use_cache=False)
        assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} \
            == {p.relative_to(fresh): p.read_bytes() for p in fresh.rglob("*") if p.is_file()}


def _unread_then(make_site, replace) -> list[str]:
    """What reading the article discovery left unread gives after `replace(path)` took
    its place; an analysis that must read it stops (to discover again, reading every
    file, which checks links and file kinds as ever)."""
    from digest.parallel import LateReadFailed
    from digest.sources import read_unread

    root = make_site()
    _discover(root)
    config = load_config(root)
    found, problems = discover(config, index=SourceIndex(root))
    source = found.articles[0]
    assert isinstance(source, UnreadSource)
    replace(root / ARTICLE)
    with pytest.raises(LateReadFailed):
        analyse_sources(config, found, problems, drafts=False, jobs=1, use_cache=False)
    result = read_unread(source, config)
    return [result.format_text()] if isinstance(result, Problem) else []


CHANGED = (f"{ARTICLE}:1:1: error: the file changed while the site was being built\n"
           "    hint: build again")


def test_a_link_out_put_in_place_of_an_unread_file_is_not_followed(make_site, settled,
                                                                   tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"TOP SECRET \xff\n")  # read, it would be reported as not UTF-8

    def link_out(path: Path) -> None:
        path.unlink()
        path.symlink_to(secret)

    assert _unread_then(make_site, link_out) == [CHANGED]


def test_an_unread_file_removed_meanwhile_has_changed(make_site, settled) -> None:
    assert _unread_then(make_site, Path.unlink) == [CHANGED]


def test_a_pipe_put_in_place_of_an_unread_file_is_not_opened(make_site, settled) -> None:
    import signal

    def pipe(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)

    def stuck(*_: object) -> None:
        raise TimeoutError("the build opened the pipe and waits on it")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(20)
    try:
        assert _unread_then(make_site, pipe) == [CHANGED]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_known_files_in_a_folder_moved_out_and_linked_back_are_refused(make_site, settled,
                                                                        tmp_path: Path) -> None:
    # Moved with their folder, the files keep their inodes and times: only the link
    # checks can tell (as for `digest serve`'s memo in test_paths.py).
    root = make_site()
    _discover(root)
    os.rename(root / "content/articles", tmp_path / "moved")
    (root / "content/articles").symlink_to(tmp_path / "moved")
    found, problems = _discover(root)
    assert found == {}
    assert [p.splitlines()[0] for p in problems] == [
        f"content/articles:1:1: error: symbolic link points outside the project "
        f"({tmp_path / 'moved'})",
        f"{ARTICLE}:1:1: error: symbolic link points outside the project "
        f"({tmp_path / 'moved' / 'talks.md'})",
        f"{SIDECAR}:1:1: error: symbolic link points outside the project "
        f"({tmp_path / 'moved' / 'talks.yaml'})"]


def test_this_machine_s_clock_ahead_of_the_file_system_s_does_not_settle_files(
        make_site, monkeypatch, reads) -> None:
    # Files written just now, on a file system (a file server, say) whose clock is ten
    # minutes behind this machine's: "now" is what the file system says, so they are
    # not learned.
    root = make_site()
    ahead = time.time_ns() + 600 * 10**9
    monkeypatch.setattr(time, "time_ns", lambda: ahead)
    _discover(root)
    reads.clear()
    again, _ = _discover(root)
    assert all(isinstance(s, SourceText) for s in again.values())
    assert reads == [ARTICLE, SIDECAR, "content/topics.yaml", "content/people.yaml"]


def test_a_cold_build_leaves_articles_for_the_analysis_to_read(make_site, settled, reads,
                                                               tmp_path: Path) -> None:
    from digest.build import build

    root = make_site()
    registries = ["content/topics.yaml", "content/people.yaml"]
    found, problems = discover(load_config(root), index=SourceIndex(root), defer=True)
    assert problems == []
    assert [type(s) for s in (*found.articles, *found.sidecars.values())] == [PendingSource] * 2
    assert reads == registries
    reads.clear()
    out = tmp_path / "out"
    build(root, output=out)  # no .digest-cache/ yet: a cold build
    # Found first, then read (with their stat checked on the open file) by the analysis.
    assert reads == [*registries, ARTICLE, SIDECAR]
    reads.clear()
    # The index learned what the analysis read: a build with nothing to do reads neither.
    assert build(root, output=out).files == 0
    assert reads == registries
    fresh = tmp_path / "fresh"
    build(root, output=fresh, use_cache=False)
    assert _tree(out) == _tree(fresh)


def _pending_then(make_site, replace) -> tuple[Path, PendingSource, object]:
    """What reading the article discovery left pending gives after `replace(path)`."""
    root = make_site()
    config = load_config(root)
    found, _ = discover(config, defer=True)
    source = found.articles[0]
    assert isinstance(source, PendingSource)
    replace(root / ARTICLE)
    return root, source, read_pending(source, config)


def _rewrite(path: Path) -> None:
    time.sleep(0.05)  # past the kernel's timestamp granularity
    path.write_text(path.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")


def _link_out(path: Path) -> None:
    secret = path.parent.parent.parent.parent / "secret.txt"
    secret.write_bytes(b"TOP SECRET\n")
    path.unlink()
    path.symlink_to(secret)


def _pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("replace", [_rewrite, _link_out, _pipe, Path.unlink])
def test_a_pending_file_rewritten_or_replaced_by_a_link_or_pipe_is_not_read(
        make_site, replace) -> None:
    _, _, result = _pending_then(make_site, replace)
    assert isinstance(result, Problem) and result.format_text() == CHANGED


def test_a_pending_file_left_alone_is_read(make_site) -> None:
    root, _, result = _pending_then(make_site, lambda path: None)
    assert isinstance(result, SourceText) and result.data == (root / ARTICLE).read_bytes()


def _fails_as_check_reports(root: Path, output: Path, jobs: int = 0) -> list[str]:
    """The problems a build of `root` stops with, which must be those of `digest check`
    and those found when discovery reads every file before the analysis."""
    from digest.build import build
    from digest.errors import ContentError
    from digest.pipeline import analyse

    config = load_config(root)
    found, problems = discover(config)  # reads every file
    expected = [p.format_text() for p in analyse_sources(
        config, found, problems, drafts=False, jobs=1, use_cache=False).problems]
    with pytest.raises(ContentError) as raised:
        build(root, output=output, jobs=jobs)
    assert [p.format_text() for p in raised.value.problems] == expected
    # `digest check`, cold (the failed build cached nothing) and then with its own cache.
    assert [p.format_text() for p in analyse(root, jobs=jobs).problems] == expected
    assert [p.format_text() for p in analyse(root, jobs=jobs).problems] == expected
    return expected


def test_a_pending_file_that_cannot_be_read_is_reported_as_discovery_reports_it(
        make_site, tmp_path: Path) -> None:
    from digest.parallel import LateReadFailed

    root = make_site()
    (root / ARTICLE).write_bytes(b"---\ntitle: T\n---\nBad \xff byte.\n")
    config = load_config(root)
    found, problems = discover(config, defer=True)
    with pytest.raises(LateReadFailed):
        analyse_sources(config, found, problems, drafts=False, jobs=1, use_cache=False)
    # The build reads everything again, so that the problems are those of `digest check`.
    expected = _fails_as_check_reports(root, tmp_path / "out")
    assert expected[0] == (f"{ARTICLE}:4:5: error: not valid UTF-8 (byte offset 21: 0xff)\n"
                           "    hint: save the file as UTF-8")
    assert not (tmp_path / "out").exists()


def _tree(folder: Path) -> dict[Path, bytes]:
    """The built files, but the search index: Pagefind orders some of its files
    differently on every run, and a cold build has no cached index to reuse (search.py)."""
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] != "pagefind"}


def test_cold_builds_through_workers_equal_builds_whose_discovery_reads_everything(
        tmp_path: Path, monkeypatch) -> None:
    from digest.build import build
    from digest.cache import BuildCache
    from digest.errors import ContentError

    from .test_faults import big_site

    root = big_site(tmp_path / "site", 60)  # past PARALLEL_THRESHOLD: forked workers
    # An orphan sidecar is read by discovery (it has no article to be read with).
    lonely = root / "content/articles/lonely.yaml"
    lonely.write_text((root / "content/articles/story-000.yaml").read_text(encoding="utf-8"),
                      encoding="utf-8")

    def both_ways() -> list[object]:
        """What a cold build gives, and what one gives whose discovery reads everything."""
        outcomes: list[object] = []
        for name, reads_first in (("deferred", False), ("read-first", True)):
            shutil.rmtree(root / ".digest-cache", ignore_errors=True)
            with monkeypatch.context() as patch:
                if reads_first:  # as if there were an articles' table
                    patch.setattr(BuildCache, "table_exists",
                                  staticmethod(lambda root, name: True))
                try:
                    report = build(root, output=tmp_path / name, jobs=2)
                except ContentError as error:
                    outcomes.append([p.format_text() for p in error.problems])
                else:
                    outcomes.append(([p.format_text() for p in report.warnings],
                                     _tree(tmp_path / name)))
        return outcomes

    deferred, read_first = both_ways()
    assert deferred == read_first
    assert deferred[0].startswith(  # type: ignore[index]
        "content/articles/lonely.yaml:1:1: error: sidecar has no article")
    lonely.unlink()
    deferred, read_first = both_ways()
    assert deferred == read_first
    pages = deferred[1]  # type: ignore[index]
    assert all(Path(f"articles/story-{i:03d}/index.html") in pages for i in range(60))


def test_a_pending_article_whose_sidecar_changes_meanwhile_is_built_as_it_is_now(
        make_site, settled, tmp_path: Path, monkeypatch) -> None:
    # The articles' table is gone (the first build failed, say) but the index knows the
    # sidecar: the edited article is left pending, its sidecar is unread.
    from digest import pipeline
    from digest.build import build

    root = make_site()
    out = tmp_path / "out"
    build(root, output=out)
    for table in (root / ".digest-cache").glob("articles.*"):
        table.unlink()
    article, sidecar = root / ARTICLE, root / SIDECAR
    article.write_text(article.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    load_registries = pipeline.load_registries
    saves = [0]

    def saved_meanwhile(*args, **kwargs):  # after discovery, before the analysis
        if not saves[0]:
            time.sleep(0.05)  # past the kernel's timestamp granularity
            sidecar.write_text(sidecar.read_text(encoding="utf-8").replace(
                "The Kremlin rejected", "Moscow rejected"), encoding="utf-8")
        saves[0] += 1
        return load_registries(*args, **kwargs)

    monkeypatch.setattr(pipeline, "load_registries", saved_meanwhile)
    assert build(root, output=out).files > 0
    assert saves[0] == 2  # analysed twice: the second time after reading every file
    assert "Moscow rejected" in (out / "articles/talks/index.html").read_text(encoding="utf-8")
    # What the build recorded of its inputs is what it read the second time: a build
    # with nothing changed since has nothing to do.
    assert build(root, output=out).files == 0
    fresh = tmp_path / "fresh"
    build(root, output=fresh, use_cache=False)
    assert _tree(out) == _tree(fresh)


def test_files_left_pending_are_not_learned_when_written_just_before(make_site, reads,
                                                                     tmp_path: Path) -> None:
    from digest.build import build

    root = make_site()  # written now: within SETTLED_NS of the build
    build(root, output=tmp_path / "out")
    reads.clear()
    build(root, output=tmp_path / "out")
    assert reads == [ARTICLE, SIDECAR, "content/topics.yaml", "content/people.yaml"]


def test_both_sidecars_of_an_article_are_read_on_a_cold_build(make_site,
                                                              tmp_path: Path) -> None:
    # Only one is used, but a bad one is reported, on a cold build as on any other.

    root = make_site({"content/articles/talks.yml": MINIMAL_SIDECAR})
    (root / SIDECAR).write_bytes(b"summary: Bad \xff byte.\n")
    expected = _fails_as_check_reports(root, tmp_path / "out")
    assert expected[0] == (f"{SIDECAR}:1:14: error: not valid UTF-8 (byte offset 13: 0xff)\n"
                           "    hint: save the file as UTF-8")


def test_an_unreadable_file_met_by_a_worker_is_reported_as_discovery_reports_it(
        tmp_path: Path) -> None:

    from .test_faults import big_site

    root = big_site(tmp_path / "site", 60)
    (root / "content/articles/story-041.md").write_bytes(b"---\ntitle: T\n---\nBad \xff.\n")
    expected = _fails_as_check_reports(root, tmp_path / "out", jobs=2)
    assert expected[0].startswith("content/articles/story-041.md:4:5: error: not valid UTF-8")


def test_check_reads_what_the_index_does_not_know_and_reports_what_changed(
        make_site, settled, reads, tmp_path: Path) -> None:
    from digest.build import build
    from digest.pipeline import analyse

    root = make_site()
    registries = ["content/topics.yaml", "content/people.yaml"]
    # A first check, with nothing cached: discovery leaves the article and its sidecar
    # for the analysis, which reads them once.
    assert analyse(root).problems == []
    assert reads == [*registries, ARTICLE, SIDECAR]
    reads.clear()
    assert analyse(root).problems == []  # known to the index, cached: neither is read
    assert reads == registries
    build(root, output=tmp_path / "out")
    reads.clear()
    # A sidecar saved with a mistake: read, with its article (analysed again), and the
    # mistake reported as a check reading every file reports it.
    time.sleep(0.05)  # past the kernel's timestamp granularity
    (root / SIDECAR).write_text(MINIMAL_SIDECAR + "unknown_key: 1\n", encoding="utf-8")
    problems = [p.format_text() for p in analyse(root).problems]
    assert reads == [SIDECAR, *registries, ARTICLE]
    config = load_config(root)
    found, found_problems = discover(config)
    assert problems == [p.format_text() for p in analyse_sources(
        config, found, found_problems, drafts=False, jobs=1, use_cache=False).problems]
    assert any("unknown_key" in text for text in problems)
