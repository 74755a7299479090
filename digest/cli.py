"""The `digest` command line: a thin click layer over the pipeline."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from digest import __version__


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)


def _root() -> Path:
    from digest.config import find_root

    return find_root(Path.cwd())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("-v", "--verbose", count=True, help="Say more (debug logging).")
@click.option("-q", "--quiet", is_flag=True, help="Only print warnings and errors.")
def main(verbose: int, quiet: bool) -> None:
    """digest: build annotated news digests into a static site.

    Run the commands in a site folder (one holding site.toml) or below it.
    """
    _setup_logging(verbose, quiet)


@main.command()
@click.option("--base-url", metavar="URL", help="Override base_url from site.toml.")
@click.option("--output", "-o", type=click.Path(path_type=Path), metavar="DIR",
              help="Write the site here instead of [build] output (default _site).")
@click.option("--drafts", is_flag=True, help="Include articles marked draft: true.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def build(base_url: str | None, output: Path | None, drafts: bool, strict: bool) -> None:
    """Build the site into the output folder.

    Validates everything first; on any error nothing is written and the previous
    site stays as it was.
    """
    from digest.build import build as run_build

    report = run_build(_root(), base_url=base_url, output=output, drafts=drafts, strict=strict)
    for problem in report.warnings:
        click.echo(problem.format_text(), err=True)
    logging.getLogger("digest").info("%d articles, %d files written to %s (%.2f s)",
                                     report.articles, report.files, report.output,
                                     report.seconds)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]),
              default="text", show_default=True, help="How to print problems.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--drafts", is_flag=True, help="Check draft articles too.")
def check(fmt: str, strict: bool, drafts: bool) -> None:
    """Validate every file without writing the site.

    Exit status 1 when there are errors (or warnings with --strict), else 0.
    """
    from digest.build import analyse
    from digest.errors import ContentError, write_problems

    try:
        analysis = analyse(_root(), drafts=drafts)
        problems = analysis.problems
    except ContentError as exc:
        problems = exc.problems
    write_problems(problems, fmt, sys.stdout)
    errors = [p for p in problems if p.severity == "error"]
    failed = bool(errors) or (strict and bool(problems))
    if fmt == "text":
        click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)",
                   err=True)
    sys.exit(1 if failed else 0)
