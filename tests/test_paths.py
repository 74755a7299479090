"""Unsafe paths: hostile slugs, ids and keys, odd output folders and symbolic links.

After every hostile build the whole temporary tree is compared with a snapshot taken
before it: nothing may appear, change or vanish outside the output folder (and the
project's own .digest-cache/). The output sits a few folders deep so that a `../..`
that escaped it would still land inside the snapshot.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.build import build
from digest.cli import main
from digest.errors import DigestError, OutputError
from digest.writer import OutputFile, SiteWriter, check_output_dir, safe_dest, write_site

from .conftest import MINIMAL_SITE

ARTICLE = MINIMAL_SITE["content/articles/talks.md"]
SIDECAR = MINIMAL_SITE["content/articles/talks.yaml"]
TOPICS = MINIMAL_SITE["content/topics.yaml"]
PEOPLE = MINIMAL_SITE["content/people.yaml"]
IGNORED = {".digest-cache"}


def snapshot(folder: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Every entry under `folder` (links not followed): kind and content hash."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in IGNORED
                       and Path(dirpath, d) not in skip]
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[rel] = "link " + os.readlink(path)
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def hostile(make_site, tmp_path: Path):
    """Build a site with `changes` into a deep output; assert nothing changed beside it.

    Returns the error the build raised (None if it built)."""

    def run(changes: dict[str, str | None], output: Path | None = None,
            prepare=None) -> DigestError | None:
        root = make_site(changes)
        if prepare is not None:
            prepare(root)
        out = output or tmp_path / "deep" / "er" / "still" / "out"
        before = snapshot(tmp_path, skip=(out,))
        error = None
        try:
            build(root, output=out)
        except DigestError as exc:
            error = exc
        assert snapshot(tmp_path, skip=(out,)) == before
        return error

    return run


def _message(error: DigestError | None) -> str:
    assert error is not None, "the build should have been refused"
    return error.format_message()


# --------------------------------------------------------------------------- slugs, ids, keys

HOSTILE_NAMES = ["../../etc", "../../../../../../tmp/x", "/etc/passwd", "a/../../b",
                 "..", ".", "a\\..\\b", "Upper", "with space", "ünïcode", "-leading", "a\tb"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_article_slug_is_refused(hostile, name: str) -> None:
    article = ARTICLE.replace("section: World", f'slug: "{name}"'.replace("\\", "\\\\"))
    assert "content/articles/talks.md:4:7: error: 'slug' must be a slug" in _message(
        hostile({"content/articles/talks.md": article}))


def test_nul_in_a_slug_is_refused(hostile) -> None:
    article = ARTICLE.replace("section: World", 'slug: "a\\0b"')
    assert "content/articles/talks.md:4:7: error:" in _message(
        hostile({"content/articles/talks.md": article}))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("registry", ["topics", "people"])
def test_hostile_topic_and_person_keys_are_refused(hostile, registry: str, name: str) -> None:
    rel = f"content/{registry}.yaml"
    text = MINIMAL_SITE[rel] + f'"{name}":\n  {"title" if registry == "topics" else "name"}: X\n'
    assert f"{rel}:4:1: error: '" in _message(hostile({rel: text.replace("\\", "\\\\")}))


@pytest.mark.parametrize(("key", "value"), [("id: peskov-definitely-not", "id: ../../x"),
                                            ("id: istanbul-2022", "id: /abs"),
                                            ("kind: context", "kind: context\n    id: '..'"),
                                            ("[war]", "['../war']")])
def test_hostile_ids_and_references_are_refused(hostile, key: str, value: str) -> None:
    message = _message(hostile({"content/articles/talks.yaml": SIDECAR.replace(key, value)}))
    assert "content/articles/talks.yaml:" in message and "must be a slug" in message


@pytest.mark.parametrize(("name", "slug", "expected"), [
    ("about.md", "../../x", "page slug '../../x' is not a valid slug"),
    ("about.md", "/etc/x", "page slug '/etc/x' is not a valid slug"),
    ("con.md", "", "page slug 'con' is a reserved name"),
    ("articles.md", "", "page slug 'articles' collides"),
    ("static.md", "", "page slug 'static' collides"),
    ("pagefind.md", "", "page slug 'pagefind' collides"),
])
def test_hostile_page_slugs_are_refused(hostile, name: str, slug: str, expected: str) -> None:
    front = f"---\ntitle: About\n{f'slug: {slug}' if slug else ''}\n---\n\nHi.\n"
    assert expected in _message(hostile({f"content/pages/{name}": front}))


@pytest.mark.parametrize("name", ["2025-13-01", "yesterday", "2025-09-05-extra"])
def test_edition_files_must_be_named_by_date(hostile, name: str) -> None:
    assert f"content/digests/{name}.yaml:1:1: error:" in _message(
        hostile({f"content/digests/{name}.yaml": "title: X\n"}))


@pytest.mark.parametrize("name", ["20250905", "2025-W36-5"])
def test_edition_names_are_exactly_yyyy_mm_dd(hostile, name: str) -> None:
    assert f"content/digests/{name}.yaml:1:1: error:" in _message(
        hostile({f"content/digests/{name}.yaml": "title: X\n"}))


@pytest.mark.parametrize("registry", ["topics", "people"])
def test_reserved_names_are_refused_as_registry_keys(hostile, registry: str) -> None:
    rel = f"content/{registry}.yaml"
    text = MINIMAL_SITE[rel] + f'con:\n  {"title" if registry == "topics" else "name"}: X\n'
    assert f"{rel}:4:1: error:" in _message(hostile({rel: text}))


@pytest.mark.parametrize("dest", ["../x", "a/../../x", "/etc/passwd", "a\x00b", "a\\..\\b",
                                  "", ".", "a//b", "C:/x", "./a"])
def test_writer_refuses_destinations_outside_the_output(dest: str) -> None:
    with pytest.raises(OutputError, match="outside the output folder"):
        safe_dest(dest)
    with pytest.raises(OutputError):
        SiteWriter().add(OutputFile(dest, b"x", "test"))


def test_writer_refuses_a_bad_destination_even_without_site_writer(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="outside the output folder"):
        write_site({"../escape.html": OutputFile("../escape.html", b"x", "test")}, out)
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- output folders


def test_output_folder_odd_places(make_site, tmp_path: Path) -> None:
    root = make_site()
    (root / "site.toml").chmod(0o644)
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "keep.txt").write_text("precious")
    cases = [
        (Path("/"), "is the project root or contains it"),
        (root, "is the project root or contains it"),
        (tmp_path, "is the project root or contains it"),
        (root / "content", "inside content/"),
        (root / "content" / "articles", "inside content/"),
        (root / "themes" / "x", "inside themes/"),
        (root / "site.toml", "exists and is not a folder"),
        (other, "is not empty and holds no digest build"),
        (root / "content" / ".." / "content" / "x", "inside content/"),
    ]
    before = snapshot(tmp_path)
    for output, message in cases:
        with pytest.raises(OutputError, match=message):
            build(root, output=output)
    assert snapshot(tmp_path) == before
    assert (other / "keep.txt").read_text() == "precious"


def test_site_toml_output_cannot_point_at_sources(make_site, tmp_path: Path) -> None:
    for output, message in (("content/articles", "inside content/"),
                            ("../../../../../../../../..", "is the project root")):
        root = make_site({"site.toml": MINIMAL_SITE["site.toml"]
                          + f'\n[build]\noutput = "{output}"\n'})
        before = snapshot(tmp_path)
        with pytest.raises(OutputError, match=message):
            build(root)
        assert snapshot(tmp_path) == before


def test_previous_build_and_empty_folders_may_be_replaced(make_site, tmp_path: Path) -> None:
    root = make_site()
    out = tmp_path / "out"
    out.mkdir()
    build(root, output=out)  # empty: fine
    build(root, output=out)  # a digest build: fine
    assert (out / ".nojekyll").is_file()


def test_output_folder_may_not_be_a_symbolic_link(tmp_path: Path, make_site) -> None:
    root = make_site()
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "out"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="is a symbolic link"):
        check_output_dir(link, root)
    with pytest.raises(OutputError, match="is a symbolic link"):
        write_site({}, link)


def test_build_refuses_a_symlinked_output(make_site, tmp_path: Path) -> None:
    root = make_site()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (root / "_site").symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"):
        build(root)


def test_nul_in_output_is_an_error_not_a_traceback(make_site) -> None:
    # Only reachable through the API: a command line cannot carry a NUL.
    with pytest.raises(OutputError, match="not a valid path"):
        build(make_site(), output=Path("out\x00put"))


def test_output_permissions_are_not_private(make_site, tmp_path: Path) -> None:
    """The staging folder comes from mkdtemp (0700); the published site must not."""
    root = make_site()
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        build(root, output=out)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755
    assert (out / "index.html").stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- symbolic links


def test_link_to_a_system_file_is_refused(hostile) -> None:
    def link(root: Path) -> None:
        (root / "content/articles/passwd.md").symlink_to("/etc/passwd")

    message = _message(hostile({}, prepare=link))
    assert ("content/articles/passwd.md:1:1: error: symbolic link points outside the project "
            "(/etc/passwd)") in message


def test_linked_folder_to_a_system_folder_is_refused(hostile) -> None:
    def link(root: Path) -> None:
        (root / "content/pages").symlink_to("/etc")

    message = _message(hostile({}, prepare=link))
    assert "content/pages:1:1: error: symbolic link points outside the project (/etc)" in message


def test_files_below_a_linked_folder_are_refused(hostile, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "extra.md").write_text(ARTICLE)

    def link(root: Path) -> None:
        os.rename(root / "content/articles", root / "moved")
        (root / "content/articles").symlink_to(outside)

    message = _message(hostile({}, prepare=link))
    assert "content/articles:1:1: error: symbolic link points outside the project" in message
    assert "content/articles/extra.md:1:1: error: symbolic link points outside" in message


def test_a_link_out_below_a_folder_linked_within_the_project_is_refused(hostile) -> None:
    # The scan does not enter linked folders, so this file's own check must run.
    def link(root: Path) -> None:
        os.rename(root / "content/articles", root / "archive")
        (root / "archive/passwd.md").symlink_to("/etc/passwd")
        (root / "content/articles").symlink_to(root / "archive")

    message = _message(hostile({}, prepare=link))
    assert ("content/articles/passwd.md:1:1: error: symbolic link points outside the project "
            "(/etc/passwd)") in message


def test_remembered_files_are_refused_once_their_folder_is_moved_out(make_site, tmp_path: Path
                                                                    ) -> None:
    # `digest serve` keeps the texts it read; a folder moved out of the project and
    # linked back keeps the files' inodes and times, so only the link checks can tell.
    from digest.config import load_config
    from digest.sources import discover

    root = make_site()
    config = load_config(root)
    memo: dict = {}
    sources, problems = discover(config, memo)
    assert problems == [] and [s.src_rel for s in sources.articles] == [
        "content/articles/talks.md"]
    os.rename(root / "content/articles", tmp_path / "moved")
    (root / "content/articles").symlink_to(tmp_path / "moved")
    sources, problems = discover(config, memo)
    assert [p.format_text().splitlines()[0] for p in problems] == [
        f"content/articles:1:1: error: symbolic link points outside the project "
        f"({tmp_path / 'moved'})",
        f"content/articles/talks.md:1:1: error: symbolic link points outside the project "
        f"({tmp_path / 'moved' / 'talks.md'})",
        f"content/articles/talks.yaml:1:1: error: symbolic link points outside the project "
        f"({tmp_path / 'moved' / 'talks.yaml'})"]
    assert sources.articles == ()


def test_content_folder_itself_linked_outside_is_refused(hostile, tmp_path: Path) -> None:
    def link(root: Path) -> None:
        os.rename(root / "content", tmp_path / "real-content")
        (root / "content").symlink_to(tmp_path / "real-content")

    assert "content:1:1: error: folder points outside the project" in _message(
        hostile({}, prepare=link))


def test_theme_files_linked_outside_are_refused_not_published(hostile, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2")

    def link(root: Path) -> None:
        static = root / "themes/default/static"
        static.mkdir(parents=True)
        (static / "leak.txt").symlink_to(secret)

    message = _message(hostile({}, prepare=link))
    assert "themes/default/static/leak.txt:1:1: error: symbolic link points outside" in message


def test_theme_folder_linked_outside_is_refused(hostile, tmp_path: Path) -> None:
    shared = tmp_path / "shared-theme"
    (shared / "templates").mkdir(parents=True)

    def link(root: Path) -> None:
        (root / "themes").mkdir()
        (root / "themes/default").symlink_to(shared)

    assert "themes/default:1:1: error: folder points outside the project" in _message(
        hostile({}, prepare=link))


def test_link_loops_are_an_error_not_a_traceback(hostile) -> None:
    def link(root: Path) -> None:
        (root / "content/articles/a.md").symlink_to(root / "content/articles/b.md")
        (root / "content/articles/b.md").symlink_to(root / "content/articles/a.md")

    assert "content/articles/a.md:1:1: error: symbolic link is part of a loop" in _message(
        hostile({}, prepare=link))


def test_links_inside_the_project_are_allowed(make_site, tmp_path: Path) -> None:
    root = make_site()
    (root / "shared").mkdir()
    os.rename(root / "content/articles/talks.yaml", root / "shared/talks.yaml")
    (root / "content/articles/talks.yaml").symlink_to("../../shared/talks.yaml")
    build(root, output=tmp_path / "out")
    assert (tmp_path / "out/articles/talks/index.html").is_file()


@pytest.mark.parametrize(("output", "message"), [
    ("/", "is the project root or contains it"),
    (".", "is the project root or contains it"),
    ("content/articles", "inside content/"),
    ("site.toml", "exists and is not a folder"),
])
def test_cli_refuses_odd_outputs_cleanly(make_site, monkeypatch, output: str,
                                         message: str) -> None:
    root = make_site()
    monkeypatch.chdir(root)
    before = snapshot(root.parent)
    result = CliRunner().invoke(main, ["build", "--output", output])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(root.parent) == before
