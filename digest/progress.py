"""A progress bar for long builds: shown only on a terminal, after about two seconds,
and never with -q."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import click

DELAY = 2.0


class Progress:
    """Counts work done; draws click's progress bar once the work has taken DELAY s."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self._bar: Any = None
        self.enabled = (sys.stderr.isatty()
                        and logging.getLogger("digest").getEffectiveLevel() <= logging.INFO)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        if self._bar is None and time.monotonic() - self.started >= DELAY:
            self._bar = click.progressbar(length=self.total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
            self._bar.update(self.done)
        elif self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
