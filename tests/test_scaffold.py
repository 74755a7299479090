"""`digest init`, `digest new article` and `digest import`, end to end through the CLI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from digest.build import build
from digest.cli import main

from .conftest import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def invoke(cwd: Path, *args: str) -> Result:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def test_init_new_import_build(tmp_path: Path) -> None:
    result = invoke(tmp_path, "init", "brief")
    assert result.exit_code == 0, result.output
    site = tmp_path / "brief"
    for rel in ("site.toml", "content/topics.yaml", "content/people.yaml", ".gitignore",
                ".github/workflows/pages.yml", ".schemas/sidecar.json",
                "content/articles/how-this-digest-annotates.md",
                "content/articles/how-this-digest-annotates.yaml"):
        assert (site / rel).is_file(), rel
    assert build(site).articles == 1

    result = invoke(site, "new", "article", "Zürich’s tram: a new line!", "--date",
                    "2025-09-01", "--source-url", "https://example.com/tram")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "created content/articles/zurichs-tram-a-new-line.md",
        "created content/articles/zurichs-tram-a-new-line.yaml",
    ]
    sidecar = (site / "content/articles/zurichs-tram-a-new-line.yaml").read_text()
    assert sidecar.startswith("# yaml-language-server: $schema=../../.schemas/sidecar.json\n")
    front = (site / "content/articles/zurichs-tram-a-new-line.md").read_text()
    assert "date: 2025-09-01\n" in front and "source_url: \"https://example.com/tram\"" in front

    seed = FIXTURES / "seed" / "000_9617dbfece6596ca.txt"
    wikinews = sorted((FIXTURES / "wikinews").glob("2020-*navalny*.txt"))[:1]
    result = invoke(site, "import", str(seed), *map(str, wikinews))
    assert result.exit_code == 0, result.output
    assert "wrote content/people.yaml" in result.output
    people = yaml.safe_load((site / "content/people.yaml").read_text())
    assert {"dmitry-peskov", "vladimir-putin", "the-editors"} <= set(people)

    report = build(site)
    assert report.articles == 3 + len(wikinews)
    page = (site / "_site/articles/russia-rejects-foreign-troops-as-security-guarantees-for-"
            "ukraine/index.html").read_text()
    assert 'data-speaker="dmitry-peskov"' in page


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine")
    result = invoke(tmp_path, "init", "site")
    assert result.exit_code == 1
    assert result.output == "Error: site is not empty; choose a new folder or pass --force\n"
    assert invoke(tmp_path, "init", "site", "--force").exit_code == 0
    assert (tmp_path / "site" / "notes.txt").read_text() == "mine"


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    invoke(tmp_path, "init", "site")
    site = tmp_path / "site"
    assert invoke(site, "new", "article", "Same title").exit_code == 0
    result = invoke(site, "new", "article", "Same title")
    assert result.exit_code == 1
    assert result.output == ("Error: content/articles/same-title.md already exists; choose "
                             "another title or pass --slug\n")
    result = invoke(site, "new", "article", "X", "--date", "2025-13-01")
    assert result.exit_code == 2
    assert "'2025-13-01' is not a date; use YYYY-MM-DD" in result.output


def test_import_never_overwrites_edits(tmp_path: Path) -> None:
    invoke(tmp_path, "init", "site")
    site = tmp_path / "site"
    seed = str(REPO_ROOT / "seeds" / "000_9617dbfece6596ca.txt")
    assert invoke(site, "import", seed).exit_code == 0
    again = invoke(site, "import", seed)
    assert (again.exit_code, again.output) == (0, "")
    sidecar = site / "content/articles/russia-rejects-foreign-troops-as-security-guarantees-for-"\
        "ukraine.yaml"
    sidecar.write_text(sidecar.read_text().replace("summary: ''", "summary: Edited."))
    result = invoke(site, "import", seed)
    assert result.exit_code == 1
    assert result.output == (
        "Error: content/articles/russia-rejects-foreign-troops-as-security-guarantees-for-"
        "ukraine.yaml exists and differs from the import; edit it by hand or pass --force to "
        "overwrite\n")
    assert "Edited." in sidecar.read_text()
    assert invoke(site, "import", "--force", seed).exit_code == 0
    assert "Edited." not in sidecar.read_text()


def test_import_rejects_unknown_format(tmp_path: Path) -> None:
    invoke(tmp_path, "init", "site")
    site = tmp_path / "site"
    odd = site / "odd.txt"
    odd.write_text("Just some text\nwithout any header\n")
    result = invoke(site, "import", "odd.txt")
    assert result.exit_code == 1
    assert result.output == (
        "Error: odd.txt:1:1: unknown import format: expected the seed format (line 1 ' date "
        "YYYY-MM-DD SECTION') or the Wikinews extract format (title, YYYY-MM-DD date, source "
        "URL, blank line, paragraphs)\n")


def test_import_of_the_wikinews_fixtures_builds(tmp_path: Path) -> None:
    invoke(tmp_path, "init", "site")
    site = tmp_path / "site"
    files = sorted(str(p) for p in (FIXTURES / "wikinews").glob("*.txt")
                   if p.name[0].isdigit())
    assert len(files) >= 10
    result = invoke(site, "import", *files)
    assert result.exit_code == 0, result.output
    assert build(site).articles == 1 + len(files)
    shutil.rmtree(site / "_site")
