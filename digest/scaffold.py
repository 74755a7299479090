"""New sites and new articles: `digest init` and `digest new article`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from digest.errors import DigestError
from digest.schema import public_schema
from digest.slugs import slugify

SCHEMA_DIR = ".schemas"
SCHEMA_KINDS = ("sidecar", "topics", "people", "site")


def schema_comment(kind: str = "sidecar", depth: int = 2) -> str:
    """The first line of a new YAML file, pointing yaml-language-server at our schema."""
    return f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_DIR}/{kind}.json"


def write_schemas(root: Path) -> list[Path]:
    """Write the JSON Schemas editors' tools read into `root/.schemas/`."""
    folder = root / SCHEMA_DIR
    folder.mkdir(exist_ok=True)
    written = []
    for kind in SCHEMA_KINDS:
        path = folder / f"{kind}.json"
        text = json.dumps(public_schema(kind), indent=2, ensure_ascii=False) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


SITE_TOML = """\
[site]
title = "{title}"
description = "Annotated news"
base_url = "https://example.github.io/{name}/"
language = "en"
timezone = "UTC"
author = "The editors"
cname = ""

[build]
output = "_site"
theme = "default"
per_page = 10

[markdown]
allow_html = false

[search]
enabled = true

[extra]
"""

EXAMPLE_ARTICLE = """\
---
title: How this digest annotates an article
date: {date}
section: About
standfirst: An example article to show quotes, notes and events. Replace it with your own.
---

Every article in this digest is kept as Markdown, and an editor annotates it in a
YAML sidecar beside it.

“Every quote is checked against the article text,” the editors said when they set
up the site.

Notes are anchored to a passage and appear beside it; events feed the chronology.
"""

EXAMPLE_SIDECAR = """\
{comment}
summary: An example of an annotated article.
topics: [digest-howto]
quotes:
  - id: editors-every-quote
    text: Every quote is checked against the article text
    speaker: the-editors
    context: The editors describing their method.
    callout: true
notes:
  - anchor: Notes are anchored to a passage
    kind: context
    text: The passage is found with the W3C TextQuoteSelector rules.
    sources:
      - title: Web Annotation Data Model
        url: https://www.w3.org/TR/annotation-model/#text-quote-selector
events:
  - date: {date}
    title: This digest was set up
"""

TOPICS = """\
{comment}
digest-howto:
  title: How this digest works
  description: Articles about the digest itself.
"""

PEOPLE = """\
{comment}
the-editors:
  name: The editors
  role: Editors of this digest
"""

REQUIREMENTS = """\
# What .github/workflows/pages.yml installs to build this site on GitHub.
# Say where your copy of digest comes from, for example:
#   digest @ git+https://github.com/YOUR-ACCOUNT/digest@main
"""

GITIGNORE = "_site/\n.digest-cache/\n.digest-staging-*\n.digest-old-*\n"


def init_site(folder: Path, *, force: bool = False, today: dt.date | None = None) -> list[Path]:
    """Create a new site in `folder` that builds at once; refuse a non-empty folder."""
    from digest.publish import PAGES_WORKFLOW

    if folder.exists() and any(folder.iterdir()) and not force:
        raise DigestError(f"{folder} is not empty; choose a new folder or pass --force")
    day = (today or dt.date.today()).isoformat()
    name = slugify(folder.resolve().name) or "digest"
    files = {
        "site.toml": SITE_TOML.format(title=folder.resolve().name.replace("-", " ").title()
                                      or "Digest", name=name),
        "content/articles/how-this-digest-annotates.md": EXAMPLE_ARTICLE.format(date=day),
        "content/articles/how-this-digest-annotates.yaml": EXAMPLE_SIDECAR.format(
            date=day, comment=schema_comment("sidecar", 2)),
        "content/topics.yaml": TOPICS.format(comment=schema_comment("topics", 1)),
        "content/people.yaml": PEOPLE.format(comment=schema_comment("people", 1)),
        "content/pages/about.md": "---\ntitle: About\n---\n\nWhat this digest is.\n",
        ".gitignore": GITIGNORE,
        ".github/workflows/pages.yml": PAGES_WORKFLOW,
        "requirements.txt": REQUIREMENTS,
    }
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written + write_schemas(folder)


def new_article(root: Path, title: str, *, date: dt.date, source_url: str = "",
                slug: str = "") -> list[Path]:
    """Create content/articles/<slug>.md and its sidecar skeleton; never overwrite."""
    slug = slug or slugify(title)
    folder = root / "content" / "articles"
    article, sidecar = folder / f"{slug}.md", folder / f"{slug}.yaml"
    for path in (article, sidecar):
        if path.exists():
            raise DigestError(f"{path.relative_to(root)} already exists; choose another title "
                              "or pass --slug")
    folder.mkdir(parents=True, exist_ok=True)
    front = {"title": title, "date": date.isoformat()}
    if source_url:
        front["source_url"] = source_url
    lines = ["---", *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items()),
             "---", "", "Write or paste the article text here.", ""]
    article.write_text("\n".join(lines).replace('date: "', "date: ").replace(
        f'{date.isoformat()}"', date.isoformat()), encoding="utf-8")
    sidecar.write_text(
        f"{schema_comment('sidecar', 2)}\n"
        "summary: \"\"\ntopics: []\nquotes: []\nnotes: []\nevents: []\nrelated: []\n",
        encoding="utf-8")
    write_schemas(root)
    return [article, sidecar]
