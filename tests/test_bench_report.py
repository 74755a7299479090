"""benchmarks/run.py: its report names the code it measured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _described(root: Path) -> str:
    # In its own process: importing run.py changes sys.path and stops bytecode writing.
    code = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "import run; print(run.checkout_description(Path(sys.argv[2])))")
    # Git must not find a repository above the temporary folder.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(root.parent)}
    done = subprocess.run([sys.executable, "-c", code, str(BENCHMARKS), str(root)],
                          capture_output=True, text=True, timeout=120, check=True, env=env)
    return done.stdout.strip()


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_report_names_the_commit_and_whether_it_was_changed(tmp_path: Path) -> None:
    assert _described(tmp_path) == "not a git checkout"
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org",
         "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD")
    assert _described(tmp_path) == f"commit {head} (clean)"
    (tmp_path / "a.txt").write_text("two\n")
    assert _described(tmp_path) == f"commit {head} (with uncommitted changes)"


def test_a_plain_site_has_the_same_articles_without_their_annotations(tmp_path: Path) -> None:
    # `generate.py --plain` (and `run.py --plain`): the annotated site's articles and
    # topics, with sidecars of topics and summary only and no people, so that digest's
    # time on it tells the annotations' cost apart from the rest.
    corpus = BENCHMARKS.parent / "tests" / "fixtures" / "import" / "wikinews"
    for name, extra in (("annotated", []), ("plain", ["--plain"])):
        subprocess.run([sys.executable, str(BENCHMARKS / "generate.py"), "60",
                        str(tmp_path / name), "--corpus", str(corpus), *extra],
                       capture_output=True, text=True, timeout=120, check=True)
    def files(site: str, pattern: str) -> dict[str, str]:
        folder = tmp_path / site / "content" / "articles"
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob(pattern))}

    articles = files("plain", "*.md")
    assert articles == files("annotated", "*.md") and len(articles) == 60
    annotated, plain = files("annotated", "*.yaml"), files("plain", "*.yaml")
    assert plain.keys() == annotated.keys()
    for name, text in plain.items():
        full = yaml.safe_load(annotated[name])
        assert {"quotes", "notes", "events"} <= full.keys()
        assert yaml.safe_load(text) == {"summary": full["summary"], "topics": full["topics"]}
    people = tmp_path / "plain" / "content" / "people.yaml"
    assert yaml.safe_load(people.read_text(encoding="utf-8")) == {}
    checked = subprocess.run([sys.executable, "-m", "digest", "check"], cwd=tmp_path / "plain",
                             capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_bare_pipeline_builds_the_hugo_twin_the_same_with_any_number_of_processes(
        tmp_path: Path) -> None:
    # `bare.py` (`run.py --bare`): the "bare Python pipeline" reference, on the
    # Hugo twin's articles: a page per article and per tag, and the index 10 a page.
    corpus = BENCHMARKS.parent / "tests" / "fixtures" / "import" / "wikinews"
    subprocess.run([sys.executable, str(BENCHMARKS / "generate.py"), "120",
                    str(tmp_path / "site"), "--hugo", str(tmp_path / "hugo"),
                    "--corpus", str(corpus)],
                   capture_output=True, text=True, timeout=120, check=True)
    for jobs in ("1", "2"):
        subprocess.run([sys.executable, str(BENCHMARKS / "bare.py"), str(tmp_path / "hugo"),
                        str(tmp_path / f"out{jobs}"), "--jobs", jobs],
                       capture_output=True, text=True, timeout=120, check=True)
    def pages(out: str) -> dict[str, bytes]:
        folder = tmp_path / out
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    built = pages("out1")
    assert built == pages("out2")
    posts = sorted((tmp_path / "hugo" / "content" / "posts").glob("*.md"))
    fronts = [yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1]) for p in posts]
    tags = {tag for front in fronts for tag in front["tags"]}
    assert len(posts) == 120 and len(tags) > 1
    expected = ({f"posts/{p.stem}/index.html" for p in posts}
                | {f"tags/{tag}/index.html" for tag in tags}
                | {"index.html"} | {f"page/{n}/index.html" for n in range(2, 13)})
    assert set(built) == expected
    page = built[f"posts/{posts[0].stem}/index.html"].decode()
    title = fronts[0]["title"].replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")
    assert f"<h1>{title}</h1>" in page and "<p>" in page
    home = built["index.html"].decode()
    assert home.count("<li>") == 10 and '<a href="/page/2/">Older</a>' in home


def test_the_report_puts_the_bare_pipeline_beside_hugo_and_digest() -> None:
    code = """
import sys; sys.path.insert(0, sys.argv[1]); import run
def m(s): return run.Measurement(s, 30.0, 0, "")
r = run.SizeResult(1000, hugo=[m(2.0), m(2.2), m(1.8)], bare=[m(1.0), m(0.9), m(1.1)],
                   cold=[m(4.0), m(4.1), m(3.9)])
print(run.bare_table([r]))
"""
    done = subprocess.run([sys.executable, "-c", code, str(BENCHMARKS)], capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.splitlines()[-1] == "| 1,000 | 1.00 | 30 | 0.50× | 4.00× |"
