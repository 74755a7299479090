#!/usr/bin/env python3
"""The bare Python pipeline: the least a Python site generator does with the Hugo twin.

    python benchmarks/bare.py HUGO_SITE OUTPUT [--jobs N]

Reads the Hugo twin's articles (`content/posts/*.md`), and for each: its YAML front
matter with PyYAML's C loader, its body through markdown-it-pyrs (the engine digest
uses), one Jinja2 template, one write. Then a page per tag and the index, 10 articles
a page, as the twin's layouts do. Nothing is checked, cached, annotated or fed.

It is the reference the speed issue measured ("bare Python pipeline, 1 process / 2
processes"), here with digest's Markdown engine: what Python, Jinja and the same
libraries cost on these articles before any of digest's own work. `run.py --bare`
times it in each run beside Hugo.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markdown_it_pyrs import MarkdownIt
from markupsafe import Markup

PER_PAGE = 10  # `paginate = 10` in the twin's hugo.toml
CHUNK = 100  # articles a task

_BASE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% if title %}{{ title }} · {% endif %}Bench Digest</title>
</head>
<body>
<header><a href="/">Bench Digest</a> · <a href="/tags/">Tags</a></header>
<main>{% block main %}{% endblock %}</main>
</body>
</html>
"""
_TEMPLATES = {
    "base.html": _BASE,
    "single.html": """{% extends "base.html" %}{% block main %}<article>
<h1>{{ title }}</h1>
<p><time datetime="{{ date }}">{{ date }}</time></p>
<ul>{% for tag in tags %}
<li><a href="/tags/{{ tag }}/">{{ tag }}</a></li>{% endfor %}</ul>
{{ body }}
</article>{% endblock %}""",
    "list.html": """{% extends "base.html" %}{% block main %}{% if heading %}<h1>{{ heading }}</h1>
{% endif %}<ul>{% for a in articles %}
<li><a href="/posts/{{ a.slug }}/">{{ a.title }}</a>
<time>{{ a.date }}</time>{% if a.standfirst %}<p>{{ a.standfirst }}</p>{% endif %}</li>
{%- endfor %}</ul>
{% if newer %}<a href="{{ newer }}">Newer</a>{% endif %}
{%- if older %}<a href="{{ older }}">Older</a>{% endif %}
{% endblock %}""",
}

_env = jinja2.Environment(loader=jinja2.DictLoader(_TEMPLATES), autoescape=True)
_markdown = MarkdownIt("commonmark")
_output = Path()


def _write(rel: str, html: str) -> None:
    path = _output / rel / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def _article(path: Path) -> dict[str, Any]:
    """One article read, rendered and written; what the listings need of it returned."""
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.load(front, Loader=yaml.CSafeLoader)
    summary = {"slug": path.stem, "title": str(meta["title"]), "date": str(meta["date"]),
               "standfirst": str(meta.get("standfirst") or ""),
               "tags": [str(tag) for tag in meta.get("tags") or ()]}
    _write(f"posts/{path.stem}", _env.get_template("single.html").render(
        **summary, body=Markup(_markdown.render(body))))
    return summary


def _chunk(paths: list[Path]) -> list[dict[str, Any]]:
    return [_article(path) for path in paths]


def build(site: Path, output: Path, jobs: int = 1) -> int:
    """Build the bare site of the Hugo twin at `site` into `output`; return pages written."""
    global _output
    _output = output
    paths = sorted((site / "content" / "posts").glob("*.md"))
    chunks = [paths[i:i + CHUNK] for i in range(0, len(paths), CHUNK)]
    if jobs > 1 and len(chunks) > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            articles = [a for done in pool.imap(_chunk, chunks) for a in done]
    else:
        articles = [a for chunk in chunks for a in _chunk(chunk)]
    listing = _env.get_template("list.html")
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for article in articles:
        for tag in article["tags"]:
            by_tag.setdefault(tag, []).append(article)
    for tag, tagged in sorted(by_tag.items()):
        _write(f"tags/{tag}", listing.render(title=tag, heading=tag, articles=tagged))
    articles.sort(key=lambda a: (a["date"], a["slug"]), reverse=True)
    pages = max(1, -(-len(articles) // PER_PAGE))
    for number in range(1, pages + 1):
        rel = "" if number == 1 else f"page/{number}"
        newer = "" if number == 1 else "/" if number == 2 else f"/page/{number - 1}/"
        older = f"/page/{number + 1}/" if number < pages else ""
        _write(rel, listing.render(title="", heading="", newer=newer, older=older,
                                   articles=articles[(number - 1) * PER_PAGE:number * PER_PAGE]))
    return len(articles) + len(by_tag) + pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the Hugo twin (generate.py --hugo DIR)")
    parser.add_argument("output", type=Path, help="where the pages go")
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    args = parser.parse_args(argv)
    build(args.site, args.output, max(1, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
