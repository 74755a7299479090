"""Problems found in content, and the exceptions that carry them to the CLI.

Every error a user can cause reads `path:line:col: error: message` followed by a hint,
so editors can jump straight to the spot. Exit codes: 1 content errors, 2 usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any, Literal, NamedTuple

import click

Severity = Literal["error", "warning"]


class Problem(NamedTuple):
    """One thing wrong (or suspicious) in one file, at one position.

    A named tuple, as the article records (see model.py): the build cache keeps every
    article's problems, and on a large site with warnings that is many thousands."""

    path: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: Severity = "error"
    code: str = "invalid"

    def format_text(self) -> str:
        """`path:line:col: severity: message` plus an indented hint line."""
        head = f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"
        return f"{head}\n    hint: {self.hint}" if self.hint else head

    def format_github(self) -> str:
        """A GitHub Actions workflow command that annotates the line in a pull request."""
        kind = "error" if self.severity == "error" else "warning"
        text = f"{self.message}. {self.hint}" if self.hint else self.message
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} file={self.path},line={self.line},col={self.column}::{text}"

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of `digest check --format json`."""
        data = self._asdict()
        keys = ("path", "line", "column", "severity", "code", "message", "hint")
        return {k: data[k] for k in keys}


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sort by path, then line and column, dropping exact duplicates.

    Problems compare field by field (path, line, column, message, hint, severity,
    code), so two at the same place with the same message are still put in one order:
    sorting on the place and message alone left them in the order of a set, which
    depends on the process's string hashing."""
    return sorted(set(problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean 'x'?" suffix, or "" when nothing is close."""
    import difflib  # here: only a build with a mistake in it gets this far

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def write_problems(problems: list[Problem], fmt: str, stream: IO[str]) -> None:
    """Print problems in one of the `digest check` formats: text, json or github."""
    if fmt == "json":
        stream.write(json.dumps([p.as_json() for p in problems], indent=2, ensure_ascii=False))
        stream.write("\n")
        return
    for problem in problems:
        line = problem.format_github() if fmt == "github" else problem.format_text()
        stream.write(line + "\n")


class DigestError(click.ClickException):
    """Base of every error digest reports to a user; exit status 1."""

    exit_code = 1


class ContentError(DigestError):
    """The content has problems; carries all of them, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sort_problems(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        body = "\n".join(p.format_text() for p in self.problems)
        super().__init__(f"{body}\n{len(errors)} error(s); nothing was written")

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the problems as they are, without click's 'Error:' prefix."""
        click.echo(self.message, file=file, err=True)


class OutputError(DigestError):
    """The output folder cannot be written as asked."""
